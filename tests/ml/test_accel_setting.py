"""One setting, ML_ACCELERATION (RESONANCE_ML_ACCEL), chooses the accelerated or the plain path for jobs."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from ml.core.accel.decoder import CachedDecoder
from ml.core.cache import default_cache
from ml.core.generation import TransformersDecoder
from ml.core.reward_model import RewardModelScorer
from ml.services.running import load_model
from webapp.settings.env import ConfigError

BASE_SETTINGS = Path(__file__).resolve().parents[2] / "webapp" / "settings" / "base.py"


@pytest.fixture
def fresh_cache():
    default_cache.clear()
    yield
    default_cache.clear()


@pytest.mark.parametrize(("setting", "decoder"), [("off", TransformersDecoder), ("auto", CachedDecoder)])
def test_jobs_load_generators_on_the_path_the_setting_names(settings, fresh_cache, tiny_llama_path, setting, decoder):
    settings.ML_ACCELERATION = setting

    generator = load_model("generator", str(tiny_llama_path), version_key="setting-test", device="cpu")

    assert type(generator.decoder) is decoder


def test_off_reaches_the_scorers_of_jobs(settings, fresh_cache, tiny_regressor_path):
    from ml.core.accel.first_token_head import FirstTokenLayer

    settings.ML_ACCELERATION = "off"

    scorer = load_model("scorer", str(tiny_regressor_path), version_key="setting-test", device="cpu")

    assert isinstance(scorer, RewardModelScorer)
    assert not any(isinstance(module, FirstTokenLayer) for module in scorer.model.modules())


def test_the_default_is_auto_and_an_unknown_value_stops_the_start(monkeypatch):
    monkeypatch.delenv("RESONANCE_ML_ACCEL", raising=False)
    assert runpy.run_path(str(BASE_SETTINGS))["ML_ACCELERATION"] == "auto"
    monkeypatch.setenv("RESONANCE_ML_ACCEL", "off")
    assert runpy.run_path(str(BASE_SETTINGS))["ML_ACCELERATION"] == "off"

    monkeypatch.setenv("RESONANCE_ML_ACCEL", "fast")
    with pytest.raises(ConfigError, match="RESONANCE_ML_ACCEL='fast' is not auto or off"):
        runpy.run_path(str(BASE_SETTINGS))
