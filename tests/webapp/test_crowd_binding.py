"""A crowd identity belongs to the browser that first used it: another browser needs the person's resume code,
and a signed-in browser is never switched to another account by a link."""

import re

import pytest
from django.test import Client

from studies import services
from studies.models import Participant
from tests.studies.conftest import responses_jsonl, study_spec
from webapp.people.models import User

pytestmark = pytest.mark.django_db
RESUME_RE = re.compile(r'id="resume-code">Your resume code: <strong>([A-Z0-9-]+)</strong>')


@pytest.fixture
def study(researcher):
    spec = study_spec(slug="bound")
    study = services.study_load(spec=spec, owner=researcher)
    services.responses_import(study=study, lines=responses_jsonl(spec), source="responses.jsonl")
    return services.study_open(study=study)


def test_another_browser_with_the_same_prolific_id_does_not_resume_that_participation(study):
    first = Client()
    opened = first.get("/s/bound/", {"PROLIFIC_PID": "victim"}, follow=True)
    assert opened.status_code == 200
    code = RESUME_RE.search(opened.content.decode()).group(1)
    stranger = Client().get("/s/bound/", {"PROLIFIC_PID": "victim"})
    assert stranger.status_code == 403 and "resume code" in stranger.content.decode()
    assert Participant.objects.filter(study=study).count() == 1
    # the person themselves, on a new device, with the code they were shown
    moved = Client().get("/s/bound/", {"PROLIFIC_PID": "victim", "resume": code})
    token = Participant.objects.get(study=study).token
    assert moved.status_code == 302 and token in moved["Location"]


def test_the_same_browser_resumes_without_a_code(study):
    browser = Client()
    first = browser.get("/s/bound/", {"PROLIFIC_PID": "p1"})
    again = browser.get("/s/bound/", {"PROLIFIC_PID": "p1"})
    assert first["Location"] == again["Location"]


def test_a_wrong_resume_code_is_refused(study):
    Client().get("/s/bound/", {"PROLIFIC_PID": "p2"})
    assert Client().get("/s/bound/", {"PROLIFIC_PID": "p2", "resume": "AAAA-0000"}).status_code == 403


def test_a_signed_in_annotator_is_not_switched_to_the_account_a_link_names(project, annotator):
    browser = Client()
    browser.force_login(annotator)
    response = browser.get("/p/demo/", {"PROLIFIC_PID": "attacker"})
    assert response.status_code == 403 and "sign out first" in response.content.decode()
    assert int(browser.session["_auth_user_id"]) == annotator.pk
    assert not User.objects.filter(crowd_id="attacker").exists()


def test_a_researcher_opening_a_crowd_link_keeps_their_session(project, researcher):
    browser = Client()
    browser.force_login(researcher)
    assert browser.get("/p/demo/", {"PROLIFIC_PID": "someone"}).status_code == 403
    assert browser.get("/dashboard/").status_code == 200


def test_an_annotation_link_binds_the_identity_to_the_first_browser(project):
    first = Client()
    assert first.get("/p/demo/", {"PROLIFIC_PID": "ann1"}).status_code == 302
    assert Client().get("/p/demo/", {"PROLIFIC_PID": "ann1"}).status_code == 403
    first.post("/accounts/logout/")  # the page logout (the test client's logout() drops every cookie)
    assert first.get("/p/demo/", {"PROLIFIC_PID": "ann1"}).status_code == 302  # still this browser's


def test_an_identity_made_before_binding_is_taken_by_the_first_browser_that_opens_the_link(study):
    from webapp.people.crowd import CrowdIdentity, crowd_user_get_or_create

    # an account from before browsers were bound (or from an import): no browser has claimed it yet
    earlier = crowd_user_get_or_create(identity=CrowdIdentity("prolific", "returning"), role="participant")
    assert earlier.crowd_browser_claimed_at is None
    opened = Client().get("/s/bound/", {"PROLIFIC_PID": "returning"})
    assert opened.status_code == 302
    assert Participant.objects.get(study=study).user_id == earlier.pk
    earlier.refresh_from_db()
    assert earlier.crowd_browser_claimed_at is not None
    # from then on it is that browser's, as for any identity
    assert Client().get("/s/bound/", {"PROLIFIC_PID": "returning"}).status_code == 403
