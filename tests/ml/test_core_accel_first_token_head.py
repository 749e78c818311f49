"""The last encoder layer computed for the first token only gives the head the same input."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from ml.core.accel.first_token_head import FirstTokenLayer, last_layer_computes_first_token_only

TEXTS = [
    "I am so sorry",
    "that must be painful , I am here for you",
    "ok",
    "you are not alone in this at all",
]


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_scores_equal_the_full_models_on_a_padded_batch(tiny_regressor_path, attention):
    tokenizer = AutoTokenizer.from_pretrained(tiny_regressor_path)
    full = AutoModelForSequenceClassification.from_pretrained(
        tiny_regressor_path, attn_implementation=attention
    ).eval()
    trimmed = AutoModelForSequenceClassification.from_pretrained(
        tiny_regressor_path, attn_implementation=attention
    ).eval()
    inputs = tokenizer(TEXTS, padding=True, return_tensors="pt")
    assert not inputs["attention_mask"].all()  # padding present, so the mask matters

    assert last_layer_computes_first_token_only(trimmed)

    assert isinstance(trimmed.bert.encoder.layer[-1], FirstTokenLayer)
    with torch.inference_mode():
        assert torch.allclose(trimmed(**inputs).logits, full(**inputs).logits, atol=1e-5)


def test_models_whose_head_reads_every_token_are_left_alone(tiny_llama_path):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_path)
    assert not last_layer_computes_first_token_only(model)
