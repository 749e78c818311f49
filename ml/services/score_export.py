"""Export of a scoring job's scores, one row per scored response or item (not only means per system).

Row columns (JSONL; CSV puts lists and mappings as JSON text)::

    job (int), model_version (name), input_key,
    study jobs:   study, prompt_id, prompt_metadata, system, context ([{speaker, text}]), response (text)
    project jobs: project, item_id, item_kind, the item's fields (text | text_a, text_b | context, response | turns)
    then one column per scored dimension (float or null when the scorer gave none), reward,
    and answers ({dimension: the judge's raw answer}; {} for a reward model).

Streams in chunks of inputs, so memory stays flat however many responses a job scored.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from itertools import groupby
from typing import IO, Any

from ml.models import MlJobKind, ModelJob, Score
from webapp.jobs.models import Job

FORMATS = ("jsonl", "csv")
CHUNK_SIZE = 5000


def _dimensions(job: ModelJob) -> list[str]:
    names = list(dict.fromkeys(Score.objects.filter(job=job).order_by("id").values_list("dimension", flat=True)))
    return [name for name in names if name != Score.REWARD] + [Score.REWARD]


def _head(job: ModelJob, score: Score) -> dict:
    if score.response_id is not None:
        response = score.response
        prompt = response.prompt
        return {"study": job.study.slug if job.study_id else None, "prompt_id": prompt.external_id,
                "prompt_metadata": prompt.metadata or {}, "system": response.system.name,
                "context": prompt.context, "response": response.text}
    item = score.item
    from annotations.importing.items import KIND_FIELDS

    fields = {field: item.data.get(field) for field in KIND_FIELDS.get(item.kind, ())}
    return {"project": job.project.slug if job.project_id else None, "item_id": item.external_id,
            "item_kind": item.kind, **fields}


def score_rows(*, job: ModelJob) -> tuple[list[str], Iterator[dict]]:
    """Columns and rows of ``job``'s scores (see module docstring)."""
    dimensions = _dimensions(job)
    version = job.model_version.name if job.model_version_id else None
    scores = (Score.objects.filter(job=job).order_by("input_key", "id")
              .select_related("response__prompt", "response__system", "item"))
    first = scores.first()
    head_columns = list(_head(job, first)) if first is not None else []
    columns = ["job", "model_version", "input_key", *head_columns, *dimensions, "answers"]

    def rows() -> Iterator[dict]:
        for key, group in groupby(scores.iterator(chunk_size=CHUNK_SIZE), key=lambda s: s.input_key):
            group = list(group)
            values = {score.dimension: score.value for score in group}
            answers = {score.dimension: score.answer for score in group if score.answer}
            yield {"job": job.pk, "model_version": version, "input_key": key, **_head(job, group[0]),
                   **{name: values.get(name) for name in dimensions}, "answers": answers}

    return columns, rows()


def scores_export(*, job: Job, out: Any, fmt: str = "jsonl") -> dict:
    """Writes ``job``'s per-response (or per-item) scores to ``out`` (a path or a text file); returns
    {job, format, rows, columns}. Raises ``ValueError`` for an unknown format or a job without scores."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if job.kind != MlJobKind.SCORING:
        raise ValueError(f"job {job.pk} is a {job.kind} job; only scoring jobs have scores")
    columns, rows = score_rows(job=ModelJob.of(job))
    if isinstance(out, str | os.PathLike):
        with open(out, "w", encoding="utf-8", newline="") as handle:
            written = _write(handle, fmt, columns, rows)
    else:
        written = _write(out, fmt, columns, rows)
    return {"job": job.pk, "format": fmt, "rows": written, "columns": columns}


def _write(handle: IO[str], fmt: str, columns: list[str], rows: Iterator[dict]) -> int:
    written = 0
    writer = csv.writer(handle) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    for row in rows:
        if writer is None:
            handle.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
        else:
            writer.writerow(["" if row.get(c) is None else json.dumps(row[c], ensure_ascii=False)
                             if isinstance(row.get(c), list | dict) else row[c] for c in columns])
        written += 1
    return written
