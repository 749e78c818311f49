"""Trained model versions in a store that every worker host shares, copied into each host's local cache on first use.

The store is the Django storage named ``models`` in ``settings.STORAGES`` when there is one (any backend an operator
configures), else a FileSystemStorage at ``RESONANCE_MODEL_STORE``. A published version is its folder's files under
``versions/<name>/`` and, written last, ``versions/<name>/MANIFEST.json``: each file's size and SHA-256 and the
folder's checksum (:func:`folder_checksum`). A manifest present means the publication is whole.

A worker asks :func:`version_local_folder` for the folder to load: a version registered from a local path (the
default models, a folder registered by hand) is used where it is; a published one is copied into
``RESONANCE_MODEL_CACHE/store/<name>-<sha12>/`` once per host, checked file by file against the manifest, and moved
into place whole, so a copy cut short or corrupted is never loaded."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages

MANIFEST = "MANIFEST.json"
COMPLETE = ".resonance-complete"  # written into a local copy just before it is moved into place
CHUNK = 1 << 20


class ModelStoreError(ValueError):
    """A version cannot be published to or copied from the store; the message names the version and the file."""


def models_storage() -> Storage:
    if "models" in settings.STORAGES:
        return storages["models"]
    return FileSystemStorage(location=str(Path(settings.RESONANCE_MODEL_STORE).expanduser()))


def _file_sha256(handle) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for block in iter(lambda: handle.read(CHUNK), b""):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def folder_checksum(*, folder: Path) -> dict:
    """SHA-256 over a model folder's files (names and contents, in name order) and its size in bytes, so that a
    copy on another host can be checked against the version it claims to be."""
    digest, size = hashlib.sha256(), 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != COMPLETE):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda handle=handle: handle.read(CHUNK), b""):
                digest.update(block)
                size += len(block)
    return {"sha256": digest.hexdigest(), "bytes": size}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)  # version names are slugs with dots; anything else is replaced


def store_key(name: str) -> str:
    """The store folder of version ``name``."""
    return "versions/" + _safe(name)


def version_publish(*, folder: Path, name: str) -> dict:
    """Copies ``folder`` into the store as version ``name`` (again, whole, if it was published before) and returns
    ``{"store_key", "sha256", "bytes", "files"}`` for the version's ``training_settings["artifact"]``."""
    storage, key = models_storage(), store_key(name)
    if storage.exists(f"{key}/{MANIFEST}"):
        storage.delete(f"{key}/{MANIFEST}")  # unpublished first: a half-replaced version is never whole
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        with path.open("rb") as handle:
            sha, size = _file_sha256(handle)
            handle.seek(0)
            target = f"{key}/{relative}"
            if storage.exists(target):
                storage.delete(target)
            saved = storage.save(target, File(handle, name=path.name))
        if saved != target:
            raise ModelStoreError(f"model store: {name}: {relative} was stored as {saved!r}, not under its own name")
        files[relative] = {"sha256": sha, "bytes": size}
    checksum = folder_checksum(folder=folder)
    manifest = {"name": name, "files": files, **checksum}
    storage.save(f"{key}/{MANIFEST}", ContentFile(json.dumps(manifest, indent=1).encode()))
    return {"store_key": key, **checksum, "files": len(files)}


def _manifest(storage: Storage, key: str, name: str) -> dict:
    try:
        with storage.open(f"{key}/{MANIFEST}", "rb") as handle:
            return json.loads(handle.read())
    except FileNotFoundError as exc:
        raise ModelStoreError(f"model store: {name}: {key}/{MANIFEST} is missing (never published, or another "
                              f"store than the one it was published to)") from exc


def _cache_folder(name: str, sha256: str) -> Path:
    return Path(settings.RESONANCE_MODEL_CACHE).expanduser() / "store" / f"{_safe(name)}-{sha256[:12]}"


def _copy_checked(storage: Storage, key: str, name: str, manifest: dict, into: Path) -> None:
    for relative, expected in manifest["files"].items():
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with storage.open(f"{key}/{relative}", "rb") as source, target.open("wb") as out:
                digest, size = hashlib.sha256(), 0
                for block in iter(lambda source=source: source.read(CHUNK), b""):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
        except FileNotFoundError as exc:
            raise ModelStoreError(f"model store: {name}: {relative} is listed in the manifest but missing") from exc
        if (digest.hexdigest(), size) != (expected["sha256"], expected["bytes"]):
            raise ModelStoreError(f"model store: {name}: {relative} does not match its checksum (corrupted or "
                                  f"replaced in the store)")
    if folder_checksum(folder=into)["sha256"] != manifest["sha256"]:
        raise ModelStoreError(f"model store: {name}: the copied folder does not match the version's checksum")


def version_local_folder(version) -> Path:
    """The local folder to load ``version`` from (see the module docstring). Raises ModelStoreError, leaving
    nothing in the cache, when the store's copy is missing or does not match its checksum."""
    artifact = (version.training_settings or {}).get("artifact") or {}
    key = artifact.get("store_key")
    if not key:
        return Path(version.path)
    final = _cache_folder(version.name, artifact["sha256"])
    if (final / COMPLETE).is_file():
        return final
    storage = models_storage()
    manifest = _manifest(storage, key, version.name)
    if manifest["sha256"] != artifact["sha256"]:
        raise ModelStoreError(f"model store: {version.name}: the store holds another publication "
                              f"(sha256 {manifest['sha256'][:12]}, the version says {artifact['sha256'][:12]})")
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        _copy_checked(storage, key, version.name, manifest, partial)
        (partial / COMPLETE).write_text(artifact["sha256"])
        try:
            os.rename(partial, final)
        except OSError:
            if not (final / COMPLETE).is_file():  # not another process's finished copy: a real failure
                raise
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return final


def version_path(version) -> str:
    """:func:`version_local_folder` as text, for the loaders."""
    return str(version_local_folder(version))
