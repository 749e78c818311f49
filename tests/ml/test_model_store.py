"""Versions in a shared model store, copied into each host's local cache on first use and checked on the way."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ml.services.model_store import (
    COMPLETE,
    ModelStoreError,
    folder_checksum,
    models_storage,
    version_local_folder,
    version_publish,
)


@pytest.fixture
def in_memory_store(settings, tmp_path):
    """Any Django storage backend will do: here Django's in-memory one, so nothing is on a shared disk."""
    settings.STORAGES = {**settings.STORAGES, "models": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    settings.RESONANCE_MODEL_CACHE = tmp_path / "cache-host-a"


def _model_folder(root: Path) -> Path:
    folder = root / "trained"
    (folder / "adapter").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "adapter" / "weights.bin").write_bytes(bytes(range(256)) * 4096)
    return folder


def _version(name: str, artifact: dict | None, path: str = "/trained/on/another/host"):
    return SimpleNamespace(name=name, path=path, training_settings={"artifact": artifact} if artifact else {})


def test_a_published_version_is_copied_whole_into_the_local_cache_once(in_memory_store, tmp_path):
    folder = _model_folder(tmp_path)
    assert type(models_storage()).__name__ == "InMemoryStorage"
    artifact = version_publish(folder=folder, name="minilm-rm-2")
    assert artifact["files"] == 2 and artifact["sha256"] == folder_checksum(folder=folder)["sha256"]
    local = version_local_folder(_version("minilm-rm-2", artifact))
    assert local.is_relative_to(tmp_path / "cache-host-a") and (local / COMPLETE).is_file()
    assert (local / "adapter" / "weights.bin").read_bytes() == (folder / "adapter" / "weights.bin").read_bytes()
    assert folder_checksum(folder=local) == folder_checksum(folder=folder)
    stamp = (local / "config.json").stat().st_mtime_ns
    assert version_local_folder(_version("minilm-rm-2", artifact)) == local  # the second use copies nothing
    assert (local / "config.json").stat().st_mtime_ns == stamp


def test_another_host_with_its_own_cache_gets_its_own_checked_copy(in_memory_store, settings, tmp_path):
    artifact = version_publish(folder=_model_folder(tmp_path), name="minilm-rm-2")
    first = version_local_folder(_version("minilm-rm-2", artifact))
    settings.RESONANCE_MODEL_CACHE = tmp_path / "cache-host-b"
    second = version_local_folder(_version("minilm-rm-2", artifact))
    assert second != first and second.is_relative_to(tmp_path / "cache-host-b")
    assert folder_checksum(folder=second) == folder_checksum(folder=first)


def test_a_corrupted_file_in_the_store_is_refused_by_name_and_nothing_is_cached(in_memory_store, tmp_path):
    artifact = version_publish(folder=_model_folder(tmp_path), name="minilm-rm-3")
    storage = models_storage()
    storage.delete("versions/minilm-rm-3/adapter/weights.bin")
    from django.core.files.base import ContentFile

    storage.save("versions/minilm-rm-3/adapter/weights.bin", ContentFile(b"not the weights"))
    with pytest.raises(ModelStoreError, match=r"minilm-rm-3: adapter/weights.bin does not match its checksum"):
        version_local_folder(_version("minilm-rm-3", artifact))
    cache = tmp_path / "cache-host-a" / "store"
    assert not cache.exists() or not any(cache.iterdir())


def test_a_version_never_published_says_so(in_memory_store):
    with pytest.raises(ModelStoreError, match="MANIFEST.json is missing"):
        version_local_folder(_version("ghost", {"store_key": "versions/ghost", "sha256": "0" * 64}))


def test_a_republished_version_with_other_files_is_not_taken_for_the_old_one(in_memory_store, tmp_path):
    old = version_publish(folder=_model_folder(tmp_path), name="rm")
    (tmp_path / "trained" / "config.json").write_text('{"model_type": "roberta"}')
    version_publish(folder=tmp_path / "trained", name="rm")
    with pytest.raises(ModelStoreError, match="the store holds another publication"):
        version_local_folder(_version("rm", old))


def test_a_version_registered_from_a_local_folder_is_used_where_it_is(in_memory_store):
    assert version_local_folder(_version("default-minilm", None, path="/models/minilm")) == Path("/models/minilm")


def test_without_a_configured_backend_the_store_is_the_model_store_folder(settings, tmp_path):
    settings.RESONANCE_MODEL_STORE = tmp_path / "store"
    settings.RESONANCE_MODEL_CACHE = tmp_path / "cache"
    artifact = version_publish(folder=_model_folder(tmp_path), name="rm-fs")
    assert (tmp_path / "store" / "versions" / "rm-fs" / "MANIFEST.json").is_file()
    assert folder_checksum(folder=version_local_folder(_version("rm-fs", artifact)))["sha256"] == artifact["sha256"]
