"""Label export: rows, types that datasets can load, manifest, attributes, aggregation."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Label
from annotations.services.exporting import labels_export
from annotations.services.importing import items_import, labels_import, project_load_spec
from tests.factories import LabelFactory, UserFactory

DATA = Path(__file__).parent / "data"

SPEC = """
slug: stories
title: Stories
kind: narrative
dimensions:
  - {name: empathy, question: "How much?", type: likert, min: 1, max: 4}
  - {name: closeness, question: "How close?", type: slider}
  - {name: feeling, question: "Feeling?", type: choice, choices: [sad, happy]}
  - {name: reasons, question: "Why?", type: text}
export: {allow_attributes: ALLOW}
"""

DIALOGUE_SPEC = """
slug: talks
title: Talks
kind: dialogue
dimensions:
  - {name: empathy, question: "Turn empathy?", type: number, min: 1, max: 7, step: 0.5, per_turn: true}
  - {name: overall, question: "Overall?", type: likert, min: 1, max: 7}
"""

pytestmark = pytest.mark.django_db


def stories(researcher, allow: bool):
    project = project_load_spec(spec_text=SPEC.replace("ALLOW", "true" if allow else "false"), owner=researcher)
    items_import(project=project, path_or_file=DATA / "narratives.jsonl")
    labels_import(project=project, path_or_file=DATA / "labels.csv")
    return project


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_has_one_row_per_label_with_pseudonyms_and_typed_values(researcher, tmp_path):
    project = stories(researcher, allow=False)
    out = tmp_path / "labels.jsonl"
    manifest = labels_export(project=project, out=out, fmt="jsonl")
    rows = read_jsonl(out)
    assert len(rows) == manifest["labels"] == manifest["rows"] == 3
    first = rows[0]
    label = Label.objects.get(id=first["label_id"])
    assert first["annotator"] == label.annotator.pseudonym
    assert "w-00" not in out.read_text()  # crowd ids never leave the platform
    assert first["item_id"] == label.item.external_id and first["text"] == label.item.data["text"]
    assert not any(key.startswith("annotator_") for key in first)
    assert {(r["item_id"], r["empathy"], r["closeness"]) for r in rows} == {("n1", 3, None), ("n1", 4, None),
                                                                           ("n2", 2, None)}
    assert json.loads(first["item_metadata"]) == {"source": "forum", "year": 2021}
    assert list(first) == manifest["columns"]


def test_attributes_are_exported_only_when_the_spec_allows(researcher, tmp_path):
    project = stories(researcher, allow=True)
    out = tmp_path / "labels.jsonl"
    manifest = labels_export(project=project, out=out, fmt="jsonl")
    assert manifest["columns"][7:9] == ["annotator_gender", "annotator_country"]
    rows = read_jsonl(out)
    assert {(r["annotator_country"], r["annotator_gender"]) for r in rows} == {("US", "woman"), ("IN", "man")}


def test_manifest_is_written_beside_the_export(researcher, tmp_path):
    project = stories(researcher, allow=False)
    out = tmp_path / "labels.csv"
    call_command("export_labels", "stories", "-o", str(out), "--format", "csv", stdout=io.StringIO())
    manifest = json.loads((tmp_path / "labels.csv.manifest.json").read_text())
    assert manifest["spec_hash"] == project.spec_hash
    assert (manifest["labels"], manifest["annotators"], manifest["items"], manifest["format"]) == (3, 2, 2, "csv")
    assert manifest["exported_at"]


def test_csv_has_the_manifest_columns_and_blank_for_missing(researcher, tmp_path):
    project = stories(researcher, allow=False)
    out = tmp_path / "labels.csv"
    manifest = labels_export(project=project, out=out, fmt="csv")
    with out.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == manifest["columns"]
    assert {r["reasons"] for r in rows} == {"It felt familiar", ""}


def test_values_of_one_dimension_keep_one_type_even_when_stored_differently(researcher, tmp_path):
    project = stories(researcher, allow=False)
    item = project.items.get(external_id="3")
    LabelFactory(item=item, annotator=UserFactory(), values={"empathy": 2.0, "closeness": 40, "feeling": "sad"})
    LabelFactory(item=item, annotator=UserFactory(), values={"empathy": 1, "closeness": 12.5})
    out = tmp_path / "labels.jsonl"
    labels_export(project=project, out=out, fmt="jsonl")
    rows = [r for r in read_jsonl(out) if r["item_id"] == "3"]
    assert [type(r["empathy"]) for r in rows] == [int, int]
    assert [r["closeness"] for r in rows] == [40.0, 12.5] and isinstance(rows[0]["closeness"], float)


def test_export_loads_unchanged_with_datasets(researcher, tmp_path):
    datasets = pytest.importorskip("datasets")
    project = stories(researcher, allow=True)
    item = project.items.get(external_id="3")
    for value in (10, 55.5, 100):
        LabelFactory(item=item, annotator=UserFactory(), values={"empathy": 1, "closeness": value})
    out = tmp_path / "labels.jsonl"
    labels_export(project=project, out=out, fmt="jsonl")
    loaded = datasets.load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded.num_rows == 6
    assert loaded.features["empathy"].dtype == "int64"
    assert loaded.features["closeness"].dtype == "float64"
    assert loaded.features["annotator_country"].dtype == "string"


def test_per_turn_values_are_lists_as_long_as_the_dialogue(researcher, tmp_path):
    datasets = pytest.importorskip("datasets")
    project = project_load_spec(spec_text=DIALOGUE_SPEC, owner=researcher)
    items_import(project=project, path_or_file=DATA / "dialogues.jsonl")
    labels_import(project=project, path_or_file=DATA / "turn_labels.csv")
    out = tmp_path / "talks.jsonl"
    labels_export(project=project, out=out, fmt="jsonl")
    rows = sorted(read_jsonl(out), key=lambda r: r["empathy"][0])
    assert [r["empathy"] for r in rows] == [[2.0, None, None], [3.0, 4.0, 5.5]]
    assert [r["overall"] for r in rows] == [6, None]
    assert rows[0]["turns"][0] == {"speaker": "A", "text": "I failed my driving test again."}
    loaded = datasets.load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded.num_rows == 2


def test_mean_aggregation_gives_one_row_per_item_and_dimension(researcher, tmp_path):
    project = stories(researcher, allow=False)
    out = tmp_path / "mean.jsonl"
    manifest = labels_export(project=project, out=out, fmt="jsonl", aggregate="mean")
    rows = {(r["item"], r["dimension"]): r for r in read_jsonl(out)}
    assert rows[("n1", "empathy")]["value"] == pytest.approx(3.5)
    assert rows[("n1", "empathy")]["n_labels"] == 2
    assert rows[("n2", "empathy")]["value"] == pytest.approx(2.0)
    assert manifest["aggregate"] == "mean" and manifest["labels"] == 3


def test_export_of_an_unknown_project_fails_the_command(db, tmp_path):
    with pytest.raises(CommandError, match="no project"):
        call_command("export_labels", "missing", "-o", str(tmp_path / "x.jsonl"))
