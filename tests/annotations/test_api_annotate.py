"""The annotator REST API: next / submit / skip, who may call it, and what it never shows."""

import time

import pytest
from django.db.models import F
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Assignment, Item, Label
from annotations.services import flow
from tests.factories import LabelFactory, UserFactory

pytestmark = pytest.mark.django_db

NEXT, SUBMIT, SKIP = "/api/annotate/demo/next/", "/api/annotate/demo/submit/", "/api/annotate/demo/skip/"


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def enrolled(project, annotator):
    flow.enrollment_open(project=project, user=annotator)
    return annotator


@pytest.fixture
def held(enrolled):
    """The enrolled annotator's client and the assignment token of the item they hold."""
    client = _client(enrolled)
    return client, client.get(NEXT).json()["assignment"]


@pytest.mark.parametrize("who, expected", [
    ("researcher", 403), ("other_researcher", 403), ("participant", 403), ("anonymous", 401), ("enrolled", 200),
])
@pytest.mark.parametrize("endpoint", ["next", "submit", "skip"])
def test_only_the_enrolled_annotator_may_use_the_loop(request, project, enrolled, who, expected, endpoint):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = _client(user)
    token = _client(enrolled).get(NEXT).json()["assignment"]
    if endpoint == "next":
        response = client.get(NEXT)
    elif endpoint == "submit":
        response = client.post(SUBMIT, {"assignment": token, "values": {"empathy": 3}}, format="json")
    else:
        response = client.post(SKIP, {"assignment": token}, format="json")
    assert response.status_code == expected, response.content
    assert Label.objects.count() == (1 if expected == 200 and endpoint == "submit" else 0)


def test_annotator_without_enrollment_is_sent_to_the_project_link(project):
    stranger = UserFactory(username="stranger", role="annotator")
    response = _client(stranger).get(NEXT)
    assert response.status_code == 403 and "project link" in response.json()["detail"]
    assert not Assignment.objects.exists()


def test_closed_project_refuses_annotators(project, enrolled):
    project.is_open = False
    project.save()
    assert _client(enrolled).get(NEXT).status_code == 403


def test_next_reserves_an_item_and_shows_only_its_display_fields(project, enrolled):
    item = project.items.first()
    Item.objects.filter(project=project).update(gold={"empathy": 5}, metadata={"model": "secret-system"})
    LabelFactory(item=item, annotator=UserFactory(username="someone-else"), values={"empathy": 1})
    body = _client(enrolled).get(NEXT).json()
    assignment = Assignment.objects.get(annotator=enrolled)
    assert body["stage"] == "work" and body["stop"] is None and body["done"] == 0 and body["goal"] == 5
    assert body["assignment"] and str(assignment.id) != body["assignment"]
    assert body["item"]["data"] == Item.objects.get(id=assignment.item_id).data
    assert [widget["field"] for widget in body["item"]["widgets"]] == ["d__empathy"]
    assert "secret-system" not in str(body) and "someone-else" not in str(body)
    assert not {"gold", "labels", "values", "role", "metadata"} & _keys(body)


def _keys(value) -> set[str]:
    """Every dictionary key at any depth of a JSON body."""
    if isinstance(value, dict):
        return set(value) | {key for child in value.values() for key in _keys(child)}
    if isinstance(value, list):
        return {key for child in value for key in _keys(child)}
    return set()


def test_next_again_returns_the_item_already_held(held, monkeypatch):
    client, token = held
    later = time.time() + 5  # the same token however much later it is asked for again
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(NEXT).json()["assignment"] == token
    assert Assignment.objects.count() == 1


