"""A researcher uploads a file above the inline threshold: the page goes on to the import's job page, the test's real
Celery worker (tests/celery_worker.py) runs the job, the page follows it to the summary the inline import shows, and
the imported items are in the item browser; by pointer on a desktop and by keyboard on a phone."""

import json

import pytest
from playwright.sync_api import expect

from annotations.models import Item
from annotations.services.importing import project_load_spec
from tests.browser.conftest import DESKTOP, PHONE, log_in
from tests.browser.journeys import check_page
from tests.celery_worker import running_worker
from tests.factories import UserFactory
from webapp.jobs.models import Job

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

SPEC = """
slug: big-imp
title: Import me in the background
kind: narrative
overlap: 2
instructions: Rate.
dimensions:
  - {name: empathy, question: "How much would you empathize?", type: likert, min: 1, max: 4}
"""
ROWS = 300
FILE = "".join(json.dumps({"id": f"story-{i:03}", "text": f"Story number {i}."}) + "\n" for i in range(ROWS)).encode()


@pytest.fixture
def worker(settings, tmp_path, tmp_path_factory, transactional_db):
    settings.MEDIA_ROOT = tmp_path / "media"  # before the worker starts: it reads the uploads from the same folder
    settings.RESONANCE_IMPORT_INLINE_BYTES = 1000
    with running_worker(tmp_path_factory) as started:
        yield started


@pytest.mark.parametrize("viewport,hands", [(DESKTOP, "pointer"), (PHONE, "keyboard")], ids=["desktop", "phone"])
def test_a_large_file_goes_to_its_job_page_which_shows_the_summary_and_the_items_appear(
        new_page, worker, viewport, hands):
    assert len(FILE) > 1000
    owner = UserFactory(username="bulk-importer", role="researcher")
    project = project_load_spec(spec_text=SPEC, owner=owner)
    page = new_page(viewport)
    log_in(page, username="bulk-importer", password="pw-12345678")
    page.goto(f"/projects/{project.slug}/import/")
    page.set_input_files("#import-file", {"name": "many stories.jsonl", "mimeType": "application/json",
                                          "buffer": FILE})
    if hands == "pointer":
        page.get_by_role("button", name="Import").click()
    else:
        page.focus("#import-format")
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Import")).to_be_focused()
        page.keyboard.press("Enter")

    page.wait_for_url("**/jobs/*/")
    job = Job.objects.get(kind="import")
    assert page.url.endswith(f"/jobs/{job.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Job #{job.pk}: import")
    expect(page.locator("#job-progress")).to_be_visible()
    check_page(page, f"import-job-{hands}")

    summary = page.get_by_test_id("import-summary")
    expect(summary).to_have_text(f"Imported {ROWS} items from many stories.jsonl.", timeout=60_000)
    expect(page.locator("#job-progress")).to_contain_text(f"{ROWS} of {ROWS} done")
    expect(page.locator("#job-progress [role=progressbar]")).to_have_attribute("aria-valuenow", "100.0")
    check_page(page, f"import-job-finished-{hands}")

    browse = page.get_by_role("link", name=f"Browse the items of {project.title}")
    if hands == "pointer":
        browse.click()
    else:
        browse.focus()
        page.keyboard.press("Enter")
    page.wait_for_url(f"**/projects/{project.slug}/items/")
    expect(page.get_by_test_id("item-table")).to_contain_text("story-000")
    check_page(page, f"import-job-items-{hands}")
    assert Item.objects.filter(project=project).count() == ROWS
    assert Item.objects.get(project=project, external_id="story-299").data == {"text": "Story number 299."}
