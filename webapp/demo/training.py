"""The demo's closed loop: labels from a synthetic earlier round (``synthetic.py``) in two demo projects, and one
training run on each, launched as ordinary training jobs for whatever worker takes them.

Idempotent: the round's items are imported once and its labels merge as they are; a project whose run was
launched before (queued, running or done) keeps that job, so a rerun never trains or registers twice. Only a
failed or cancelled run is launched again.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from django.db import transaction

from annotations.models import Item, Project
from webapp.demo import synthetic

# The round's items are full (three labels, the projects' overlap), so annotators are never routed to them;
# the hand-written demo items stay open for the demo's annotators.
ROUNDS = {"demo-multi-perspective-empathy": synthetic.reply_items,
          "demo-narrative-pair-similarity": synthetic.pair_items}


@dataclass(frozen=True)
class DemoRun:
    """One training run of the demo: the project it learns from, the recipe and the settings that keep it to
    about half a minute on two CPU cores with the MiniLM encoder (12 and 8 steps on 31 training items; the
    README has the measured times)."""

    label: str
    project_slug: str
    recipe: str
    overrides: dict


DEMO_RUNS = (
    DemoRun("reward model", "demo-multi-perspective-empathy", "reward-model",
            {"epochs": 3.0, "batch_size": 8, "learning_rate": 2e-4, "max_length": 96, "heldout": 0.25,
             "logging_steps": 1, "save_steps": 1000}),
    # The cosine loss fits the similarity's level as well as its order (cosent only the order), so the
    # held-out MSE falls with the correlation.
    DemoRun("bi-encoder", "demo-narrative-pair-similarity", "bi-encoder",
            {"epochs": 2.0, "batch_size": 8, "learning_rate": 1e-4, "max_length": 128, "heldout": 0.25,
             "loss": "cosine", "logging_steps": 1, "save_steps": 1000}),
)


@dataclass(frozen=True)
class DemoRoundLoaded:
    slug: str
    items_imported: int
    labels_written: int


def _jsonl(rows: list[dict], name: str) -> io.StringIO:
    handle = io.StringIO("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    handle.name = name
    return handle


def _label_csv(rows: list[dict], name: str) -> io.StringIO:
    handle = io.StringIO()
    writer = csv.DictWriter(handle, fieldnames=["item_id", "annotator_id", "dimension", "value", "country"])
    writer.writeheader()
    writer.writerows(rows)
    handle.seek(0)
    handle.name = name
    return handle


@transaction.atomic
def demo_round_load() -> list[DemoRoundLoaded]:
    """Imports the synthetic round's items (once) and its labels (merged, so a rerun writes nothing) into
    the demo projects that train. Call after ``demo_projects_load``."""
    from annotations.services.importing import items_import, labels_import

    loaded = []
    for slug, build in ROUNDS.items():
        project = Project.objects.get(slug=slug)
        round_set = build()
        stored = set(Item.objects.filter(project=project, external_id__in=[i["id"] for i in round_set.items])
                     .values_list("external_id", flat=True))
        missing = [item for item in round_set.items if item["id"] not in stored]
        imported = items_import(project=project, path_or_file=_jsonl(missing, f"{slug}-round1.jsonl")) if missing else 0
        written = labels_import(project=project, path_or_file=_label_csv(round_set.labels, f"{slug}-round1.csv"))
        loaded.append(DemoRoundLoaded(slug, imported, int(written)))
    return loaded


@dataclass(frozen=True)
class DemoTraining:
    run: DemoRun
    job: object          # ml.models.ModelJob
    launched_now: bool


@transaction.atomic
def demo_training_ensure(*, run: DemoRun, researcher, base=None) -> DemoTraining:
    """Launches ``run`` through ``train_job_launch`` unless its project already has a live or finished run of
    that recipe, which is returned instead. ``base`` is the model version to start from (default: the
    recipe's own default, the MiniLM encoder). Raises ``JobError`` when the run cannot be launched."""
    from ml.models import MlJobKind, ModelJob
    from ml.services.training import train_job_launch
    from webapp.jobs.models import Job, targeting

    project = Project.objects.get(slug=run.project_slug)
    job = (ModelJob.objects.filter(targeting(project), kind=MlJobKind.TRAIN, params__recipe=run.recipe)
           .exclude(status__in=(Job.Status.FAILED, Job.Status.CANCELLED)).order_by("-created_at").first())
    if job is not None:
        return DemoTraining(run, job, launched_now=False)
    job = train_job_launch(recipe=run.recipe, created_by=researcher, project=project, base=base,
                           overrides=run.overrides)
    return DemoTraining(run, job, launched_now=True)


def run_wall_seconds(job) -> float:
    """A finished run's wall time on the worker, claim to registration (the child's start, loading the base,
    training, evaluating new and parent on the held-out items, publishing the version)."""
    return (job.finished_at - job.started_at).total_seconds()
