"""The DPO export is loaded unchanged by ``datasets`` and accepted as-is by TRL's DPOTrainer.

A tiny random Llama and a word-level tokenizer are built from configs (nothing is downloaded).
"""

import copy
import os

import pytest

from studies.export import export_filters, export_write
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|> {{ message['role'] }} {{ message['content'] }} <|im_end|> "
    "{% endfor %}{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)


def tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["<pad>", "<unk>", "<bos>", "<eos>", "<|im_start|>", "<|im_end|>"]
    tokenizer.train_from_iterator(
        ["I feel low today Reply from to user assistant seeker prompt ext"],
        trainer=trainers.WordLevelTrainer(special_tokens=specials),
    )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", bos_token="<bos>", eos_token="<eos>"
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def tiny_llama(tokenizer):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    return LlamaForCausalLM(config)


def dpo_trainer(dataset, tmp_path, *, max_steps=1):
    from trl import DPOConfig, DPOTrainer

    tokenizer = tiny_tokenizer()
    model = tiny_llama(tokenizer)
    args = DPOConfig(
        output_dir=str(tmp_path / "out"), max_steps=max_steps, per_device_train_batch_size=2, report_to=[],
        use_cpu=True, save_strategy="no", logging_steps=1,
    )  # fmt: skip
    # The reference model is passed in because the random model has no path TRL could reload it from.
    return DPOTrainer(
        model=model,
        ref_model=copy.deepcopy(model),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )


@pytest.fixture
def dpo_file(make_study, tmp_path):
    study = make_study(n_prompts=6)
    rows = [
        (f"w{k}", prompt(i), ALPHA, BETA, "ab"[(i + k) % 3 == 0], "ab"[k % 2], "overall")
        for i in range(6)
        for k in range(3)
    ]
    import_judgments(study, rows)
    path = tmp_path / "prefs.jsonl"
    manifest = export_write(study, path=path, format="dpo", filters=export_filters(study))
    assert manifest["counts"]["records"] == 6
    return path


@pytest.mark.slow
@pytest.mark.django_db
def test_conversational_export_trains_a_dpo_step_unchanged(dpo_file, tmp_path):
    from datasets import load_dataset

    dataset = load_dataset("json", data_files=str(dpo_file), split="train")
    assert dataset.num_rows == 6
    trainer = dpo_trainer(dataset, tmp_path)
    tokenized = trainer.train_dataset[0]
    assert tokenized["prompt_ids"] and tokenized["chosen_ids"] and tokenized["rejected_ids"]
    result = trainer.train()
    assert result.training_loss == pytest.approx(0.6931, abs=0.01)  # log 2: policy equals reference at step 1


@pytest.mark.slow
@pytest.mark.django_db
def test_plain_text_columns_form_trls_standard_preference_format(dpo_file, tmp_path):
    from datasets import load_dataset

    dataset = load_dataset("json", data_files=str(dpo_file), split="train")
    standard = dataset.select_columns(["prompt_text", "chosen_text", "rejected_text"]).rename_columns(
        {"prompt_text": "prompt", "chosen_text": "chosen", "rejected_text": "rejected"}
    )
    trainer = dpo_trainer(standard, tmp_path)
    first = trainer.train_dataset[0]
    tokenizer = trainer.processing_class
    assert first["chosen_ids"][-1] == tokenizer.eos_token_id  # TRL appended EOS: it read the standard format
