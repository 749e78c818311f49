"""Tiny models built from configs into temporary folders, for the ml core tests.

Nothing is downloaded: a word-level tokenizer is trained on a few sentences, and random
Llama / BERT / sentence-transformers models of a few thousand parameters are saved around it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SENTENCES = [
    "I lost my job today and I feel lost",
    "my dog died last week and the house is so quiet",
    "I am sorry to hear that , it sounds really hard",
    "that must be painful , I am here for you",
    "you are not alone in this and it will get better",
    "score 1 2 3 4 5 out of five",
    "the weather was nice so we went for a long walk",
]
SPECIAL_TOKENS = ["<pad>", "<unk>", "<bos>", "<eos>", "<|im_start|>", "<|im_end|>", "[CLS]", "[SEP]"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|> {{ message['role'] }} {{ message['content'] }} <|im_end|> "
    "{% endfor %}{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)


def build_word_tokenizer(*, for_encoder: bool = False, chat_template: str | None = CHAT_TEMPLATE):
    """A whitespace word-level tokenizer over SENTENCES (plus role words), wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    trainer = trainers.WordLevelTrainer(special_tokens=SPECIAL_TOKENS)
    tokenizer.train_from_iterator([*SENTENCES, "system user assistant"], trainer=trainer)
    if for_encoder:
        cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
        tokenizer.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", cls_token="[CLS]", sep_token="[SEP]"
        )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", bos_token="<bos>", eos_token="<eos>"
    )
    if chat_template:
        wrapped.chat_template = chat_template
    return wrapped


def save_tiny_llama(folder: Path, *, chat_template: str | None = CHAT_TEMPLATE) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_word_tokenizer(chat_template=chat_template)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        # A wide init makes the logits peaked, so greedy argmax is not decided by rounding noise.
        initializer_range=0.5,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_bert_regressor(folder: Path, *, num_labels: int = 4, id2label: dict[int, str] | None = None) -> Path:
    from transformers import BertConfig, BertForSequenceClassification

    tokenizer = build_word_tokenizer(for_encoder=True)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=128,
        initializer_range=0.3,  # so different texts get clearly different scores
        pad_token_id=tokenizer.pad_token_id,
        num_labels=num_labels,
        problem_type="regression",
        **({"id2label": id2label, "label2id": {v: k for k, v in id2label.items()}} if id2label else {}),
    )
    torch.manual_seed(1)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_sentence_encoder(folder: Path) -> Path:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel

    encoder_folder = folder.parent / f"{folder.name}-encoder"
    tokenizer = build_word_tokenizer(for_encoder=True)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(2)
    BertModel(config).save_pretrained(encoder_folder)
    tokenizer.save_pretrained(encoder_folder)
    transformer = Transformer(str(encoder_folder), max_seq_length=64)
    SentenceTransformer(modules=[transformer, Pooling(32, "mean")], device="cpu").save(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_llama_path(tmp_path_factory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_llama_without_template_path(tmp_path_factory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama-plain"), chat_template=None)


@pytest.fixture(scope="session")
def tiny_regressor_path(tmp_path_factory) -> Path:
    return save_tiny_bert_regressor(tmp_path_factory.mktemp("tiny-regressor"))


@pytest.fixture(scope="session")
def tiny_sentence_encoder_path(tmp_path_factory) -> Path:
    return save_tiny_sentence_encoder(tmp_path_factory.mktemp("tiny-st") / "model")


@pytest.fixture(scope="session")
def tiny_generator(tiny_llama_path):
    from ml.core.generation import Generator

    return Generator(tiny_llama_path, device="cpu")


@pytest.fixture
def make_tiny_regressor(tmp_path):
    """Builds a tiny regressor with custom head settings: ``make_tiny_regressor(id2label=...)``."""

    def make(**options) -> Path:
        return save_tiny_bert_regressor(tmp_path / f"regressor-{len(list(tmp_path.iterdir()))}", **options)

    return make
