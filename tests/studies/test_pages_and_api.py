"""Pages and API through the test client: permission matrix, participant flow, blinding."""

import json
import re

import pytest
from django.urls import reverse

from studies.models import Judgment, Participant, Prompt, Response, System
from tests.factories import UserFactory
from tests.studies.conftest import SYSTEM_NAMES, responses_jsonl, study_spec

pytestmark = pytest.mark.django_db

ROLES = ("owner", "other_researcher", "annotator", "participant", "anonymous")


@pytest.fixture
def clients(client, researcher, other_researcher, annotator, participant, django_user_model):
    from django.test import Client

    made = {}
    for role, user in (("owner", researcher), ("other_researcher", other_researcher), ("annotator", annotator),
                       ("participant", participant), ("anonymous", None)):
        c = Client()
        if user is not None:
            c.force_login(user)
        made[role] = c
    return made


RESEARCHER_PAGES = {
    # name: (method, url builder, expected per role: owner, other researcher, annotator, participant, anonymous)
    "study_list": ("get", lambda s: reverse("studies:study_list"), (200, 200, 403, 403, 302)),
    "study_detail": ("get", lambda s: reverse("studies:study_detail", args=[s.slug]), (200, 404, 403, 403, 302)),
    "study_toggle": ("post", lambda s: reverse("studies:study_toggle", args=[s.slug]), (302, 404, 403, 403, 302)),
    "api_list": ("get", lambda s: reverse("studies:api_study_list"), (200, 200, 403, 403, 401)),
    "api_detail": ("get", lambda s: reverse("studies:api_study_detail", args=[s.slug]), (200, 404, 403, 403, 401)),
    "api_progress": ("get", lambda s: reverse("studies:api_study_progress", args=[s.slug]), (200, 404, 403, 403, 401)),
    "api_close": ("post", lambda s: reverse("studies:api_study_close", args=[s.slug]), (200, 404, 403, 403, 401)),
    "api_responses": ("post", lambda s: reverse("studies:api_study_responses", args=[s.slug]),
                      (400, 404, 403, 403, 401)),
}


@pytest.mark.parametrize("endpoint", sorted(RESEARCHER_PAGES))
def test_researcher_endpoints_permission_matrix(endpoint, clients, make_study):
    study = make_study()
    method, url, expected = RESEARCHER_PAGES[endpoint]
    for role, status in zip(ROLES, expected, strict=True):
        response = getattr(clients[role], method)(url(study), data={}, content_type="application/json") \
            if method == "post" and endpoint.startswith("api") else getattr(clients[role], method)(url(study))
        assert response.status_code == status, (endpoint, role, response.status_code)


