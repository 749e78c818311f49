"""check_loadable accepts well-formed model folders and refuses bad ones with a reason."""

from __future__ import annotations

import json
import shutil

import pytest

from ml.core.errors import ModelLoadError
from ml.core.registry_checks import check_loadable


@pytest.mark.parametrize("kind", ["generator", "judge"])
def test_a_chat_causal_lm_is_a_generator_and_a_judge(tiny_llama_path, kind):
    assert check_loadable(tiny_llama_path, kind) is None


def test_a_regression_model_is_a_scorer(tiny_regressor_path):
    assert check_loadable(tiny_regressor_path, "scorer") is None


def test_a_sentence_transformers_folder_is_a_similarity_model(tiny_sentence_encoder_path):
    assert check_loadable(tiny_sentence_encoder_path, "similarity") is None


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        check_loadable(tmp_path / "missing", "generator")


def test_a_file_instead_of_a_folder_is_refused(tmp_path):
    weights = tmp_path / "model.gguf"
    weights.write_bytes(b"GGUF")
    with pytest.raises(ModelLoadError, match="is a file"):
        check_loadable(weights, "generator")


def test_a_folder_without_config_is_refused(tiny_llama_path, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_llama_path, folder)
    (folder / "config.json").unlink()
    with pytest.raises(ModelLoadError, match="has no config.json"):
        check_loadable(folder, "generator")


def test_a_broken_config_is_refused(tiny_llama_path, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_llama_path, folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        check_loadable(folder, "generator")


def test_an_unknown_model_type_is_refused(tiny_llama_path, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_llama_path, folder)
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "no-such-architecture"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="not known to the installed transformers"):
        check_loadable(folder, "generator")


def test_a_folder_without_weights_is_refused(tiny_llama_path, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_llama_path, folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="has no weights"):
        check_loadable(folder, "generator")


def test_a_folder_without_tokenizer_is_refused(tiny_llama_path, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_llama_path, folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelLoadError, match="has no tokenizer"):
        check_loadable(folder, "generator")


def test_a_classifier_is_not_a_generator(tiny_regressor_path):
    with pytest.raises(ModelLoadError, match="cannot generate text"):
        check_loadable(tiny_regressor_path, "generator")


def test_a_generator_is_not_a_scorer_nor_a_similarity_model(tiny_llama_path):
    with pytest.raises(ModelLoadError, match="a text generator; scorer needs"):
        check_loadable(tiny_llama_path, "scorer")
    with pytest.raises(ModelLoadError, match="a text generator; similarity needs"):
        check_loadable(tiny_llama_path, "similarity")


def test_a_judge_needs_a_chat_template(tiny_llama_without_template_path):
    check_loadable(tiny_llama_without_template_path, "generator")
    with pytest.raises(ModelLoadError, match="no chat template"):
        check_loadable(tiny_llama_without_template_path, "judge")


def test_an_unknown_kind_is_a_programming_error(tiny_llama_path):
    with pytest.raises(ValueError, match="unknown model kind"):
        check_loadable(tiny_llama_path, "translator")
