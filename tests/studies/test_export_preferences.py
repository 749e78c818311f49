"""Export of judgments to raw JSONL and to DPO preference pairs, through the command and the service."""

import hashlib
import json

import pytest
from django.core.management import call_command

from studies import services
from studies.export import export_filters, export_write, manifest_path, preference_records
from studies.models import Participant
from tests.studies.conftest import SYSTEM_NAMES

ALPHA, BETA = SYSTEM_NAMES[0], SYSTEM_NAMES[1]
HEADER = "participant_id,prompt_id,system_a,system_b,choice,left,criterion"


def import_judgments(study, rows):
    services.judgments_import(study=study, lines=[HEADER, *(",".join(r) for r in rows)], source="t.csv")


def prompt(i):
    return f"prompt-ext-{i}"


@pytest.fixture
def judged_study(make_study):
    study = make_study()
    import_judgments(
        study,
        [
            # prompt 0: alpha, alpha, beta -> alpha chosen by 2 of 3
            ("w1", prompt(0), ALPHA, BETA, "a", "a", "overall"),
            ("w2", prompt(0), ALPHA, BETA, "a", "b", "overall"),
            ("w3", prompt(0), BETA, ALPHA, "a", "a", "overall"),  # stored the other way: beta won
            # prompt 1: two ties -> no pair
            ("w1", prompt(1), ALPHA, BETA, "tie", "a", "overall"),
            ("w2", prompt(1), ALPHA, BETA, "tie", "b", "overall"),
            # prompt 2: one each -> level, no pair
            ("w1", prompt(2), ALPHA, BETA, "a", "a", "overall"),
            ("w3", prompt(2), ALPHA, BETA, "b", "a", "overall"),
            # prompt 3: beta alone, plus a tie -> beta chosen, weight 1/2
            ("w2", prompt(3), ALPHA, BETA, "b", "b", "overall"),
            ("w3", prompt(3), ALPHA, BETA, "tie", "a", "overall"),
        ],
    )
    return study


def pseudonyms(study):
    return {p.user.crowd_id.split("/")[-1]: p.user.pseudonym for p in Participant.objects.filter(study=study)}


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.django_db
def test_dpo_export_writes_majority_pairs_weighted_by_agreement_and_leaves_out_ties(judged_study, tmp_path):
    out = tmp_path / "prefs.jsonl"
    call_command("export_preferences", judged_study.slug, "-o", str(out), "--format", "dpo")
    records = read_jsonl(out)
    names = pseudonyms(judged_study)
    assert [(r["prompt_id"], r["chosen_system"], r["rejected_system"]) for r in records] == [
        (prompt(0), ALPHA, BETA),
        (prompt(3), BETA, ALPHA),
    ]
    first, second = records
    assert first["weight"] == pytest.approx(2 / 3) and second["weight"] == pytest.approx(1 / 2)
    assert (first["votes_chosen"], first["votes_rejected"], first["ties"]) == (2, 1, 0)
    assert sorted(first["participants"]) == sorted([names["w1"], names["w2"], names["w3"]])
    assert first["prompt"] == [{"role": "user", "content": "I feel low today (0)."}]
    assert first["prompt_text"] == "seeker: I feel low today (0)."
    assert first["chosen"] == [{"role": "assistant", "content": f"Reply from {ALPHA} to {prompt(0)}"}]
    assert first["rejected_text"] == f"Reply from {BETA} to {prompt(0)}"


@pytest.mark.django_db
def test_manifest_records_spec_hash_filters_counts_and_file_hash(judged_study, tmp_path):
    out = tmp_path / "prefs.jsonl"
    filters = export_filters(judged_study, criteria=["overall"])
    manifest = export_write(judged_study, path=out, format="dpo", filters=filters)
    on_disk = json.loads(manifest_path(out).read_text())
    assert on_disk == manifest
    assert manifest["spec_hash"] == judged_study.spec_hash and manifest["study"] == judged_study.slug
    assert manifest["filters"]["criteria"] == ["overall"]
    assert manifest["counts"] == {
        "records": 2, "items": 4, "skipped_tie": 2, "skipped_missing_response": 0
    }  # fmt: skip
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


