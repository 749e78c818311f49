"""The researcher API end to end: spec in, items in, labels out, and nobody overwrites another group's project."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotations.models import Item, Project
from tests.factories import LabelFactory

pytestmark = pytest.mark.django_db

SPEC = """
slug: api-demo
title: API demo
kind: narrative
overlap: 2
dimensions:
  - {name: empathy, question: "How empathic?", type: likert, min: 1, max: 4, level: ordinal}
"""


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_researcher_creates_project_imports_items_and_exports_labels(researcher):
    client = _client(researcher)
    created = client.post("/api/projects/", {"spec": SPEC}, format="json")
    assert created.status_code == 201 and created.json()["slug"] == "api-demo"
    upload = SimpleUploadedFile("items.jsonl", b'{"id": "n1", "text": "I lost my job."}\n{"id": "n2", "text": "My dog died."}\n')
    imported = client.post("/api/projects/api-demo/items/", {"file": upload}, format="multipart")
    assert imported.status_code == 201 and imported.json() == {"imported": 2}
    project = Project.objects.get(slug="api-demo")
    LabelFactory(item=Item.objects.get(external_id="n1"), values={"empathy": 3})
    exported = client.get("/api/projects/api-demo/labels/export/?format=jsonl")
    assert exported.status_code == 200, exported.content
    rows = [json.loads(line) for line in b"".join(exported.streaming_content).decode().splitlines()]
    assert exported.status_code == 200 and len(rows) == 1 and rows[0]["empathy"] == 3
    assert project.owner == researcher


def test_malformed_line_is_reported_with_its_number_and_nothing_is_stored(researcher):
    client = _client(researcher)
    client.post("/api/projects/", {"spec": SPEC}, format="json")
    upload = SimpleUploadedFile("items.jsonl", b'{"id": "n1", "text": "fine"}\n{"id": "n2", "text": \n')
    response = client.post("/api/projects/api-demo/items/", {"file": upload}, format="multipart")
    assert response.status_code == 400 and "line 2" in response.json()["detail"]
    assert not Item.objects.filter(project__slug="api-demo", role="task").exists()


def test_bad_spec_names_the_wrong_key(researcher):
    response = _client(researcher).post("/api/projects/", {"spec": SPEC.replace("likert", "lickert")}, format="json")
    assert response.status_code == 400 and "dimensions[0].type" in response.json()["detail"]


def test_another_researcher_cannot_overwrite_a_project_by_reusing_its_slug(researcher, other_researcher):
    _client(researcher).post("/api/projects/", {"spec": SPEC}, format="json")
    response = _client(other_researcher).post("/api/projects/", {"spec": SPEC.replace("API demo", "Stolen")},
                                              format="json")
    assert response.status_code == 409 and response.json()["where"] == "slug" and "api-demo" in response.json()["detail"]
    response = _client(other_researcher).put("/api/projects/api-demo/", {"spec": SPEC.replace("API demo", "Stolen")},
                                             format="json")
    assert response.status_code == 404
    project = Project.objects.get(slug="api-demo")
    assert project.title == "API demo" and project.owner == researcher


def test_collaborator_may_update_the_spec_but_ownership_stays(researcher, other_researcher):
    _client(researcher).post("/api/projects/", {"spec": SPEC}, format="json")
    Project.objects.get(slug="api-demo").collaborators.add(other_researcher)
    response = _client(other_researcher).put("/api/projects/api-demo/", {"spec": SPEC.replace("overlap: 2", "overlap: 3")},
                                             format="json")
    assert response.status_code == 200
    project = Project.objects.get(slug="api-demo")
    assert project.overlap == 3 and project.owner == researcher


def test_openapi_schema_lists_the_project_endpoints(researcher):
    response = _client(researcher).get("/api/schema/", HTTP_ACCEPT="application/json")
    paths = json.loads(response.content)["paths"] if response["Content-Type"].startswith("application/json") else None
    text = response.content.decode()
    assert response.status_code == 200
    assert "/api/projects/{slug}/items/" in (paths or text)


def test_labels_collected_elsewhere_import_with_annotator_attributes(researcher):
    client = _client(researcher)
    client.post("/api/projects/", {"spec": SPEC}, format="json")
    items = SimpleUploadedFile("items.jsonl", b'{"id": "n1", "text": "I lost my job."}\n')
    client.post("/api/projects/api-demo/items/", {"file": items}, format="multipart")
    labels = SimpleUploadedFile("labels.csv", b"item_id,annotator_id,dimension,value,country\n"
                                              b"n1,w1,empathy,3,Kenya\nn1,w2,empathy,,Peru\n")
    response = client.post("/api/projects/api-demo/labels/", {"file": labels}, format="multipart")
    assert response.status_code == 201 and response.json() == {"imported": 1, "attributes": ["country"]}
    bad = SimpleUploadedFile("labels.csv", b"item_id,annotator_id,dimension,value\nn1,w3,empathy,9\n")
    response = client.post("/api/projects/api-demo/labels/", {"file": bad}, format="multipart")
    assert response.status_code == 400 and "line 2" in response.json()["detail"]
