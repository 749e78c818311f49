"""A numeric choice (yes = 1, no = 0) beside a slider keeps its labels on every path:
import, page, API -> store -> agreement inputs -> aggregates -> exports."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.agreement.load import project_agreement_report, project_label_frame
from annotations.models import Label
from annotations.services import flow
from annotations.services.exporting import labels_export
from annotations.services.importing import items_import, labels_import, project_load_spec

pytestmark = pytest.mark.django_db

SPEC = """
slug: quality
title: Response quality
kind: response
overlap: 3
dimensions:
  - {name: natural, question: "How natural?", type: slider, min: 0, max: 100}
  - name: understandable
    question: "Understandable and consistent?"
    type: choice
    choices: [{value: 1, label: "Yes"}, {value: 0, label: "No"}]
"""

ITEMS = "\n".join(json.dumps({"id": f"r{i}", "context": f"I feel alone {i}.", "response": f"I hear you {i}."})
                  for i in range(3)) + "\n"
LABELS = """item_id,annotator_id,dimension,value
r0,a1,natural,80
r0,a1,understandable,1
r0,a2,natural,70
r0,a2,understandable,1
r1,a1,natural,20
r1,a1,understandable,0
r1,a2,natural,30
r1,a2,understandable,0
r2,a1,understandable,1
r2,a2,understandable,1
"""


def _project(researcher):
    project = project_load_spec(spec_text=SPEC, owner=researcher)
    items_import(project=project, path_or_file=io.StringIO(ITEMS), fmt="jsonl")
    return project


def _assert_choice_survives(project, tmp_path, expected: dict[str, set]):
    """``expected`` maps item id to the set of understandable values stored for it."""
    frame = project_label_frame(project=project)
    got = frame[frame["dimension"] == "understandable"].groupby("item")["value"].apply(lambda s: sorted(s.tolist()))
    assert {item: set(values) for item, values in got.items()} == expected
    assert all(type(v) is int for v in frame[frame["dimension"] == "understandable"]["value"])
    assert all(type(v) is float for v in frame[frame["dimension"] == "natural"]["value"])

    report = project_agreement_report(project=project, n_bootstrap=0)
    figures = report["dimensions"]["understandable"]
    assert figures["n_items"] == len(expected)
    assert figures["n_labels"] == len(frame[frame["dimension"] == "understandable"])

    out = tmp_path / "majority.jsonl"
    labels_export(project=project, out=out, fmt="jsonl", aggregate="majority")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    majority = {r["item"]: r["value"] for r in rows if r["dimension"] == "understandable"}
    assert set(majority) == set(expected)
    # an aggregated file trains without a join: each row carries the item's context and response
    assert {(r["item"], r["context"], r["response"]) for r in rows} == {
        (f"r{i}", f"I feel alone {i}.", f"I hear you {i}.") for i in range(3) if f"r{i}" in expected
    }
    for item, values in expected.items():
        if len(values) == 1:
            assert majority[item] == next(iter(values)) and type(majority[item]) is int

    out = tmp_path / "plain.jsonl"
    labels_export(project=project, out=out, fmt="jsonl")
    plain = [json.loads(line) for line in out.read_text().splitlines()]
    exported = {}
    for row in plain:
        if row["understandable"] is not None:
            exported.setdefault(row["item_id"], set()).add(row["understandable"])
    assert exported == expected


def test_imported_numeric_choice_beside_a_slider_keeps_its_labels_in_agreement_and_exports(researcher, tmp_path):
    project = _project(researcher)
    labels_import(project=project, path_or_file=io.StringIO(LABELS), fmt="labels_csv")
    _assert_choice_survives(project, tmp_path, {"r0": {1}, "r1": {0}, "r2": {1}})
    stdout = io.StringIO()
    call_command("agreement", "quality", "--bootstrap", "0", stdout=stdout)
    line = next(row for row in stdout.getvalue().splitlines() if row.startswith("understandable"))
    assert "items=3" in line and "labels=6" in line


def test_numeric_choice_submitted_on_the_page_reaches_agreement_and_exports(client, researcher, annotator, tmp_path):
    project = _project(researcher)
    flow.enrollment_open(project=project, user=annotator)
    client.force_login(annotator)
    page = client.get(reverse("annotations:annotate", args=["quality"]), follow=True)
    answers = {"r0": ("85", "1"), "r1": ("15", "0"), "r2": ("50", "1")}
    for _ in range(3):
        assignment = page.context["assignment"]
        natural, understandable = answers[assignment.item.external_id]
        page = client.post(reverse("annotations:annotate_submit", args=["quality"]),
                           {"assignment": assignment.id, "d__natural": natural, "d__understandable": understandable},
                           follow=True)
    assert Label.objects.filter(project=project).count() == 3
    _assert_choice_survives(project, tmp_path, {"r0": {1}, "r1": {0}, "r2": {1}})


def test_numeric_choice_submitted_through_the_api_reaches_agreement_and_exports(researcher, annotator, tmp_path):
    project = _project(researcher)
    flow.enrollment_open(project=project, user=annotator)
    client = APIClient()
    client.force_authenticate(annotator)
    answers = {"r0": (85, 1), "r1": (15, 0), "r2": (50, 1)}
    held = client.get("/api/annotate/quality/next/").json()
    for _ in range(3):
        item_id = "r" + held["item"]["data"]["response"].split()[-1].rstrip(".")
        natural, understandable = answers[item_id]
        held = client.post("/api/annotate/quality/submit/", {
            "assignment": held["assignment"], "values": {"natural": natural, "understandable": understandable},
        }, format="json").json().get("next") or {}
    assert Label.objects.filter(project=project).count() == 3
    _assert_choice_survives(project, tmp_path, {"r0": {1}, "r1": {0}, "r2": {1}})
