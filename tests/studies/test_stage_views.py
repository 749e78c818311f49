"""The study's stage forms answer htmx with its client redirect to the participant's page, plain forms with a
redirect."""

import pytest
from django.urls import reverse

from studies.models import Participant

pytestmark = pytest.mark.django_db


def test_an_htmx_stage_form_is_answered_with_a_client_redirect_to_the_participants_page(client, make_study):
    make_study(consent={"text": "Do you agree?"})
    joined = client.get(reverse("studies:join", args=["ab-study"]), {"PROLIFIC_PID": "w1", "STUDY_ID": "s",
                                                                     "SESSION_ID": "x"})
    token = Participant.objects.get().token
    page = reverse("studies:participate", kwargs={"token": token})
    assert joined["Location"] == page
    response = client.post(reverse("studies:participate_consent", args=[token]), {"agree": "yes"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Location" not in response and response["HX-Redirect"] == page
    plain = client.post(reverse("studies:participate_start", args=[token]))
    assert plain.status_code == 302 and plain["Location"] == page
    assert Participant.objects.get().stage == Participant.Stage.WORK