def test_api_creates_a_study_from_spec_text_and_reports_errors_by_key(clients):
    spec = study_spec(slug="from-api")
    response = clients["owner"].post(reverse("studies:api_study_list"), {"spec": json.dumps(spec)},
                                     content_type="application/json")
    assert response.status_code == 201, response.content
    bad = {**spec, "judgments_per_pair": 0}
    response = clients["owner"].post(reverse("studies:api_study_list"), {"spec": bad}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["spec"].startswith("judgments_per_pair:")
    # another researcher may not overwrite it: creating with a taken slug is a conflict naming the slug
    response = clients["other_researcher"].post(reverse("studies:api_study_list"), {"spec": spec},
                                                content_type="application/json")
    assert response.status_code == 409 and response.json()["field"] == "slug" and "from-api" in response.json()["spec"]


def test_api_imports_responses_then_opens(clients):
    spec = study_spec(slug="api-open")
    clients["owner"].post(reverse("studies:api_study_list"), {"spec": spec}, content_type="application/json")
    open_url = reverse("studies:api_study_open", args=["api-open"])
    refused = clients["owner"].post(open_url)
    assert refused.status_code == 400 and "no response from system" in refused.json()["responses"]
    lines = responses_jsonl(spec)
    duplicate = "\n".join([*lines, lines[0]])
    response = clients["owner"].post(reverse("studies:api_study_responses", args=["api-open"]), {"jsonl": duplicate},
                                     content_type="application/json")
    assert response.status_code == 400
    assert response.json()["responses"].startswith(f"request:{len(lines) + 1}: prompt_id: duplicate")
    response = clients["owner"].post(reverse("studies:api_study_responses", args=["api-open"]),
                                     {"jsonl": "\n".join(lines)}, content_type="application/json")
    assert response.json() == {"stored": len(lines), "missing": 0}
    assert clients["owner"].post(open_url).status_code == 200


def _walk_participant_pages(client, study, *, htmx=True, pid="abc"):
    """Follows the whole participant flow by HTML and returns every body and header a participant received."""
    seen = []

    def keep(response):
        seen.append(response.content.decode())
        seen.append(json.dumps({k: v for k, v in response.items()}))
        return response

    response = keep(client.get(reverse("studies:join", args=[study.slug]) + f"?PROLIFIC_PID={pid}&STUDY_ID=x&SESSION_ID=y"))
    page = keep(client.get(response["Location"]))
    token = response["Location"].rstrip("/").split("/")[-1]
    if b"I agree" in page.content:
        keep(client.post(reverse("studies:participate_consent", args=[token]), {"agree": "yes"}))
    keep(client.post(reverse("studies:participate_start", args=[token])))
    page = keep(client.get(reverse("studies:participate", args=[token])))
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for _ in range(50):
        match = re.search(r'name="slot" value="([^"]+)"', page.content.decode())
        if not match:
            break
        form = {"slot": match.group(1)}
        for criterion in study.spec["criteria"]:
            form[f"choice_{criterion['name']}"] = "2"
        page = keep(client.post(reverse("studies:participate_judge", args=[token]), form, **headers))
        if page.status_code == 204:
            break
    return token, seen


def test_participant_flow_by_htmx_stores_every_pair_and_ends_with_the_redirect(client, make_study):
    study = make_study(pairs_per_participant=3,
                       recruitment={"completion_code": "CODE-1", "redirect_url": "https://example.org/done"})
    token, _ = _walk_participant_pages(client, study)
    participant = Participant.objects.get(token=token)
    assert participant.stage == "done"
    assert participant.user.crowd_platform == "prolific"
    judgments = Judgment.objects.filter(participant=participant)
    assert judgments.count() == 3
    assert all(j.choice != j.left for j in judgments)  # "2" is the right-hand reply
    assert all(j.seconds is not None for j in judgments)
    page = client.get(reverse("studies:participate", args=[token]))
    assert b"CODE-1" in page.content


def test_the_dashboard_and_the_api_count_a_finished_participant_under_the_journeys_done(client, make_study,
                                                                                        researcher):
    from django.test import Client

    study = make_study(pairs_per_participant=2)
    _walk_participant_pages(client, study)
    owner = Client()
    owner.force_login(researcher)
    progress = owner.get(reverse("studies:api_study_progress", args=[study.slug])).json()["participants"]
    assert (progress["done"], progress["work"]) == (1, 0) and "final" not in progress
    page = owner.get(reverse("studies:study_detail", args=[study.slug])).content.decode()
    assert re.search(r'class="stat">1</div><div>participants finished \(0 judging', page)


def test_a_study_stored_with_a_line_break_in_its_redirect_still_completes_and_shows_the_code(client, make_study):
    study = make_study(pairs_per_participant=2,
                       recruitment={"completion_code": "CODE-2", "redirect_url": "https://example.org/done"})
    # stored before specs refused it: the spec is written directly, as an old row would be
    study.spec["recruitment"]["redirect_url"] = "https://example.org/done\r\nSet-Cookie: x=1"
    study.save(update_fields=["spec"])
    token, _ = _walk_participant_pages(client, study)
    participant = Participant.objects.get(token=token)
    assert participant.stage == "done"
    assert Judgment.objects.filter(participant=participant).count() == 2
    assert b"CODE-2" in client.get(reverse("studies:participate", args=[token])).content


def test_reloading_the_page_shows_the_same_pair_and_the_join_link_resumes(client, make_study):
    study = make_study()
    first = client.get(reverse("studies:join", args=[study.slug]))
    token = first["Location"].rstrip("/").split("/")[-1]
    client.post(reverse("studies:participate_start", args=[token]))
    one = re.search(r'name="slot" value="([^"]+)"', client.get(first["Location"]).content.decode()).group(1)
    two = re.search(r'name="slot" value="([^"]+)"', client.get(first["Location"]).content.decode()).group(1)
    assert one == two
    again = client.get(reverse("studies:join", args=[study.slug]))
    assert again["Location"] == first["Location"]


def test_nothing_a_participant_receives_names_a_system_or_a_stored_id(client, make_study):
    from django.test import Client

    study = make_study(n_systems=3, pairs_per_participant=4, n_prompts=4, blind_texts=True)
    token, seen = _walk_participant_pages(client, study)
    other_token, other_seen = _walk_participant_pages(Client(), study, pid="other")
    api = client.get(reverse("studies:api_participation", args=[token]))
    seen.append(api.content.decode())
    blob = "\n".join(seen)
    assert blob.count("Reply text") >= 8  # the responses were shown ...
    for name in SYSTEM_NAMES:  # ... but nothing says which system wrote them
        assert name not in blob
    assert study.title not in blob
    for prompt in Prompt.objects.filter(study=study):
        assert prompt.external_id not in blob
    # the only identifiers a participant holds are random tokens, their own
    hidden = re.findall(r'<input type="hidden" name="([^"]+)"', blob)
    assert set(hidden) == {"csrfmiddlewaretoken", "slot"}
    slots = set(re.findall(r'name="slot" value="([^"]+)"', blob))
    other_slots = set(re.findall(r'name="slot" value="([^"]+)"', "\n".join(other_seen)))
    assert len(slots) == 4 and not slots & other_slots
    assert all(len(value) >= 20 for value in slots)
    assert token != other_token and other_token not in blob
    assert not re.search(r"data-(system|pair|prompt|response|model)", blob)
    # no URL a participant sees carries a row id
    for url in re.findall(r'(?:href|action|hx-post|hx-get)="([^"]+)"', blob):
        assert not re.search(r"/\d+/", url), url
    # response metadata and model versions never reach the page or the API
    Response.objects.filter(study=study).update(metadata={"leak": "meta-secret-31337"}, model_version_id=987654)
    page = client.get(reverse("studies:participate", args=[other_token])).content.decode()
    assert "meta-secret-31337" not in page and "987654" not in page
    assert System.objects.filter(study=study).count() == 3


def test_participant_api_answers_and_ignores_a_repeat(client, make_study):
    study = make_study(pairs_per_participant=2)
    user = UserFactory(role="participant")
    from studies import services

    participant = services.participant_enroll(study=study, user=user)
    services.participant_start(participant=participant)
    url = reverse("studies:api_participation", args=[participant.token])
    current = client.get(url).json()
    assert set(current["slot"]) == {"token", "position", "total", "context", "left_text", "right_text"}
    body = {"slot": current["slot"]["token"], "answers": [{"criterion": "overall", "side": "left"}]}
    submit = reverse("studies:api_judgment_submit", args=[participant.token])
    first = client.post(submit, body, content_type="application/json")
    second = client.post(submit, body, content_type="application/json")
    assert first.status_code == second.status_code == 200
    assert Judgment.objects.count() == 1
    assert first.json()["slot"]["position"] == 1
    bad = client.post(submit, {"slot": first.json()["slot"]["token"], "answers": []}, content_type="application/json")
    assert bad.status_code == 400 and "overall" in bad.json()["answers"]


def test_unknown_participant_token_is_not_found(client):
    assert client.get(reverse("studies:participate", args=["nope"])).status_code == 404
    assert client.get(reverse("studies:api_participation", args=["nope"])).status_code == 404


def test_closed_study_link_is_not_found(client, make_study):
    from studies import services

    study = services.study_close(study=make_study())
    assert client.get(reverse("studies:join", args=[study.slug])).status_code == 404


def test_schema_lists_the_study_endpoints(clients):
    schema = clients["owner"].get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/studies/", "/api/studies/{slug}/responses/", "/api/studies/participate/{token}/judgments/"):
        assert path in text