def test_submit_stores_the_label_and_returns_the_next_item(held, enrolled):
    client, token = held
    response = client.post(SUBMIT, {"assignment": token, "values": {"empathy": "4"}, "seconds": 7.5}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    label = Label.objects.get(annotator=enrolled)
    assert body["label"]["values"] == label.values == {"empathy": 4} and label.seconds == 7.5
    assert body["next"]["assignment"] not in (None, token) and body["next"]["done"] == 1
    assert Assignment.objects.filter(annotator=enrolled, status="reserved").count() == 1


def test_second_submit_of_the_same_assignment_changes_nothing(held, enrolled):
    client, token = held
    first = client.post(SUBMIT, {"assignment": token, "values": {"empathy": 2}}, format="json").json()
    second = client.post(SUBMIT, {"assignment": token, "values": {"empathy": 5}}, format="json").json()
    assert first["label"] == second["label"] and Label.objects.get(annotator=enrolled).values == {"empathy": 2}


@pytest.mark.parametrize("payload, field", [
    ({"values": {"empathy": 3}}, "assignment"),
    ({"assignment": "forged-id", "values": {"empathy": 3}}, "assignment"),
    ({"assignment": "TOKEN", "values": "three"}, "values"),
    ({"assignment": "TOKEN"}, "values"),
    ({"assignment": "TOKEN", "values": {"empathy": 3}, "seconds": -1}, "seconds"),
    ({"assignment": "TOKEN", "values": {"empathy": 3}, "seconds": "soon"}, "seconds"),
])
def test_malformed_submit_is_refused_naming_the_field(held, payload, field):
    client, token = held
    payload = {key: token if value == "TOKEN" else value for key, value in payload.items()}
    response = client.post(SUBMIT, payload, format="json")
    assert response.status_code == 400 and list(response.json()) == [field]
    assert not Label.objects.exists()


def test_answer_outside_the_scale_is_refused_naming_the_dimension(held):
    client, token = held
    response = client.post(SUBMIT, {"assignment": token, "values": {"empathy": 9, "mood": 1}}, format="json")
    assert response.status_code == 400
    errors = response.json()["values"]
    assert set(errors) == {"empathy", "mood"}
    assert not Label.objects.exists() and Assignment.objects.get().status == "reserved"


def test_another_annotators_assignment_is_not_found(project, held):
    _, token = held
    other = UserFactory(username="other-annotator", role="annotator")
    flow.enrollment_open(project=project, user=other)
    response = _client(other).post(SUBMIT, {"assignment": token, "values": {"empathy": 3}}, format="json")
    assert response.status_code == 404
    assert not Label.objects.exists() and Assignment.objects.get(annotator__username="annotator").status == "reserved"


def test_distressing_skip_gives_the_item_back_and_moves_on(held, enrolled):
    client, token = held
    skipped_item = Assignment.objects.get(annotator=enrolled).item_id
    body = client.post(SKIP, {"assignment": token, "distressing": True}, format="json").json()
    assert body["skipped"] is True and body["next"]["assignment"] not in (None, token)
    assert Assignment.objects.get(item_id=skipped_item, annotator=enrolled).status == "distressing"
    assert Item.objects.get(id=skipped_item).taken == 0
    again = client.post(SKIP, {"assignment": token}, format="json").json()
    assert again["skipped"] is False


def test_skip_with_a_malformed_flag_names_the_field(held):
    client, token = held
    response = client.post(SKIP, {"assignment": token, "distressing": "perhaps"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["distressing"]


def test_when_the_pool_runs_out_the_annotator_moves_to_the_end(project, enrolled):
    client = _client(enrolled)
    turn = client.get(NEXT).json()
    submitted = 0
    while turn["assignment"] is not None:
        turn = client.post(SUBMIT, {"assignment": turn["assignment"], "values": {"empathy": 3}}, format="json").json()
        submitted += 1
        turn = turn["next"]
    assert submitted == 5 and turn["stop"] == "finished" and turn["stage"] == "final" and turn["done"] == 5
    response = client.post(SUBMIT, {"assignment": "anything", "values": {"empathy": 3}}, format="json")
    assert response.status_code == 400 and "stage" in response.json()["assignment"][0]


def test_quota_stops_the_loop(project, enrolled):
    project.spec["limits"] = {"items_per_annotator": 1}
    project.save()
    client = _client(enrolled)
    token = client.get(NEXT).json()["assignment"]
    body = client.post(SUBMIT, {"assignment": token, "values": {"empathy": 3}}, format="json").json()
    assert body["next"]["stop"] == "quota" and body["next"]["assignment"] is None and body["next"]["goal"] == 1


def test_token_authentication_works_for_annotators(enrolled):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=enrolled).key}")
    assert client.get(NEXT).status_code == 200


def test_endpoints_are_in_the_openapi_schema(researcher):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert {route for route in schema["paths"] if route.startswith("/api/annotate/")} == {"/api/annotate/{slug}/next/", "/api/annotate/{slug}/submit/",
                                    "/api/annotate/{slug}/skip/"}
    submit = schema["paths"]["/api/annotate/{slug}/submit/"]["post"]
    assert "400" in submit["responses"] and "Annotators only" in submit["description"]


def test_late_submit_after_the_item_was_completed_by_others_names_the_assignment(held, enrolled):
    from datetime import timedelta

    from django.utils import timezone

    from annotations.services.routing import reservations_reclaim

    client, token = held
    assignment = Assignment.objects.get(annotator=enrolled)
    Assignment.objects.filter(id=assignment.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert reservations_reclaim(project_id=assignment.project_id, force=True) == 1
    Item.objects.filter(id=assignment.item_id).update(taken=F("needed"), is_full=True)  # others filled it meanwhile
    response = client.post(SUBMIT, {"assignment": token, "values": {"empathy": 3}}, format="json")
    assert response.status_code == 400 and "completed by others" in response.json()["assignment"][0]
    assert not Label.objects.exists() and Assignment.objects.get(id=assignment.id).status == "expired"
