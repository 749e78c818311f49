"""An annotator's flag or comment on an item: sent with a submit or a skip (page or API), stored once in the same
turn, refused with nothing stored when it does not fit, and read by the project's researchers in the item browser
and its CSV (pseudonyms only, formulas neutralised); nobody else reads it."""

import csv
import io
from html import escape

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Assignment, ItemNote, Label
from annotations.services import flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_items(client, project):
    """The client of a crowd annotator at the work stage of ``project`` (slug demo) and the item on screen."""
    client.get("/p/demo/?PROLIFIC_PID=noter&STUDY_ID=s&SESSION_ID=x")
    from annotations.models import Enrollment

    Enrollment.objects.update(stage="work")
    page = client.get(reverse("annotations:annotate", args=["demo"]))
    return client, page.context["assignment"]


def submit(client, assignment, **fields):
    form = {"assignment": assignment.id, "d__empathy": "3", "action": "submit", **fields}
    return client.post(reverse("annotations:annotate_submit", args=["demo"]), form, headers={"HX-Request": "true"})


def test_a_flag_and_comment_sent_with_the_answer_are_stored_once(at_items):
    client, assignment = at_items
    first = submit(client, assignment, note_flag="unclear", note_comment="  Who is 'she' here?  ")
    again = submit(client, assignment, note_flag="other", note_comment="a second try")

    assert first.status_code == again.status_code == 200
    note = ItemNote.objects.get()
    assert (note.item_id, note.flag, note.comment) == (assignment.item_id, "unclear", "Who is 'she' here?")
    assert note.assignment_id == assignment.id and Label.objects.get().values == {"empathy": 3}
    assert 'id="q-note"' in first.content.decode()  # the next item offers a fresh, closed box
    assert 'id="q-note" open' not in first.content.decode()


def test_a_comment_on_a_skipped_item_is_kept_with_the_skip(at_items):
    client, assignment = at_items
    response = submit(client, assignment, action="distressing", note_comment="Too close to home.")
    assert response.status_code == 200
    note = ItemNote.objects.get()
    assert (note.flag, note.comment, note.assignment.status) == ("", "Too close to home.", "distressing")
    assert not Label.objects.exists()


def test_an_empty_note_stores_nothing(at_items):
    client, assignment = at_items
    assert submit(client, assignment, note_flag="", note_comment="   ").status_code == 200
    assert not ItemNote.objects.exists() and Label.objects.count() == 1


@pytest.mark.parametrize("fields, message", [
    ({"note_flag": "spam"}, "flag 'spam' is not one of"),
    ({"note_comment": "x" * (ItemNote.COMMENT_MAX + 1)}, f"at most {ItemNote.COMMENT_MAX}"),
])
def test_a_note_that_does_not_fit_is_refused_and_nothing_is_stored(at_items, fields, message):
    client, assignment = at_items
    response = submit(client, assignment, **fields)
    html = response.content.decode()
    assert response.status_code == 422 and escape(message) in html
    assert 'href="#q-note">Your note on this item</a>' in html and 'id="q-note" open' in html
    assert 'value="3" required checked' in html  # the answer given is kept on screen
    assert not Label.objects.exists() and not ItemNote.objects.exists()
    assert Assignment.objects.get(pk=assignment.pk).status == "reserved"


def test_a_nul_byte_in_a_comment_is_refused_before_the_turn(at_items):
    client, assignment = at_items
    assert submit(client, assignment, note_comment="a\x00b").status_code == 400
    assert not Label.objects.exists() and not ItemNote.objects.exists()


def test_the_service_refuses_a_nul_byte_a_caller_lets_through():
    from annotations.services.notes import note_parse
    from annotations.services.routing import SubmitError

    with pytest.raises(SubmitError, match="NUL byte"):
        note_parse(comment="a\x00b")


def test_the_api_takes_a_note_with_a_submit_and_a_skip(project, annotator):
    flow.enrollment_open(project=project, user=annotator)
    api = APIClient()
    api.force_authenticate(annotator)
    token = api.get("/api/annotate/demo/next/").json()["assignment"]
    stored = api.post("/api/annotate/demo/submit/", {"assignment": token, "values": {"empathy": 2},
                                                    "flag": "broken", "comment": "cut off mid-word"}, format="json")
    skip_token = stored.json()["next"]["assignment"]
    bad = api.post("/api/annotate/demo/skip/", {"assignment": skip_token, "flag": "spam"}, format="json")
    skipped = api.post("/api/annotate/demo/skip/", {"assignment": skip_token, "comment": "not English"},
                       format="json")

    assert stored.status_code == 200 and skipped.status_code == 200
    assert bad.status_code == 400 and list(bad.json()) == ["flag"]
    assert sorted(ItemNote.objects.values_list("flag", "comment", "assignment__status")) == [
        ("", "not English", "skipped"), ("broken", "cut off mid-word", "submitted")]


def test_researchers_find_noted_items_and_download_the_notes(client, at_items, project, researcher,
                                                            other_researcher, annotator):
    crowd, assignment = at_items
    submit(crowd, assignment, note_flag="offensive", note_comment="=HYPERLINK(\"http://x\")")
    noted = assignment.item

    client.force_login(researcher)
    browser = client.get(reverse("annotations:project_items", args=["demo"]) + "?notes=1").content.decode()
    assert f"<code>{noted.external_id}</code>" in browser and browser.count("<code>") == 1
    assert "1 note from annotators" in browser
    preview = client.get(reverse("annotations:project_item_preview", args=["demo", noted.id])).content.decode()
    assert "Offensive or harmful" in preview and "HYPERLINK" in preview
    response = client.get(reverse("annotations:project_notes_csv", args=["demo"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    pseudonym = ItemNote.objects.get().annotator.pseudonym
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0] == ["item", "annotator", "flag", "comment", "answer", "at"]
    assert rows[1][:5] == [noted.external_id, pseudonym, "offensive", "'=HYPERLINK(\"http://x\")", "labelled"]
    assert "noter" not in response.content.decode()  # the Prolific id never leaves in a notes file

    client.force_login(other_researcher)
    assert client.get(reverse("annotations:project_notes_csv", args=["demo"])).status_code == 404
    client.force_login(annotator)
    assert client.get(reverse("annotations:project_notes_csv", args=["demo"])).status_code == 403
