"""The dashboard's study spec editor: create from a preset, edit, errors by key (422), slug changes refused,
and who may open it."""

import pytest
import yaml
from django.test import Client
from django.urls import reverse

from studies.models import Study
from studies.views import study_presets
from tests.studies.conftest import study_spec

pytestmark = pytest.mark.django_db

ROLES = ("owner", "other_researcher", "annotator", "participant", "anonymous")


@pytest.fixture
def clients(researcher, other_researcher, annotator, participant):
    made = {}
    for role, user in (("owner", researcher), ("other_researcher", other_researcher), ("annotator", annotator),
                       ("participant", participant), ("anonymous", None)):
        made[role] = Client()
        if user is not None:
            made[role].force_login(user)
    return made


def _spec_text(**overrides) -> str:
    return yaml.safe_dump(study_spec(**overrides), sort_keys=False)


PAGES = {
    # name: (method, url builder, expected per role: owner, other researcher, annotator, participant, anonymous)
    "new_get": ("get", lambda s: reverse("studies:study_new"), (200, 200, 403, 403, 302)),
    "new_post": ("post", lambda s: reverse("studies:study_new"), (422, 422, 403, 403, 302)),
    "edit_get": ("get", lambda s: reverse("studies:study_edit", args=[s.slug]), (200, 404, 403, 403, 302)),
    "edit_post": ("post", lambda s: reverse("studies:study_edit", args=[s.slug]), (422, 404, 403, 403, 302)),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_spec_editor_permission_matrix(page, clients, make_study):
    study = make_study()
    method, url, expected = PAGES[page]
    for role, status in zip(ROLES, expected, strict=True):
        response = getattr(clients[role], method)(url(study), {"spec": "slug: [unclosed"} if method == "post" else {})
        assert response.status_code == status, (page, role, response.status_code)


def test_new_study_page_starts_from_a_preset_and_saves_it(clients, researcher):
    presets = study_presets()
    assert {"perm-multi-perspective", "overall-preference"} <= set(presets)
    page = clients["owner"].get(reverse("studies:study_new") + "?preset=perm-multi-perspective")
    assert "resonation" in page.content.decode()  # the chosen preset fills the textarea
    response = clients["owner"].post(reverse("studies:study_new"), {"spec": presets["overall-preference"]})
    assert response.status_code == 302
    study = Study.objects.get(slug="my-preference-study")
    assert study.owner == researcher and response["Location"] == reverse("studies:study_detail", args=[study.slug])
    assert [s.name for s in study.systems.all()] == ["candidate", "baseline"]


def test_a_spec_error_names_the_key_and_keeps_the_text(clients):
    text = _spec_text(slug="bad-one").replace("judgments_per_pair: 2", "judgments_per_pair: 0")
    response = clients["owner"].post(reverse("studies:study_new"), {"spec": text})
    assert response.status_code == 422
    body = response.content.decode()
    assert "judgments_per_pair: must be at least 1" in body
    assert "bad-one" in body  # the researcher's text comes back to fix, not a blank form
    assert not Study.objects.filter(slug="bad-one").exists()


def test_new_study_may_not_take_an_existing_slug(clients, make_study):
    study = make_study()
    response = clients["other_researcher"].post(reverse("studies:study_new"), {"spec": _spec_text(slug=study.slug)})
    assert response.status_code == 422 and "slug:" in response.content.decode()
    assert Study.objects.get(slug=study.slug).owner.username == "researcher"


def test_a_spec_naming_a_server_file_is_refused(clients):
    text = _spec_text(slug="reads-files")
    spec = yaml.safe_load(text)
    del spec["prompts"]
    spec["prompts_file"] = "/etc/hostname"
    response = clients["owner"].post(reverse("studies:study_new"), {"spec": yaml.safe_dump(spec)})
    assert response.status_code == 422 and "prompts_file:" in response.content.decode()


def test_editing_changes_wording_and_refuses_a_new_slug(clients, make_study):
    study = make_study()
    url = reverse("studies:study_edit", args=[study.slug])
    shown = clients["owner"].get(url).content.decode()
    assert "participant_title" in shown and study.slug in shown
    spec = yaml.safe_load(clients["owner"].get(url).context["spec_text"])
    spec["instructions"] = "Read both replies slowly."
    assert clients["owner"].post(url, {"spec": yaml.safe_dump(spec)}).status_code == 302
    study.refresh_from_db()
    assert study.spec["instructions"] == "Read both replies slowly."
    renamed = {**spec, "slug": "another-slug"}
    response = clients["owner"].post(url, {"spec": yaml.safe_dump(renamed)})
    assert response.status_code == 422 and "slug: a study&#x27;s slug cannot change" in response.content.decode()
    assert not Study.objects.filter(slug="another-slug").exists()


def test_an_open_study_refuses_a_design_change_naming_the_key(clients, make_study):
    study = make_study()  # make_study opens it
    spec = dict(study.spec, pairs_per_participant=1)
    response = clients["owner"].post(reverse("studies:study_edit", args=[study.slug]), {"spec": yaml.safe_dump(spec)})
    assert response.status_code == 422
    assert "pairs_per_participant: cannot change while the study is open" in response.content.decode()


def test_participant_sees_new_wording_after_an_edit(clients, make_study):
    """The participant pages cache specs by hash: an edit makes a new hash, so the new wording shows at once."""
    study = make_study(consent={"text": "First consent wording."})
    participant_client = Client()
    joined = participant_client.get(reverse("studies:join", args=[study.slug]) + "?PROLIFIC_PID=w1")
    assert "First consent wording." in participant_client.get(joined["Location"]).content.decode()
    spec = dict(study.spec, consent={"text": "Second consent wording.", "required": True})
    assert clients["owner"].post(reverse("studies:study_edit", args=[study.slug]),
                                 {"spec": yaml.safe_dump(spec)}).status_code == 302
    assert "Second consent wording." in participant_client.get(joined["Location"]).content.decode()


def test_study_page_links_to_the_editor_and_to_a_model_job(clients, make_study):
    study = make_study()
    body = clients["owner"].get(reverse("studies:study_detail", args=[study.slug])).content.decode()
    assert reverse("studies:study_edit", args=[study.slug]) in body
    assert f"{reverse('ml:job_new')}?study={study.slug}" in body
    assert "PROLIFIC_PID={{%PROLIFIC_PID%}}" in body


def test_opening_and_closing_from_the_page_moves_progress(clients, make_study):
    study = make_study()
    toggle = reverse("studies:study_toggle", args=[study.slug])
    clients["owner"].post(toggle, {"open": "no"})
    study.refresh_from_db()
    assert not study.is_open
    clients["owner"].post(toggle, {"open": "yes"})
    study.refresh_from_db()
    assert study.is_open
    progress = clients["owner"].get(reverse("studies:study_detail", args=[study.slug]), headers={"HX-Request": "true"})
    assert 'id="progress"' in progress.content.decode() and "<html" not in progress.content.decode()
