"""Abuse: logins are locked out after repeated failures, public links and the loop are rate-limited, logout ends
the session on the server, and only a project's owner shares it."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotations.models import Project
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db):
    user = UserFactory(username="rhea", role="researcher")
    user.set_password("right-horse-battery")
    user.save()
    return user


def test_many_wrong_passwords_on_the_token_endpoint_lock_the_account_out_even_for_the_right_one(person):
    client = APIClient()
    for _ in range(10):
        assert client.post("/api/token/", {"username": "rhea", "password": "wrong"}).status_code == 400
    locked = client.post("/api/token/", {"username": "rhea", "password": "right-horse-battery"})
    # django-axes refuses the pair inside authenticate(), so DRF answers as for a wrong password: no token
    assert locked.status_code in (400, 403, 429) and "token" not in locked.json()


def test_a_few_wrong_passwords_then_the_right_one_still_logs_in(person):
    client = APIClient()
    for _ in range(3):
        client.post("/api/token/", {"username": "rhea", "password": "wrong"})
    assert "token" in client.post("/api/token/", {"username": "rhea", "password": "right-horse-battery"}).json()


def test_the_login_page_locks_out_after_repeated_failures(person):
    client = Client()
    for _ in range(10):
        client.post("/accounts/login/", {"username": "rhea", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "rhea", "password": "right-horse-battery"})
    assert response.status_code in (403, 429) and "_auth_user_id" not in client.session


def test_a_session_cookie_stops_working_after_logout(person):
    client = Client()
    assert client.post("/accounts/login/", {"username": "rhea", "password": "right-horse-battery"}).status_code == 302
    stolen = client.cookies["sessionid"].value
    assert client.get("/dashboard/").status_code == 200
    client.post("/accounts/logout/")
    replayed = Client()
    replayed.cookies["sessionid"] = stolen
    response = replayed.get("/dashboard/")
    assert response.status_code in (302, 403) and "rhea" not in response.content.decode()


def test_opening_crowd_links_too_fast_from_one_address_is_refused(project, settings):
    settings.RESONANCE_RATE_LIMITS = {**settings.RESONANCE_RATE_LIMITS, "join": "5/m"}
    statuses = [Client().get("/p/demo/", {"PROLIFIC_PID": f"bot{i}"}).status_code for i in range(8)]
    assert statuses[:5].count(429) == 0 and statuses[5:] == [429, 429, 429]
    from webapp.people.models import User
    assert User.objects.filter(crowd_id__startswith="bot").count() <= 5


def test_token_logins_too_fast_from_one_address_are_refused(person, settings):
    settings.RESONANCE_RATE_LIMITS = {**settings.RESONANCE_RATE_LIMITS, "login": "3/m"}
    client = APIClient()
    statuses = [client.post("/api/token/", {"username": "x", "password": "y"}).status_code for _ in range(5)]
    assert statuses[-1] == 429 and statuses[:3] == [400, 400, 400]


def test_a_collaborator_cannot_share_the_project_onward(project, researcher, other_researcher):
    project.collaborators.add(other_researcher)
    third = UserFactory(username="third", role="researcher")
    api = APIClient()
    api.force_authenticate(other_researcher)
    response = api.post(f"/api/projects/{project.slug}/share/", {"username": "third"}, format="json")
    assert response.status_code == 403
    assert not Project.objects.get(pk=project.pk).collaborators.filter(pk=third.pk).exists()
    owner = APIClient()
    owner.force_authenticate(researcher)
    assert owner.post(f"/api/projects/{project.slug}/share/", {"username": "third"}, format="json").status_code == 204
