"""The judging fragment the htmx POST answers with: plain, complete, and kind on errors."""

import re

import pytest
from django.urls import reverse

from studies.models import Judgment

pytestmark = pytest.mark.django_db

CRITERIA = [{"name": "overall", "question": "Which is kinder?", "strength": ["a bit", "much"], "rationale": "required"},
            {"name": "reception", "question": "Which would you rather get?"}]


def _on_first_pair(client, study):
    joined = client.get(reverse("studies:join", args=[study.slug]) + "?PROLIFIC_PID=frag1&STUDY_ID=s&SESSION_ID=x")
    token = joined["Location"].rstrip("/").split("/")[-1]
    client.post(reverse("studies:participate_start", args=[token]))
    page = client.get(joined["Location"]).content.decode()
    return token, re.search(r'name="slot" value="([^"]+)"', page).group(1)


def test_an_answer_missing_its_reason_comes_back_with_the_error_and_the_choices_kept(client, make_study):
    study = make_study(criteria=CRITERIA)
    token, slot = _on_first_pair(client, study)
    form = {"slot": slot, "choice_overall": "2", "strength_overall": "2", "rationale_overall": " ",
            "choice_reception": "0"}
    response = client.post(reverse("studies:participate_judge", args=[token]), form, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<div id="slot"')  # the fragment, not a page
    assert "Please give a short reason." in body
    assert re.search(r'name="choice_overall" value="2" checked', body)
    assert re.search(r'name="choice_reception" value="0" checked', body)
    assert '<option value="2" selected>much</option>' in body
    assert f'name="slot" value="{slot}"' in body and not Judgment.objects.exists()


def test_the_next_pair_fragment_has_a_working_form(client, make_study):
    study = make_study(criteria=CRITERIA)
    token, slot = _on_first_pair(client, study)
    form = {"slot": slot, "choice_overall": "1", "strength_overall": "1", "rationale_overall": "warmer",
            "choice_reception": "1"}
    response = client.post(reverse("studies:participate_judge", args=[token]), form, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body and "2 of 3" in body
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    assert len(csrf) >= 32  # works without JavaScript too
    assert f'action="{reverse("studies:participate_judge", args=[token])}"' in body
    assert Judgment.objects.filter(criterion="overall").get().rationale == "warmer"
