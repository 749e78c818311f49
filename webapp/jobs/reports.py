"""The frame every statistical-report kind shares (the apps register the kinds and compute the
reports): the bootstrap and seed settings a launch accepts, and the report written as a JSON file
with its manifest (``webapp.jobs.files``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from webapp.jobs.errors import number_clean
from webapp.jobs.files import job_file_write
from webapp.jobs.models import Job

REPORT_BOOTSTRAP = 2000  # the default: a page shows 500 to 1000 to stay quick
BOOTSTRAP_LIMITS = (int, 100, 20000)
SEED_LIMITS = (int, 0, 2**31 - 1)
# What the job row keeps of the manifest (the job page shows them).
RESULT_KEYS = ("file", "report", "items", "labels", "judgments", "participants", "n_bootstrap", "seed")


def report_numbers_clean(*, n_bootstrap, seed) -> dict:
    """``{"n_bootstrap", "seed"}`` from a launch's values (a form's strings too); ``JobError`` naming
    ``params.n_bootstrap`` / ``params.seed`` when out of range."""
    return {"n_bootstrap": number_clean("n_bootstrap", n_bootstrap, *BOOTSTRAP_LIMITS),
            "seed": number_clean("seed", seed, *SEED_LIMITS)}


def report_file_name(job: Job, *, slug: str) -> str:
    """The job's report, as a name in the default storage; its manifest is ``<name>.manifest.json``."""
    return f"reports/job-{job.pk}/{slug}-{job.params['report']}-report.json"


def report_run(job: Job, on_batch, *, name: str, build: Callable[[], tuple[dict, dict]]) -> dict:
    """Computes the report (``build() -> (report, about)``, ``about`` being what the manifest says of its
    input), writes it as JSON with its manifest, and returns the manifest's figures for the job row."""
    params = job.params

    def write(local: Path) -> dict:
        started = datetime.now(UTC)
        report, about = build()
        local.write_text(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8")
        return {"job": job.pk, "file": Path(name).name, "report": params["report"], **about,
                "n_bootstrap": params["n_bootstrap"], "seed": params["seed"], "built_at": started.isoformat(),
                "seconds": round((datetime.now(UTC) - started).total_seconds(), 3)}

    manifest = job_file_write(job, on_batch, name=name, write=write)
    return {key: manifest[key] for key in RESULT_KEYS if key in manifest}