@pytest.mark.django_db
def test_per_judgment_export_gives_each_decisive_judgment_its_own_pair(judged_study, tmp_path):
    out = tmp_path / "each.jsonl"
    filters = export_filters(judged_study, per_judgment=True)
    export_write(judged_study, path=out, format="dpo", filters=filters)
    records = read_jsonl(out)
    # decisive judgments: prompt 0 three, prompt 2 two, prompt 3 one; ties never become pairs
    assert len(records) == 6
    weights = sorted((r["prompt_id"], r["chosen_system"], round(r["weight"], 4)) for r in records)
    assert weights == [
        (prompt(0), ALPHA, 0.6667), (prompt(0), ALPHA, 0.6667), (prompt(0), BETA, 0.3333),
        (prompt(2), ALPHA, 0.5), (prompt(2), BETA, 0.5), (prompt(3), BETA, 0.5),
    ]  # fmt: skip
    assert all(len(r["participants"]) == 1 for r in records)


@pytest.mark.django_db
def test_raw_export_names_participants_by_pseudonym_and_keeps_the_side_shown(judged_study, tmp_path):
    out = tmp_path / "raw.jsonl"
    call_command("export_preferences", judged_study.slug, "-o", str(out), "--format", "raw")
    text = out.read_text()
    assert "w1" not in text.replace(prompt(1), "")  # crowd ids never leave the platform
    records = read_jsonl(out)
    assert len(records) == 9
    w3_first = next(
        r
        for r in records
        if r["prompt_id"] == prompt(0) and r["participant"] == pseudonyms(judged_study)["w3"]
    )
    # imported as (beta, alpha) choice a, left a: stored canonically as (alpha, beta) choice b, left b
    assert (w3_first["system_a"], w3_first["choice"], w3_first["chosen_system"], w3_first["shown_left"]) == (
        ALPHA, "b", BETA, BETA
    )  # fmt: skip
    assert "attributes" not in w3_first


@pytest.mark.django_db
def test_raw_export_adds_survey_attributes_only_when_asked(judged_study, tmp_path):
    participant = Participant.objects.get(study=judged_study, user__crowd_id__endswith="/w1")
    participant.survey = {"country": "NZ"}
    participant.save(update_fields=["survey"])
    out = tmp_path / "raw.jsonl"
    export_write(
        judged_study, path=out, format="raw", filters=export_filters(judged_study, with_attributes=True)
    )
    countries = {
        r["attributes"].get("country")
        for r in read_jsonl(out)
        if r["participant"] == participant.user.pseudonym
    }
    assert countries == {"NZ"}


@pytest.mark.django_db
def test_one_sided_participants_are_left_out_when_asked_and_named_in_the_manifest(make_study, tmp_path):
    study = make_study()
    rows = [("lefty", prompt(i), ALPHA, BETA, "a", "a", "overall") for i in range(4)]
    rows += [("fair", prompt(i), ALPHA, BETA, "ab"[i % 2], "a", "overall") for i in range(4)]
    import_judgments(study, rows)
    out = tmp_path / "prefs.jsonl"
    manifest = export_write(
        study, path=out, format="raw", filters=export_filters(study, exclude_one_sided=True)
    )
    lefty = pseudonyms(study)["lefty"]
    assert manifest["filters"]["excluded_participants"] == [lefty]
    assert {r["participant"] for r in read_jsonl(out)} == {pseudonyms(study)["fair"]}


def test_items_missing_a_response_are_skipped_not_exported():
    rows = [
        {"choice": "a", "system_a": "x", "system_b": "y", "text_a": None, "text_b": "hi", "context": [],
         "prompt_id": "p", "criterion": "overall", "pseudonym": "p_1"},
    ]  # fmt: skip
    assert preference_records(rows, seeker="seeker", per_judgment=False) == ([], "missing_response")


@pytest.mark.django_db
def test_export_command_refuses_a_missing_folder(judged_study, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_preferences", judged_study.slug, "-o", str(tmp_path / "nope" / "x.jsonl"))
