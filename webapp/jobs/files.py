"""Files that jobs leave for download (label exports, statistical reports).

A worker writes the file and its manifest (``<name>.manifest.json``) in a local folder, then stores both
whole in the default storage (``MEDIA_ROOT``, which the web and the workers share); the job page offers
them once the job succeeded. A job that runs again replaces them.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage

from webapp.jobs.errors import Cancelled
from webapp.jobs.models import Job

MANIFEST_SUFFIX = ".manifest.json"


def job_file_write(job: Job, on_batch, *, name: str, write: Callable[[Path], dict]) -> dict:
    """Calls ``write(local_path)``, which writes the file and returns its manifest, and stores the file as
    ``name`` with the manifest beside it (``write`` may have written the manifest itself, at
    ``<local_path>.manifest.json``). Stops with ``Cancelled`` when the job is cancelled before it starts;
    returns the manifest."""
    if not on_batch(0, 1):
        raise Cancelled(f"stopped before the {job.get_kind_display().lower()} started")
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / Path(name).name
        manifest = write(local)
        local_manifest = Path(f"{local}{MANIFEST_SUFFIX}")
        if not local_manifest.exists():
            local_manifest.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        for source, target in ((local, name), (local_manifest, f"{name}{MANIFEST_SUFFIX}")):
            default_storage.delete(target)
            with source.open("rb") as handle:
                default_storage.save(target, File(handle))
    on_batch(1, 1)
    return manifest
