"""Import files on their way in: how large one may be, whether it is imported inside the request or by a
background job, and the copy a job reads (one file per job in the default storage, under ``imports/``,
which the web and the workers share; removed when the job ends)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

UPLOAD_FOLDER = "imports"
LINE_COUNT_CHUNK = 1 << 20


def upload_size_problem(upload) -> str | None:
    """Why ``upload`` is refused for its size (``RESONANCE_MAX_UPLOAD_BYTES``), naming it; None when it fits."""
    limit = settings.RESONANCE_MAX_UPLOAD_BYTES
    if upload.size <= limit:
        return None
    return f"{upload.name} is {upload.size / 2**20:.1f} MiB; an import file may be at most {limit / 2**20:.1f} MiB"


def upload_runs_inline(upload) -> bool:
    """True when ``upload`` is small enough to import inside the request (``RESONANCE_IMPORT_INLINE_BYTES``);
    a larger one goes to a background job."""
    return upload.size <= settings.RESONANCE_IMPORT_INLINE_BYTES


def upload_shown_name(upload) -> str:
    """The name the researcher gave the file (no folders), which import errors and summaries show."""
    return os.path.basename(upload.name or "") or "upload"


def upload_store(*, job_id: int, upload) -> str:
    """Copies ``upload`` into the default storage for job ``job_id``; returns its name there."""
    wanted = f"{UPLOAD_FOLDER}/job-{job_id}/{default_storage.get_valid_name(upload_shown_name(upload))}"
    return default_storage.save(wanted, upload)


def upload_open(name: str, *, shown_as: str) -> File:
    """The stored file opened for reading, named ``shown_as`` so that import errors name the researcher's file
    rather than the stored copy. ``FileNotFoundError`` when it is gone."""
    handle = default_storage.open(name, "rb")
    handle.name = shown_as
    return handle


def upload_lines(name: str) -> int:
    """How many lines the stored file has (a last line without a newline counts), read in large chunks."""
    count, last = 0, b"\n"
    with default_storage.open(name, "rb") as handle:
        while chunk := handle.read(LINE_COUNT_CHUNK):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def upload_remove(name: str) -> None:
    """Deletes the stored file (nothing when it is already gone) and its job's folder when that is left empty."""
    default_storage.delete(name)
    folder = os.path.dirname(name)
    try:
        directories, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    if not directories and not files and hasattr(default_storage, "path"):
        try:
            os.rmdir(default_storage.path(folder))
        except (OSError, NotImplementedError):
            pass
