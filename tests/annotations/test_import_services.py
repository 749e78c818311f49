"""Import services against the real database: specs, items and labels, all or nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotations.importing import ImportFormatError
from annotations.models import Item, Label, Project, ProjectAnnotator
from annotations.services.importing import items_import, labels_import, project_load_spec
from annotations.spec import SpecError

DATA = Path(__file__).parent / "data"
PRESETS = Path(__file__).resolve().parents[2] / "annotations" / "presets"

NARRATIVE_SPEC = """
slug: stories
title: Stories
kind: narrative
overlap: 2
dimensions:
  - {name: empathy, question: "How much do you empathize?", type: likert, min: 1, max: 4}
  - {name: reasons, question: "Why?", type: text}
export: {allow_attributes: true}
"""

DIALOGUE_SPEC = """
slug: talks
title: Talks
kind: dialogue
dimensions:
  - {name: empathy, question: "How empathic is this turn?", type: number, min: 1, max: 7, step: 0.5, per_turn: true}
  - {name: overall, question: "Overall?", type: likert, min: 1, max: 7}
"""

pytestmark = pytest.mark.django_db


@pytest.fixture
def stories(researcher) -> Project:
    return project_load_spec(spec_text=NARRATIVE_SPEC, owner=researcher)


def test_loading_a_spec_creates_then_updates_the_project_by_slug(researcher):
    project = project_load_spec(spec_text=NARRATIVE_SPEC, owner=researcher)
    assert (project.kind, project.overlap, project.owner) == ("narrative", 2, researcher)
    assert project.spec["dimensions"][0]["max"] == 4 and len(project.spec_hash) == 64
    first_hash = project.spec_hash
    updated = project_load_spec(spec_text=NARRATIVE_SPEC.replace("overlap: 2", "overlap: 5"), owner=None)
    assert updated.pk == project.pk and updated.overlap == 5 and updated.owner == researcher
    assert updated.spec_hash != first_hash
    assert Project.objects.count() == 1


def test_a_new_project_needs_an_owner(db):
    with pytest.raises(ValueError, match="owner"):
        project_load_spec(spec_text=NARRATIVE_SPEC, owner=None)


def test_kind_cannot_change_once_items_exist(stories):
    items_import(project=stories, path_or_file=DATA / "narratives.jsonl")
    with pytest.raises(SpecError) as caught:
        project_load_spec(spec_text=NARRATIVE_SPEC.replace("kind: narrative", "kind: pair"), owner=None)
    assert caught.value.path == "kind"


def test_spec_attention_checks_become_items_and_gold_answers_mark_items(researcher):
    text = (PRESETS / "multi_perspective_empathy.yaml").read_text()
    project = project_load_spec(spec_text=text, owner=researcher)
    check = Item.objects.get(project=project, role=Item.Role.ATTENTION)
    assert check.external_id == "check-resonation-1" and check.gold == {"resonation": 1, "expression": 1, "reception": 1}
    items_import(project=project, path_or_file=DATA / "responses.csv")
    project_load_spec(spec_text=text + "gold:\n  rate: 0.1\n  answers:\n    r1: {resonation: 4}\n", owner=None)
    assert Item.objects.get(project=project, external_id="r1").role == Item.Role.GOLD
    project_load_spec(spec_text=text, owner=None)
    r1 = Item.objects.get(project=project, external_id="r1")
    assert (r1.role, r1.gold) == (Item.Role.TASK, None)


def test_every_preset_loads_through_the_command(researcher):
    for path in sorted(PRESETS.glob("*.yaml")):
        call_command("load_project", str(path), owner="researcher", stdout=io.StringIO())
    assert Project.objects.count() == 5


def test_bad_spec_fails_the_command_with_the_key(researcher, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(NARRATIVE_SPEC.replace("type: likert", "type: lickert"))
    with pytest.raises(CommandError, match=r"dimensions\[0\]\.type: 'lickert' is not one of likert"):
        call_command("load_project", str(path), owner="researcher")


@pytest.mark.parametrize(
    "spec_file, data_file, count",
    [
        ("narrative_pair_similarity.yaml", "empathic_stories_pairs.csv", 2),
        ("epitome_mechanisms.yaml", "emotional-reactions-reddit.csv", 3),
        ("turn_level_conversation.yaml", "conversation_turns.csv", 2),
        ("turn_level_conversation.yaml", "empathetic_dialogues.csv", 2),
        ("turn_level_conversation.yaml", "dialogues.jsonl", 2),
        ("response_quality.yaml", "responses.csv", 2),
    ],
)
def test_each_format_imports_into_its_preset(researcher, spec_file, data_file, count):
    project = project_load_spec(spec_text=(PRESETS / spec_file).read_text(), owner=researcher)
    assert items_import(project=project, path_or_file=DATA / data_file) == count
    tasks = Item.objects.filter(project=project, role=Item.Role.TASK)
    assert tasks.count() == count
    assert {item.needed for item in tasks} == {project.overlap}


def test_items_land_with_data_metadata_and_kind(stories):
    assert items_import(project=stories, path_or_file=DATA / "narratives.jsonl") == 3
    n1 = Item.objects.get(project=stories, external_id="n1")
    assert (n1.kind, n1.data["text"][:10], n1.metadata) == ("narrative", "I lost my ", {"source": "forum", "year": 2021})


def test_a_bad_line_stores_nothing(stories, tmp_path):
    lines = [json.dumps({"id": f"x{i}", "text": f"story {i}"}) for i in range(4500)]
    lines[4321] = json.dumps({"id": "x4321", "text": ""})
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFormatError) as caught:
        items_import(project=stories, path_or_file=path)
    assert (caught.value.line, caught.value.field) == (4322, "text")
    assert Item.objects.filter(project=stories).count() == 0


def test_ids_already_in_the_project_are_refused(stories):
    items_import(project=stories, path_or_file=DATA / "narratives.jsonl")
    with pytest.raises(CommandError, match=r"narratives.jsonl, line 1, field 'id': 'n1' is already an item"):
        call_command("import_items", "stories", str(DATA / "narratives.jsonl"))
    assert Item.objects.filter(project=stories).count() == 3


def test_items_of_another_kind_are_refused(stories):
    with pytest.raises(ImportFormatError):
        items_import(project=stories, path_or_file=DATA / "dialogues.jsonl")


def test_gold_and_attention_answers_in_the_file_are_checked_against_the_schema(stories, tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text('{"id": "g1", "text": "t", "gold": {"empathy": 3}}\n'
                    '{"id": "c1", "text": "t", "attention_check": {"empathy": 1}, "distressing": true}\n')
    items_import(project=stories, path_or_file=path)
    g1, c1 = Item.objects.get(external_id="g1"), Item.objects.get(external_id="c1")
    assert (g1.role, g1.gold) == (Item.Role.GOLD, {"empathy": 3})
    assert (c1.role, c1.gold, c1.distressing) == (Item.Role.ATTENTION, {"empathy": 1}, True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "g2", "text": "t", "gold": {"empathy": 9}}\n')
    with pytest.raises(ImportFormatError) as caught:
        items_import(project=stories, path_or_file=bad)
    assert caught.value.field == "gold.empathy"


def test_import_items_command_takes_an_explicit_format(stories, tmp_path):
    path = tmp_path / "stories.txt"
    path.write_text('{"id": "a", "text": "one"}\n')
    call_command("import_items", "stories", str(path), "--format", "jsonl", stdout=io.StringIO())
    assert Item.objects.filter(project=stories).count() == 1


def test_long_label_csv_gathers_dimensions_per_item_and_annotator(stories):
    items_import(project=stories, path_or_file=DATA / "narratives.jsonl")
    assert labels_import(project=stories, path_or_file=DATA / "labels.csv") == 3
    users = get_user_model().objects.filter(crowd_platform="imported").order_by("crowd_id")
    # ids belong to the project they were imported into; attributes are recorded for that project
    assert [(u.crowd_id, u.role) for u in users] == [("stories/w-001", "annotator"), ("stories/w-002", "annotator")]
    assert {r.annotator.crowd_id: r.attributes for r in ProjectAnnotator.objects.filter(project=stories)} == {
        "stories/w-001": {"country": "US", "gender": "woman"},
        "stories/w-002": {"country": "IN", "gender": "man"},
    }
    values = {(lab.item.external_id, lab.annotator.crowd_id): lab.values for lab in Label.objects.all()}
    assert values == {
        ("n1", "stories/w-001"): {"empathy": 3, "reasons": "It felt familiar"},
        ("n1", "stories/w-002"): {"empathy": 4},
        ("n2", "stories/w-002"): {"empathy": 2},
    }
    assert {lab.source for lab in Label.objects.all()} == {"import"}
    n1 = Item.objects.get(external_id="n1")
    assert (n1.labels_count, n1.taken, n1.is_full) == (2, 2, True)


def test_reimporting_the_same_labels_changes_nothing_but_a_conflict_is_an_error(stories, tmp_path):
    items_import(project=stories, path_or_file=DATA / "narratives.jsonl")
    labels_import(project=stories, path_or_file=DATA / "labels.csv")
    assert labels_import(project=stories, path_or_file=DATA / "labels.csv") == 0
    conflict = tmp_path / "conflict.csv"
    conflict.write_text("item_id,annotator_id,dimension,value\nn2,w-001,reasons,new\nn1,w-001,empathy,1\n")
    with pytest.raises(ImportFormatError) as caught:
        labels_import(project=stories, path_or_file=conflict)
    assert (caught.value.line, caught.value.field) == (3, "value")
    assert Label.objects.count() == 3


@pytest.mark.parametrize(
    "content, line, field",
    [
        ("item_id,annotator_id,dimension,value\nn1,a,empathy,5\n", 2, "value"),
        ("item_id,annotator_id,dimension,value\nn1,a,empathy,3\nnope,a,empathy,3\n", 3, "item_id"),
        ("item_id,annotator_id,dimension,value\nn1,a,empathetic,3\n", 2, "dimension"),
        ("item_id,annotator_id,dimension,value\nn1,a,empathy,3\nn1,a,empathy,2\n", 3, "dimension"),
        ("item_id,annotator_id,dimension,value,country\nn1,a,empathy,3,US\nn2,a,empathy,3,FR\n", 3, "country"),
        ("item_id,annotator_id,dimension,value\nn1,a,empathy[1],3\n", 2, "turn"),
    ],
)
def test_bad_label_rows_store_nothing(stories, tmp_path, content, line, field):
    items_import(project=stories, path_or_file=DATA / "narratives.jsonl")
    path = tmp_path / "labels.csv"
    path.write_text(content)
    with pytest.raises(ImportFormatError) as caught:
        labels_import(project=stories, path_or_file=path)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert Label.objects.count() == 0
    assert not get_user_model().objects.filter(crowd_platform="imported").exists()


def test_per_turn_labels_are_stored_by_turn_index(researcher):
    project = project_load_spec(spec_text=DIALOGUE_SPEC, owner=researcher)
    items_import(project=project, path_or_file=DATA / "dialogues.jsonl")
    call_command("import_labels", "talks", str(DATA / "turn_labels.csv"), stdout=io.StringIO())
    values = {lab.annotator.crowd_id: lab.values for lab in Label.objects.filter(project=project)}
    assert values == {"talks/r1": {"empathy": {"0": 3.0, "1": 4.0, "2": 5.5}},
                      "talks/r2": {"empathy": {"0": 2.0}, "overall": 6}}


def test_per_turn_label_beyond_the_dialogue_is_an_error(researcher, tmp_path):
    project = project_load_spec(spec_text=DIALOGUE_SPEC, owner=researcher)
    items_import(project=project, path_or_file=DATA / "dialogues.jsonl")
    path = tmp_path / "l.csv"
    path.write_text("item_id,annotator_id,dimension,value\nd2,r1,empathy[2],3\n")
    with pytest.raises(CommandError, match=r"l.csv, line 2, field 'turn': turn 2 but the dialogue has 2 turns"):
        call_command("import_labels", "talks", str(path))


def test_epitome_levels_import_as_labels_of_each_mechanism(researcher, tmp_path):
    project = project_load_spec(spec_text=(PRESETS / "epitome_mechanisms.yaml").read_text(), owner=researcher)
    items_import(project=project, path_or_file=DATA / "emotional-reactions-reddit.csv")
    labels_import(project=project, path_or_file=DATA / "emotional-reactions-reddit.csv")
    explorations = tmp_path / "explorations-reddit.csv"
    explorations.write_text("sp_id,rp_id,seeker_post,response_post,level,rationales\n"
                            "9ltc8c,e79e4gx,post,reply,1,\n")
    labels_import(project=project, path_or_file=explorations)
    label = Label.objects.get(item__external_id="e79e4gx")
    assert label.annotator.crowd_id == f"{project.slug}/epitome"
    assert label.values == {"emotional_reactions": 2, "explorations": 1}


def test_labels_from_an_uploaded_file(stories):
    items_import(project=stories, path_or_file=DATA / "narratives.jsonl")
    upload = io.BytesIO(b"item_id,annotator_id,dimension,value\nn1,a,empathy,2\n")
    upload.name = "upload.csv"
    assert labels_import(project=stories, path_or_file=upload) == 1
