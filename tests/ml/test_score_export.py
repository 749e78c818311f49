"""A scoring job's scores are exportable per response (not only as means per system), with the
response's text and context and, for an LLM judge, its raw answers."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
from django.core.management import CommandError, call_command

from annotations.jobs import AnnotationJobKind
from ml import services
from ml.core.judge import LLMJudgeScorer
from ml.models import Score
from ml.services.score_export import scores_export
from tests.ml import test_jobs_support as support
from tests.ml.test_jobs_support import make_project, make_study
from webapp.jobs import services as job_services
from webapp.jobs.models import Job

scorer_version, judge_version = support.scorer_version, support.judge_version
WORKER = "in-process@test"
pytestmark = pytest.mark.django_db


def _run(**kwargs) -> Job:
    job = services.model_job_launch(created_by=None, **kwargs)
    finished = job_services.job_run(job_id=job.pk, worker=WORKER)
    assert finished.status == Job.Status.SUCCEEDED, finished.error
    return finished


def test_reward_model_scores_export_one_row_per_response_with_its_text_and_every_dimension(
        researcher, scorer_version, tmp_path):
    study = make_study(owner=researcher, n_prompts=3)
    job = _run(kind="scoring", model_version=scorer_version, study=study, params={"batch_size": 2})
    out = tmp_path / "scores.jsonl"
    call_command("export_scores", str(job.pk), "-o", str(out), stdout=io.StringIO())
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    responses = {r.pk: r for r in study.responses.select_related("prompt", "system")}
    assert len(rows) == len(responses)
    for row in rows:
        response = responses[int(row["input_key"].split(":")[1])]
        assert (row["system"], row["prompt_id"], row["response"]) == (
            response.system.name, response.prompt.external_id, response.text)
        assert row["context"] == response.prompt.context
        stored = dict(Score.objects.filter(job=job, response=response).values_list("dimension", "value"))
        assert {k: row[k] for k in stored} == stored and row["answers"] == {}

    buffer = io.StringIO()
    scores_export(job=job, out=buffer, fmt="csv")
    table = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert len(table) == len(rows) and float(table[0]["reward"]) == pytest.approx(rows[0]["reward"])


def test_judge_scores_export_with_the_raw_answer_behind_each_score(researcher, judge_version, tiny_llama_path, tmp_path):
    project = make_project(owner=researcher, n_items=3)
    perspectives = ["resonation", "reception"]
    job = _run(kind="scoring", model_version=judge_version, project=project,
               params={"perspectives": perspectives, "judge_mode": "parsed"})
    items = list(project.items.order_by("pk"))
    judge = LLMJudgeScorer(tiny_llama_path, perspectives=tuple(perspectives), device="cpu", mode="parsed")
    direct = judge.score([i.data["response"] for i in items], [i.data["context"] for i in items])
    out = tmp_path / "judge.jsonl"
    scores_export(job=job, out=out)
    rows = {row["item_id"]: row for row in map(json.loads, out.read_text().splitlines())}
    for index, item in enumerate(items):
        row = rows[item.external_id]
        assert (row["context"], row["response"]) == (item.data["context"], item.data["response"])
        for d, name in enumerate(perspectives):
            assert row["answers"][name] == judge.last_answers[d * len(items) + index]
            value = direct.per_dimension[name][index]
            assert row[name] is None if math.isnan(value) else row[name] == pytest.approx(value)


def test_export_scores_of_a_job_that_is_not_a_scoring_job_is_refused(researcher, tmp_path):
    job = Job.objects.create(kind=AnnotationJobKind.EXPORT, target=make_project(owner=researcher, n_items=1),
                             params={"format": "jsonl", "aggregate": "none"})
    with pytest.raises(CommandError, match="only scoring jobs have scores"):
        call_command("export_scores", str(job.pk), "-o", str(tmp_path / "x.jsonl"))
    with pytest.raises(CommandError, match="no job 999999"):
        call_command("export_scores", "999999", "-o", str(tmp_path / "x.jsonl"))
