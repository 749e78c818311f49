"""Pairwise judging against a study's judgments in both orders: the judge's position bias,
consistency and agreement with the human majority.

References: scipy's exact binomial test of first-position picks; the judge's probabilities
recomputed one prompt at a time with a plain forward pass; agreement counted by hand.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
import torch
from django.core.management import call_command
from django.core.management.base import CommandError
from scipy.stats import binomtest

from ml import services
from ml.core.generation import Generator
from ml.core.judge import build_pairwise_messages
from studies import services as study_services
from studies.analysis.frame import judgments_canonical
from studies.analysis.judge_pairs import judge_versus_humans
from tests.ml import test_jobs_support as support
from tests.studies.conftest import responses_jsonl, study_spec
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt

judge_version = support.judge_version


def make_study(owner, **kwargs):
    spec = study_spec(**kwargs)
    study = study_services.study_load(spec=spec, owner=owner)
    study_services.responses_import(study=study, lines=responses_jsonl(spec), source="responses.jsonl")
    return study_services.study_open(study=study)


COLUMNS = ["participant", "prompt", "system_a", "system_b", "choice", "left", "criterion", "seconds"]


def test_position_bias_consistency_and_agreement_from_hand_made_verdicts():
    verdicts = pd.DataFrame({
        "prompt": ["q1", "q2", "q3", "q4"], "system_a": "base", "system_b": "perm",
        "p_a_first": [0.9, 0.8, 0.7, 0.6], "p_a_second": [0.2, 0.3, 0.6, 0.4],
    })
    humans = [("h1", "q1", "a"), ("h2", "q1", "a"), ("h3", "q1", "b"), ("h1", "q2", "b"),
              ("h1", "q3", "a"), ("h2", "q3", "b"), ("h1", "q4", "a"), ("h2", "q4", "tie")]
    canonical = judgments_canonical(pd.DataFrame(
        [(who, q, "base", "perm", c, "a", "overall", 3.0) for who, q, c in humans], columns=COLUMNS))
    out = judge_versus_humans(verdicts, canonical)
    # first shown wins: 4 of 4 with base first, 3 of 4 with perm first (1 - p_a_second > 0.5)
    assert out["position"]["n"] == 8 and out["position"]["first_share"] == pytest.approx(7 / 8)
    assert out["position"]["p_value"] == pytest.approx(binomtest(7, 8).pvalue)
    assert out["consistency"] == pytest.approx(1 / 4)
    # q3 has no human majority, q4 no judge verdict (0.5 on average): q1 agrees, q2 does not
    assert (out["agreement"]["agree"], out["agreement"]["n"]) == (1, 2)
    assert out["human_win_rate_a"] == pytest.approx(4 / 7)


def _reference_p_first(path, context, first, second) -> float:
    generator = Generator(path, device="cpu")
    ids = torch.tensor([generator.encode(build_pairwise_messages(first, second, context))])
    with torch.no_grad():
        probabilities = generator.model(input_ids=ids).logits[0, -1].float().softmax(-1)
    one, two = (generator.tokenizer.encode(d, add_special_tokens=False)[0] for d in ("1", "2"))
    return float(probabilities[one] / (probabilities[one] + probabilities[two]))


@pytest.mark.django_db
def test_command_judges_each_pair_in_both_orders_against_the_study(researcher, judge_version, tiny_llama_path):
    study = make_study(researcher, slug="judge-pairs", n_prompts=3)
    import_judgments(study, [(f"w{k}", prompt(i), ALPHA, BETA, "ab"[(i + k) % 2 if k else 0], "a", "overall")
                             for i in range(3) for k in range(3)])
    out = io.StringIO()
    call_command("judge_pairs", study.slug, "--model", judge_version.name, "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["pairs"] == 3 and result["criterion"] == "overall"
    responses = {(r.prompt.external_id, r.system.name): r for r in study.responses.select_related("prompt", "system")}
    first_picks = 0
    for row in result["rows"]:
        a, b = responses[(row["prompt"], row["system_a"])], responses[(row["prompt"], row["system_b"])]
        context = a.prompt.context[0]["text"]
        expected_first = _reference_p_first(tiny_llama_path, context, a.text, b.text)
        expected_second = 1 - _reference_p_first(tiny_llama_path, context, b.text, a.text)
        assert row["p_a_first"] == pytest.approx(expected_first, abs=1e-5)
        assert row["p_a_second"] == pytest.approx(expected_second, abs=1e-5)
        first_picks += (expected_first > 0.5) + (expected_second < 0.5)
    assert result["position"]["p_value"] == pytest.approx(binomtest(first_picks, 6).pvalue)
    text = io.StringIO()
    call_command("judge_pairs", study.slug, "--model", judge_version.name, stdout=text)
    assert "picks the reply shown first" in text.getvalue()


@pytest.mark.django_db
def test_command_refuses_a_model_that_is_not_a_judge_and_an_unknown_criterion(researcher, judge_version,
                                                                              tiny_llama_path):
    study = make_study(researcher, slug="judge-refusals", n_prompts=3)
    import_judgments(study, [("w1", prompt(0), ALPHA, BETA, "a", "a", "overall")])
    generator = services.model_version_register(name="plain-gen", kind="generator", path=tiny_llama_path)
    with pytest.raises(CommandError, match="not a judge"):
        call_command("judge_pairs", study.slug, "--model", generator.name, stdout=io.StringIO())
    with pytest.raises(CommandError, match="criterion"):
        call_command("judge_pairs", study.slug, "--model", judge_version.name, "--criterion", "humour",
                     stdout=io.StringIO())
