"""Cheap checks that a folder is a model of a given kind, before it is registered or loaded.

They read files only (config, tokenizer files, weight file names), never the weights, so the
registry can refuse a bad upload in a request and say why in words.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ml.core.errors import ModelLoadError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model")
KIND_WORDS = {
    "generator": "a text generator (causal language model)",
    "judge": "an LLM judge (chat causal language model)",
    "scorer": "a reward model (encoder or LM with a regression head)",
    "similarity": "a sentence-similarity bi-encoder",
}
# Heads whose presence says what a checkpoint was trained for.
_CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")
_SEQUENCE_HEAD_SUFFIX = "ForSequenceClassification"


def check_loadable(path: str | os.PathLike[str], kind: str) -> None:
    """Returns None when ``path`` looks loadable as ``kind``; raises ``ModelLoadError`` otherwise.

    kinds: ``generator``, ``judge`` (also needs a chat template), ``scorer`` (a sequence
    classification head, or a bare encoder whose head will be added), ``similarity`` (a
    sentence-transformers folder or a bare encoder). The message names the first problem found.
    """
    if kind not in KIND_WORDS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(KIND_WORDS)}")
    folder = Path(path)
    if not folder.exists():
        raise ModelLoadError(f"{folder} does not exist")
    if not folder.is_dir():
        raise ModelLoadError(f"{folder} is a file; a model is a folder with config.json, weights and a tokenizer")

    if (folder / "adapter_config.json").is_file() and not (folder / "config.json").is_file():
        _check_adapter(folder, kind)
        return
    model_folder = _transformer_folder(folder) if kind == "similarity" else folder
    config = _read_json(model_folder / "config.json", what="config.json")
    if not isinstance(config, dict) or not config.get("model_type"):
        raise ModelLoadError(f"{model_folder / 'config.json'} has no model_type, so no model class can be chosen")
    _check_model_type_known(config["model_type"])
    if not any((model_folder / name).is_file() for name in WEIGHT_FILES):
        raise ModelLoadError(
            f"{model_folder} has no weights (expected one of {', '.join(WEIGHT_FILES)}); "
            "a GGUF file must be converted first"
        )
    tokenizer_config = _check_tokenizer(model_folder)
    _check_architecture(config, kind, model_folder)
    if kind == "judge" and not _has_chat_template(model_folder, tokenizer_config):
        raise ModelLoadError(
            f"{model_folder} has no chat template, and the judge prompts the model with chat messages; "
            "register an instruction-tuned model"
        )


def _check_adapter(folder: Path, kind: str) -> None:
    """A LoRA adapter (peft) loads as its base plus the adapter: the base must be a loadable ``kind``
    and the adapter's weights present; transformers' ``from_pretrained`` then loads both."""
    adapter = _read_json(folder / "adapter_config.json", what="adapter_config.json")
    base = adapter.get("base_model_name_or_path") if isinstance(adapter, dict) else None
    if not base or not Path(base).is_dir():
        raise ModelLoadError(f"{folder} is a LoRA adapter whose base {base!r} is not a folder on this host")
    if not any((folder / name).is_file() for name in ("adapter_model.safetensors", "adapter_model.bin")):
        raise ModelLoadError(f"{folder} is a LoRA adapter without adapter weights")
    try:
        check_loadable(base, kind)
    except ModelLoadError as exc:
        raise ModelLoadError(f"{folder} is a LoRA adapter over {base}, which is not usable: {exc}") from exc


def _read_json(file: Path, *, what: str) -> object:
    if not file.is_file():
        raise ModelLoadError(f"{file.parent} has no {what}")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{file} is not valid JSON ({exc})") from exc


def _transformer_folder(folder: Path) -> Path:
    """The folder holding the transformer of a sentence-transformers model (often the root itself)."""
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        return folder
    modules = _read_json(modules_file, what="modules.json")
    if not isinstance(modules, list) or not modules:
        raise ModelLoadError(f"{modules_file} lists no modules")
    first = modules[0]
    if not isinstance(first, dict) or "Transformer" not in str(first.get("type", "")):
        raise ModelLoadError(f"{modules_file} does not start with a Transformer module")
    return folder / str(first.get("path", "") or ".")


def _check_model_type_known(model_type: str) -> None:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    if model_type not in CONFIG_MAPPING_NAMES:
        raise ModelLoadError(f"model_type {model_type!r} is not known to the installed transformers")


def _check_tokenizer(folder: Path) -> dict:
    tokenizer_config: dict = {}
    config_file = folder / "tokenizer_config.json"
    if config_file.is_file():
        loaded = _read_json(config_file, what="tokenizer_config.json")
        tokenizer_config = loaded if isinstance(loaded, dict) else {}
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelLoadError(
            f"{folder} has no tokenizer (expected one of {', '.join(TOKENIZER_FILES)}); save the tokenizer "
            "beside the model"
        )
    return tokenizer_config


def _check_architecture(config: dict, kind: str, folder: Path) -> None:
    architectures = [str(name) for name in config.get("architectures") or []]
    is_causal = any(name.endswith(_CAUSAL_SUFFIXES) for name in architectures)
    has_sequence_head = any(name.endswith(_SEQUENCE_HEAD_SUFFIX) for name in architectures)
    described = ", ".join(architectures) or f"model_type {config['model_type']}"
    if kind in {"generator", "judge"}:
        if not is_causal:
            raise ModelLoadError(
                f"{folder} is {described}, which cannot generate text; {kind} needs {KIND_WORDS[kind]}"
            )
        return
    if is_causal:
        raise ModelLoadError(f"{folder} is {described}, a text generator; {kind} needs {KIND_WORDS[kind]}")
    if kind == "similarity" and has_sequence_head:
        raise ModelLoadError(f"{folder} is {described}, a classifier; similarity needs {KIND_WORDS[kind]}")


def _has_chat_template(folder: Path, tokenizer_config: dict) -> bool:
    if tokenizer_config.get("chat_template"):
        return True
    return (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file()
