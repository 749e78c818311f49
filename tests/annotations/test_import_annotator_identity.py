"""Imported annotator ids belong to their project: an import into B never moves A's annotators
between groups, unless the researcher says on purpose that B's ids are A's (--same-annotators-as)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from annotations.agreement.load import project_agreement_report, project_annotator_attributes
from annotations.models import Label
from annotations.services.exporting import labels_export
from annotations.services.importing import items_import, labels_import, project_load_spec

pytestmark = pytest.mark.django_db

SPEC = """
slug: SLUG
title: Stories SLUG
kind: narrative
dimensions:
  - {name: empathy, question: "How much?", type: likert, min: 1, max: 4}
export: {allow_attributes: true}
"""
ITEMS = "".join(json.dumps({"id": f"n{i}", "text": f"story {i}"}) + "\n" for i in range(6))


def _project(researcher, slug: str):
    project = project_load_spec(spec_text=SPEC.replace("SLUG", slug), owner=researcher)
    items_import(project=project, path_or_file=io.StringIO(ITEMS), fmt="jsonl")
    return project


def _labels(rows: list[tuple[str, str, int, str]]) -> io.StringIO:
    lines = ["item_id,annotator_id,dimension,value,country"]
    lines += [f"{item},{annotator},empathy,{value},{country}" for item, annotator, value, country in rows]
    return io.StringIO("\n".join(lines) + "\n")


# us1 and us2 agree with each other; in1 and in2 disagree with them and between themselves
A_ROWS = [(f"n{i}", who, value, country) for i in range(6) for who, value, country in (
    ("us1", 1 + i % 4, "US"), ("us2", 1 + i % 4, "US"), ("in1", 1 + (i * 3) % 4, "IN"), ("in2", 4 - i % 4, "IN"))]


def _by_country(project) -> dict:
    report = project_agreement_report(project=project, by=["country"], n_bootstrap=0)
    return {group: figures["dimensions"]["empathy"]["krippendorff_alpha"]
            for group, figures in report["groups"]["country"].items()}


def test_an_import_into_another_project_leaves_the_first_projects_groups_and_agreement_unchanged(researcher):
    a, b = _project(researcher, "first"), _project(researcher, "second")
    labels_import(project=a, path_or_file=_labels(A_ROWS))
    before = _by_country(a)
    assert set(before) == {"US", "IN"} and before["US"] == pytest.approx(1.0)

    labels_import(project=b, path_or_file=_labels([("n0", "us1", 2, "BR"), ("n1", "us1", 3, "BR")]))

    assert _by_country(a) == before
    countries_a = project_annotator_attributes(project=a)["country"].value_counts().to_dict()
    assert countries_a == {"US": 2, "IN": 2}
    assert project_annotator_attributes(project=b)["country"].tolist() == ["BR"]
    # the us1 of B is another person than the us1 of A
    a_us1 = Label.objects.get(project=a, item__external_id="n0", annotator__crowd_id="first/us1").annotator
    b_us1 = Label.objects.get(project=b, item__external_id="n0").annotator
    assert a_us1 != b_us1


def test_same_annotators_as_names_one_person_across_projects_with_attributes_kept_per_project(researcher, tmp_path):
    a, b = _project(researcher, "first"), _project(researcher, "second")
    labels_import(project=a, path_or_file=_labels(A_ROWS))
    before = _by_country(a)
    path = tmp_path / "b.csv"
    path.write_text(_labels([("n0", "us1", 2, "BR"), ("n1", "us2", 3, "BR")]).getvalue())
    call_command("import_labels", "second", str(path), "--same-annotators-as", "first", stdout=io.StringIO())

    a_people = set(Label.objects.filter(project=a).values_list("annotator__pseudonym", flat=True))
    b_people = set(Label.objects.filter(project=b).values_list("annotator__pseudonym", flat=True))
    assert b_people <= a_people and len(b_people) == 2
    assert _by_country(a) == before
    assert set(project_annotator_attributes(project=b)["country"]) == {"BR"}

    out = tmp_path / "a.jsonl"
    labels_export(project=a, out=out, fmt="jsonl")
    exported = {json.loads(line)["annotator_country"] for line in out.read_text().splitlines()}
    assert exported == {"US", "IN"}


def test_same_annotators_as_an_unknown_project_is_refused(researcher, tmp_path):
    _project(researcher, "second")
    path = tmp_path / "b.csv"
    path.write_text(_labels([("n0", "us1", 2, "BR")]).getvalue())
    with pytest.raises(Exception, match="--same-annotators-as: no project 'nowhere'"):
        call_command("import_labels", "second", str(path), "--same-annotators-as", "nowhere")
    assert not Label.objects.exists()


def test_agreement_by_a_group_prints_each_group_in_the_text_output(researcher):
    a = _project(researcher, "first")
    labels_import(project=a, path_or_file=_labels(A_ROWS))
    out = io.StringIO()
    call_command("agreement", "first", "--by", "country", "--bootstrap", "0", stdout=out)
    text = out.getvalue()
    assert "by country:" in text
    assert "country=US  annotators=2 labels=12" in text and "country=IN  annotators=2 labels=12" in text
    us_block = text.split("country=US")[1].split("between")[0]
    assert "empathy" in us_block and "alpha=1.000" in us_block
    assert "between country groups: empathy" in text


def test_import_labels_says_which_attribute_columns_it_kept(researcher, tmp_path):
    _project(researcher, "first")
    path = tmp_path / "a.csv"
    path.write_text(_labels(A_ROWS).getvalue())
    out = io.StringIO()
    call_command("import_labels", "first", str(path), stdout=out)
    assert out.getvalue().strip() == "imported 24 labels into first; annotator attributes kept for this project: country"


def test_api_import_names_the_same_annotators_only_of_a_project_the_researcher_may_see(
        researcher, other_researcher):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient

    a, b = _project(researcher, "first"), _project(researcher, "second")
    _project(other_researcher, "theirs")
    labels_import(project=a, path_or_file=_labels(A_ROWS))
    client = APIClient()
    client.force_authenticate(researcher)

    def upload(source: str):
        data = {"file": SimpleUploadedFile("b.csv", _labels([("n0", "us1", 2, "BR")]).getvalue().encode())}
        if source:
            data["same_annotators_as"] = source
        return client.post("/api/projects/second/labels/", data, format="multipart")

    assert upload("theirs").status_code == 404  # another researcher's project is not among yours
    assert not Label.objects.filter(project=b).exists()
    response = upload("first")
    assert response.status_code == 201 and response.json() == {"imported": 1, "attributes": ["country"]}
    b_us1 = Label.objects.get(project=b).annotator
    assert b_us1.crowd_id == "first/us1" and Label.objects.filter(project=a, annotator=b_us1).exists()
    assert _by_country(a)["US"] == pytest.approx(1.0)


def test_a_later_projects_survey_answer_does_not_move_an_annotator_between_groups_of_an_earlier_one(researcher):
    from annotations.services import flow
    from annotations.spec import spec_hash, spec_normalize
    from tests.factories import ItemFactory, LabelFactory, ProjectFactory, UserFactory

    def surveyed(slug):
        spec = spec_normalize({"slug": slug, "title": slug, "kind": "narrative",
                               "surveys": {"before": {"demographic": ["country"]}},
                               "dimensions": [{"name": "empathy", "question": "?", "type": "likert", "min": 1,
                                               "max": 4}]})
        return ProjectFactory(owner=researcher, slug=slug, spec=spec, spec_hash=spec_hash(spec))

    a, b = surveyed("survey-a"), surveyed("survey-b")
    person = UserFactory(username="moves-abroad", role="annotator")
    for project, country in ((a, "US"), (b, "BR")):
        enrollment = flow.enrollment_open(project=project, user=person)
        flow.enrollment_survey_submit(enrollment=enrollment, answers={"country": country})
        LabelFactory(project=project, item=ItemFactory(project=project), annotator=person, values={"empathy": 2})
    assert project_annotator_attributes(project=a)["country"].tolist() == ["US"]
    assert project_annotator_attributes(project=b)["country"].tolist() == ["BR"]


def test_migration_scopes_annotators_imported_before_ids_belonged_to_their_project(researcher):
    import importlib

    from django.apps import apps

    from annotations.models import ProjectAnnotator
    from tests.factories import ItemFactory, LabelFactory, UserFactory

    migration = importlib.import_module("annotations.migrations.0005_scope_existing_imported_annotators")
    a, b = _project(researcher, "first"), _project(researcher, "second")
    only_a = UserFactory(username="old-1", role="annotator", crowd_platform="imported", crowd_id="w1",
                         attributes={"country": "US"})
    merged = UserFactory(username="old-2", role="annotator", crowd_platform="imported", crowd_id="w2",
                         attributes={"country": "BR"})
    LabelFactory(project=a, item=a.items.get(external_id="n0"), annotator=only_a, values={"empathy": 1})
    for project in (a, b):
        LabelFactory(project=project, item=ItemFactory(project=project), annotator=merged, values={"empathy": 2})

    migration.scope_imported_annotators(apps, None)

    only_a.refresh_from_db()
    merged.refresh_from_db()
    assert only_a.crowd_id == "first/w1" and merged.crowd_id == "w2"
    records = {(r.project.slug, r.annotator.username): r.attributes for r in ProjectAnnotator.objects.all()}
    assert records == {("first", "old-1"): {"country": "US"}, ("first", "old-2"): {"country": "BR"},
                       ("second", "old-2"): {"country": "BR"}}
    # a later import of w1 into its project finds the same person again
    labels_import(project=a, path_or_file=_labels([("n1", "w1", 3, "US")]))
    assert Label.objects.filter(project=a, annotator=only_a).count() == 2
