"""A researcher launches the preference export from a study's results page (pointer on a desktop, keyboard on a
phone), follows the job page until the file appears, and downloads the DPO pairs the judgments make."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from studies.export import export_filters, export_lines
from tests.browser.conftest import DESKTOP, PHONE, log_in
from tests.browser.journeys import check_page
from tests.browser.test_researcher_jobs_and_sharing import JOB_URL
from tests.studies.conftest import make_study  # noqa: F401 - the fixture, shared with tests/studies
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt
from webapp.jobs import services as job_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize("viewport,hands", [(DESKTOP, "pointer"), (PHONE, "keyboard")], ids=["desktop", "phone"])
def test_the_preference_export_is_launched_on_the_results_page_and_downloads(new_page, make_study, viewport, hands):  # noqa: F811
    study = make_study()
    import_judgments(study, [("w1", prompt(0), ALPHA, BETA, "a", "a", "overall"),
                             ("w2", prompt(0), ALPHA, BETA, "a", "b", "overall"),
                             ("w3", prompt(1), BETA, ALPHA, "b", "a", "overall")])
    page = new_page(viewport=viewport)
    log_in(page, username="researcher", password="pw-12345678")
    page.goto(f"/studies/{study.slug}/results/")
    form = page.get_by_test_id("preference-export-form")
    if hands == "pointer":
        form.get_by_label("one pair per judgment").check()
        form.get_by_role("button", name="Export").click()
    else:
        form.get_by_label("one pair per judgment").focus()
        page.keyboard.press("Space")
        form.get_by_role("button", name="Export").focus()
        page.keyboard.press("Enter")
    page.wait_for_url(JOB_URL)
    job = job_services.job_run(job_id=int(JOB_URL.match(page.url).group(1)), worker="browser-test")
    assert job.status == "succeeded", job.error
    link = page.get_by_test_id("export-download").locator("a").first
    expect(link).to_be_visible(timeout=10_000)
    check_page(page, f"preference-export-job-{hands}")
    with page.expect_download() as download:
        link.click()
    got = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
    expected = [json.loads(line) for line in export_lines(study, format="dpo",
                                                          filters=export_filters(study, per_judgment=True))]
    assert got == expected and len(got) == 3
