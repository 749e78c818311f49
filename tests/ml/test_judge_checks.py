"""The judge checked before it is trusted: expected scores from its probabilities, a warning when its
scores are degenerate, rubrics set per perspective from parameters, the API and the page.

References: the expected score recomputed one prompt at a time with a plain forward pass of the
transformers model (full-vocabulary softmax, then restricted to "1".."5"); the standard deviation
from Python's ``statistics.pstdev``.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest
import torch
import yaml
from django.urls import reverse
from rest_framework.test import APIClient

from ml import services
from ml.core.judge import RUBRICS, LLMJudgeScorer, build_judge_messages
from ml.core.scores import score_health
from ml.models import Score
from tests.factories import ItemFactory, ProjectFactory
from tests.ml import test_jobs_support as support
from tests.ml.test_jobs_support import make_project
from webapp.jobs import services as job_services
from webapp.jobs.models import Job

judge_version = support.judge_version
WORKER = "in-process@test"
TEXTS = ["I am sorry to hear that", "the weather was nice", "you are not alone in this"]
CONTEXTS = ["I lost my job", "my dog died", "I feel lost"]


def reference_expected_score(generator, messages) -> float:
    ids = torch.tensor([generator.encode(messages)])
    with torch.no_grad():
        probabilities = generator.model(input_ids=ids).logits[0, -1].float().softmax(-1)
    digits = [generator.tokenizer.encode(str(k), add_special_tokens=False)[0] for k in range(1, 6)]
    scale = probabilities[digits] / probabilities[digits].sum()
    return float(sum(k * p for k, p in zip(range(1, 6), scale.tolist(), strict=True)))


def test_expected_scores_equal_a_one_prompt_at_a_time_forward_pass(tiny_generator):
    judge = LLMJudgeScorer(tiny_generator, perspectives=("resonation", "bystander"), mode="expected", batch_size=2)
    result = judge.score(TEXTS, contexts=CONTEXTS)
    assert result.unparseable == 0
    for name in ("resonation", "bystander"):
        expected = [reference_expected_score(tiny_generator, build_judge_messages(RUBRICS[name], t, c))
                    for t, c in zip(TEXTS, CONTEXTS, strict=True)]
        assert result.per_dimension[name] == pytest.approx(expected, abs=1e-5)
        assert all(1 <= v <= 5 for v in result.per_dimension[name])


def test_an_unknown_mode_is_refused(tiny_generator):
    with pytest.raises(ValueError, match="mode must be one of"):
        LLMJudgeScorer(tiny_generator, mode="vibes")


def test_a_judge_answering_one_to_everything_is_degenerate_and_says_so():
    health = score_health({"resonation": [1.0] * 10, "expression": [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]})
    assert health["degenerate"] and len(health["warnings"]) == 1 and "resonation" in health["warnings"][0]
    spread = health["by_dimension"]["expression"]["std"]
    assert spread == pytest.approx(statistics.pstdev([1, 2, 3, 4, 5] * 2))


def test_a_high_unparseable_share_is_degenerate_and_a_healthy_run_is_not():
    values = {"resonation": [1.0, 3.0, None, None, 4.0]}
    health = score_health(values, unparseable=2)
    assert health["degenerate"] and health["unparseable_share"] == pytest.approx(0.4)
    assert "40%" in health["warnings"][-1]
    assert not score_health({"resonation": [1.0, 3.0, 4.0, 2.0, 5.0]})["degenerate"]
    assert not score_health({"resonation": [math.nan, 2.0]})["degenerate"]  # one score: nothing to judge


def test_a_scoring_job_on_identical_items_warns_on_its_page_and_in_its_result(client, researcher, judge_version):
    project = ProjectFactory(owner=researcher, slug="same-items", kind="response")
    for i in range(4):
        ItemFactory(project=project, kind="response", external_id=f"r{i}",
                    data={"context": "I lost my job", "response": "that must be painful"})
    job = services.model_job_launch(kind="scoring", model_version=judge_version, project=project, created_by=researcher,
                              params={"perspectives": ["resonation", "reception"]})
    finished = job_services.job_run(job_id=job.pk, worker=WORKER)
    assert finished.status == Job.Status.SUCCEEDED, finished.error
    assert finished.result["mode"] == "expected" and finished.result["unparseable"] == 0
    health = finished.result["health"]
    assert health["degenerate"] and {w.split(":")[0] for w in health["warnings"]} == {"resonation", "reception"}
    client.force_login(researcher)
    html = client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert 'data-testid="score-warnings"' in html and "do not tell the texts apart" in html
    assert "expected score under the judge" in html


def test_rubrics_from_job_parameters_reach_the_judge(researcher, judge_version, tiny_llama_path):
    project = make_project(owner=researcher, slug="own-rubric", n_items=3)
    rubric = "Is the reply kind? 1 = not at all; 5 = very."
    job = services.model_job_launch(kind="scoring", model_version=judge_version, project=project, created_by=researcher,
                              params={"perspectives": ["kindness"], "rubrics": {"kindness": rubric}})
    finished = job_services.job_run(job_id=job.pk, worker=WORKER)
    assert finished.status == Job.Status.SUCCEEDED, finished.error
    items = list(project.items.order_by("pk"))
    direct = LLMJudgeScorer(tiny_llama_path, perspectives=("kindness",), rubrics={"kindness": rubric},
                            mode="expected", device="cpu").score([i.data["response"] for i in items],
                                                                  [i.data["context"] for i in items])
    stored = list(Score.objects.filter(job=job, dimension="kindness").order_by("item__pk").values_list("value", flat=True))
    assert stored == pytest.approx(direct.per_dimension["kindness"], abs=1e-5)


@pytest.mark.parametrize(("params", "field"), [
    ({"judge_mode": "vibes"}, "params.judge_mode"),
    ({"rubrics": {"resonation": ""}}, "params.rubrics.resonation"),
    ({"rubrics": {"humour": "Is it funny?"}}, "params.rubrics.humour"),
    ({"rubrics": "be nice"}, "params.rubrics"),
])
def test_api_refuses_bad_judge_parameters_naming_the_field(researcher, judge_version, params, field):
    project = make_project(owner=researcher, slug="bad-judge")
    api = APIClient()
    api.force_authenticate(researcher)
    response = api.post(reverse("jobs:api_jobs"), {"kind": "scoring", "model_version": judge_version.pk,
                                                 "project": project.slug, "params": params}, format="json")
    assert response.status_code == 400 and field in response.content.decode()


def test_launch_page_takes_a_rubric_per_perspective_and_the_judge_mode(client, researcher, judge_version):
    project = make_project(owner=researcher, slug="page-rubric")
    client.force_login(researcher)
    response = client.post(reverse("ml:job_new") + f"?project={project.slug}", {
        "project": project.slug, "kind": "scoring", "model_version": judge_version.pk, "batch_size": 4,
        "combine": "mean", "judge_mode": "parsed",
        "rubrics": "resonation: Does the reply show understanding?\nhumour: Is it gently funny?"})
    assert response.status_code == 302, response.content.decode()[:500]
    job = Job.objects.latest("pk")
    assert job.params["judge_mode"] == "parsed"
    assert job.params["rubrics"] == {"resonation": "Does the reply show understanding?",
                                     "humour": "Is it gently funny?"}
    assert job.params["dimensions"][-1] == "humour"
    bad = client.post(reverse("ml:job_new") + f"?project={project.slug}", {
        "project": project.slug, "kind": "scoring", "model_version": judge_version.pk, "batch_size": 4,
        "combine": "mean", "rubrics": "no colon here"})
    assert bad.status_code == 422 and "write &#x27;perspective: rubric&#x27;" in bad.content.decode()


def test_perm_bystander_rubrics_match_the_presets_five_bystander_dimensions():
    preset = Path(__file__).resolve().parents[2] / "annotations/presets/multi_perspective_empathy.yaml"
    dimensions = yaml.safe_load(preset.read_text())["dimensions"]
    bystander = [d["name"] for d in dimensions if d.get("randomize_order") == "bystander"]
    assert len(bystander) == 5
    for name in bystander:
        assert name in RUBRICS
        assert name.replace("_", " ") in RUBRICS["bystander"].lower()
