"""The per-process model cache loads each model once and drops the least recently used."""

from __future__ import annotations

import pytest

from ml.core.cache import ModelCache, load_model
from ml.core.generation import Generator


def test_second_request_for_the_same_key_does_not_load_again():
    cache = ModelCache(capacity=2)
    loads: list[str] = []

    first = cache.get_or_load(("v1", "scorer", "cpu"), lambda: loads.append("v1") or object())
    again = cache.get_or_load(("v1", "scorer", "cpu"), lambda: loads.append("v1") or object())

    assert first is again
    assert loads == ["v1"]
    assert cache.loads == 1


def test_least_recently_used_model_is_dropped_when_full():
    cache = ModelCache(capacity=2)
    for key in ("a", "b"):
        cache.get_or_load((key, "scorer", "cpu"), object)
    cache.get_or_load(("a", "scorer", "cpu"), object)  # "a" is now the most recent

    cache.get_or_load(("c", "scorer", "cpu"), object)

    assert cache.keys() == [("a", "scorer", "cpu"), ("c", "scorer", "cpu")]


def test_same_version_on_another_device_or_kind_is_a_different_entry():
    cache = ModelCache(capacity=3)
    cache.get_or_load(("v1", "generator", "cpu"), object)
    cache.get_or_load(("v1", "judge", "cpu"), object)
    cache.get_or_load(("v1", "generator", "cuda"), object)
    assert cache.loads == 3


def test_a_failed_load_caches_nothing():
    cache = ModelCache(capacity=2)

    def broken():
        raise OSError("disk gone")

    with pytest.raises(OSError):
        cache.get_or_load(("v1", "scorer", "cpu"), broken)
    assert cache.keys() == []


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        ModelCache(capacity=0)


def test_load_model_builds_the_class_for_the_kind_once(tiny_llama_path):
    cache = ModelCache(capacity=2)

    first = load_model("generator", tiny_llama_path, version_key="v1", device="cpu", cache=cache)
    again = load_model("generator", tiny_llama_path, version_key="v1", device="cpu", cache=cache)

    assert isinstance(first, Generator)
    assert first is again
    assert cache.keys() == [("v1", "generator", "cpu", ())]


def test_load_model_refuses_unknown_kinds(tiny_llama_path):
    with pytest.raises(ValueError, match="unknown model kind"):
        load_model("translator", tiny_llama_path, cache=ModelCache())


def test_an_acceleration_is_a_load_option_of_the_kinds_that_have_one(tiny_llama_path, tiny_sentence_encoder_path):
    from ml.core.accel.decoder import CachedDecoder
    from ml.core.generation import TransformersDecoder

    cache = ModelCache(capacity=3)

    plain = load_model("generator", tiny_llama_path, version_key="v1", device="cpu", cache=cache, acceleration="off")
    fast = load_model("generator", tiny_llama_path, version_key="v1", device="cpu", cache=cache, acceleration="auto")
    load_model("similarity", tiny_sentence_encoder_path, version_key="v2", device="cpu", cache=cache,
               acceleration="off")

    assert (type(plain.decoder), type(fast.decoder)) == (TransformersDecoder, CachedDecoder)
    assert cache.keys() == [("v1", "generator", "cpu", (("acceleration", "off"),)),
                            ("v1", "generator", "cpu", (("acceleration", "auto"),)),
                            ("v2", "similarity", "cpu", ())]
