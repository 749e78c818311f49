"""A researcher opens the spec editor of every demo project (one per preset, and the demo's own) and of the
demo study, presses Save without changing anything, and the stored spec is exactly what it was."""

import pytest
from playwright.sync_api import expect

from annotations.models import Project
from studies.models import Study
from tests.browser.conftest import DESKTOP, log_in
from tests.browser.journeys import check_page
from tests.factories import UserFactory
from webapp.demo.loading import demo_projects_load, demo_study_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_demo_project_and_study_saves_unchanged_from_the_spec_editor(new_page):
    owner = UserFactory(username="editor", role="researcher")
    projects = demo_projects_load(owner=owner)
    study = demo_study_load(owner=owner)
    assert len(projects) == 6
    page = new_page(DESKTOP)
    log_in(page, username="editor", password="pw-12345678")
    for loaded in projects:
        before = Project.objects.get(slug=loaded.slug).spec
        page.goto(f"/projects/{loaded.slug}/edit/")
        if loaded is projects[0]:
            check_page(page, "researcher-spec-editor-desktop")
        page.get_by_role("button", name="Save project").click()
        expect(page.get_by_role("status")).to_contain_text(f"Saved project {loaded.slug}.")
        assert Project.objects.get(slug=loaded.slug).spec == before, loaded.slug
    if study is not None:
        before = Study.objects.get(pk=study.pk).spec
        page.goto(f"/studies/{study.slug}/edit/")
        page.locator("form button[type=submit]").first.click()
        expect(page.locator(".error[role=alert]")).to_have_count(0)
        assert Study.objects.get(pk=study.pk).spec == before


def test_researcher_creates_a_project_from_every_preset_in_the_editor(new_page):
    from annotations.views_projects import PRESETS_DIR

    UserFactory(username="maker", role="researcher")
    page = new_page(DESKTOP)
    log_in(page, username="maker", password="pw-12345678")
    presets = sorted(path.stem for path in PRESETS_DIR.glob("*.yaml"))
    assert len(presets) == 5
    for name in presets:
        page.goto(f"/projects/new/?preset={name}")
        page.get_by_role("button", name="Save project").click()
        expect(page.get_by_role("status")).to_contain_text("Saved project")
    assert Project.objects.filter(owner__username="maker").count() == len(presets)
