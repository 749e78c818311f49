"""A researcher browses a project's items, finds one by id and previews it exactly as annotators see it, without
anything being saved."""

import pytest
import yaml
from playwright.sync_api import expect

from annotations.models import Label
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP, log_in
from tests.browser.journeys import check_page
from tests.factories import UserFactory
from webapp.demo.loading import DEMO_DIR, PRESETS_DIR, demo_spec_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_researcher_finds_an_item_and_sees_what_annotators_see(new_page):
    owner = UserFactory(username="browser-owner", role="researcher")
    spec = yaml.safe_load(demo_spec_text(PRESETS_DIR / "response_quality.yaml"))
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=owner)
    items_import(project=project, path_or_file=DEMO_DIR / "responses.jsonl")
    page = new_page(DESKTOP)
    log_in(page, username="browser-owner", password="pw-12345678")
    page.goto(f"/projects/{project.slug}/")
    page.get_by_role("link", name="Browse items").click()
    rows = page.get_by_test_id("item-table").locator("tbody tr")
    expect(rows).to_have_count(project.items.count())
    target = project.items.order_by("id").last()
    page.fill("#item-search", target.external_id)
    page.get_by_role("button", name="Find").click()
    expect(rows).to_have_count(1)
    check_page(page, "researcher-items-desktop")
    rows.first.get_by_role("link").click()

    expect(page.locator(".note[role=note]")).to_contain_text(f"Preview of item {target.external_id}")
    expect(page.locator(".item-text").last).to_have_text(target.data["response"])
    expect(page.locator("fieldset.dimension")).to_have_count(len(project.dimensions))
    expect(page.locator(".slider-fallback")).to_have_count(0)
    expect(page.get_by_role("button", name="Submit")).to_have_count(0)
    page.keyboard.press("5")
    page.keyboard.press("Enter")
    check_page(page, "researcher-item-preview-desktop")
    assert not Label.objects.exists()
