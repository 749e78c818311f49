"""A researcher's background work in the browser: an export launched from the project page is followed on its
job page until the file appears and downloads with the labels that were imported; the full agreement report
does the same from the agreement page; a study is shared with a colleague, who then finds it, and taken back.
By pointer on a desktop and by keyboard on a phone; the jobs run on a worker of this test (the suite's own)."""

import csv
import io
import json
import re
from pathlib import Path
from statistics import mean

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from annotations.agreement.load import project_agreement_report
from annotations.services.importing import items_import, labels_import, project_load_spec
from tests.browser.conftest import DESKTOP, PHONE, log_in
from tests.browser.journeys import check_page
from tests.factories import UserFactory
from tests.ml.test_jobs_support import make_study
from webapp.jobs import services as job_services
from webapp.jobs.models import Job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEC = """
slug: to-share
title: To share
kind: narrative
overlap: 3
instructions: Rate.
dimensions:
  - {name: empathy, question: "How much would you empathize?", type: likert, min: 1, max: 5}
"""
RATERS = ("r0", "r1", "r2")
JOB_URL = re.compile(r".*/jobs/(\d+)/$")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _labelled_project(owner):
    project = project_load_spec(spec_text=SPEC, owner=owner)
    items = "".join(json.dumps({"id": f"n{i}", "text": f"Story {i}."}) + "\n" for i in range(4))
    items_import(project=project, path_or_file=io.StringIO(items), fmt="jsonl")
    rows = ["item_id,annotator_id,dimension,value"]
    rows += [f"n{i},{rater},empathy,{1 + (i + a) % 5}" for i in range(4) for a, rater in enumerate(RATERS)]
    labels_import(project=project, path_or_file=io.StringIO("\n".join(rows) + "\n"), fmt="labels_csv")
    return project


def _submit(page, form, hands: str) -> None:
    """Sends ``form`` by clicking its button, or by Tab to the button and Enter."""
    button = form.locator("button[type=submit]")
    if hands == "pointer":
        button.click()
    else:
        button.focus()
        page.keyboard.press("Enter")


def _job_runs_and_the_page_shows_its_file(page, file_testid: str) -> tuple[Job, str]:
    """Waits for the job page, runs the job on this test's worker and waits for the page (polling on its own) to
    show the file's link; returns the job and the downloaded file's text."""
    page.wait_for_url(JOB_URL)
    job_id = int(JOB_URL.match(page.url).group(1))
    expect(page.locator("#job-progress")).to_contain_text("0 of")
    job = job_services.job_run(job_id=job_id, worker="browser-test")
    assert job.status == "succeeded", job.error
    link = page.get_by_test_id(file_testid).locator("a").first
    expect(link).to_be_visible(timeout=10_000)  # no reload by hand: the page refreshes when the job ends
    with page.expect_download() as download:
        link.click()
    return job, Path(download.value.path()).read_text()


@pytest.mark.parametrize("viewport,hands", [(DESKTOP, "pointer"), (PHONE, "keyboard")], ids=["desktop", "phone"])
def test_an_export_and_a_report_launched_on_the_page_finish_and_download_what_was_imported(new_page, viewport, hands):
    owner = UserFactory(username="lead", role="researcher")
    project = _labelled_project(owner)
    page = new_page(viewport=viewport)
    log_in(page, username="lead", password="pw-12345678")

    page.goto(f"/projects/{project.slug}/")
    form = page.get_by_test_id("export-form")
    if hands == "pointer":
        form.locator("select[name=format]").select_option("csv")
        form.locator("select[name=aggregate]").select_option("mean")
    else:
        form.locator("select[name=format]").focus()
        page.keyboard.press("ArrowDown")  # JSONL -> CSV
        form.locator("select[name=aggregate]").focus()
        page.keyboard.press("ArrowDown")  # every label -> mean per item
    _submit(page, form, hands)
    _, text = _job_runs_and_the_page_shows_its_file(page, "export-download")
    exported = list(csv.DictReader(io.StringIO(text)))
    check_page(page, f"researcher-export-job-{hands}")
    expected = {f"n{i}": mean(1 + (i + a) % 5 for a in range(len(RATERS))) for i in range(4)}
    assert {(row["dimension"], row["method"], row["n_labels"]) for row in exported} == {("empathy", "mean", "3")}
    assert {row["item"]: float(row["value"]) for row in exported} == pytest.approx(expected)
    assert {row["item"]: row["text"] for row in exported} == {f"n{i}": f"Story {i}." for i in range(4)}

    page.goto(f"/projects/{project.slug}/agreement/")
    _submit(page, page.get_by_test_id("report-form"), hands)
    job, text = _job_runs_and_the_page_shows_its_file(page, "report-download")
    direct = project_agreement_report(project=project, by=job.params["by"], n_bootstrap=job.params["n_bootstrap"],
                                      seed=job.params["seed"])
    assert json.loads(text) == json.loads(json.dumps(direct, default=str))
    check_page(page, f"researcher-report-job-{hands}")


@pytest.mark.parametrize("viewport,hands", [(DESKTOP, "pointer"), (PHONE, "keyboard")], ids=["desktop", "phone"])
def test_a_study_shared_on_its_page_reaches_the_colleague_and_taken_back_leaves_them(new_page, viewport, hands):
    owner = UserFactory(username="lead", role="researcher")
    UserFactory(username="colleague", role="researcher")
    study = make_study(owner=owner, slug="shared-study")
    page = new_page(viewport=viewport)
    log_in(page, username="lead", password="pw-12345678")
    page.goto(f"/studies/{study.slug}/")
    page.fill("#share-username", "colleague")
    if hands == "pointer":
        page.get_by_role("button", name="Share", exact=True).click()
    else:
        page.press("#share-username", "Enter")
    expect(page.get_by_test_id("access")).to_contain_text("lead (owner), colleague")
    check_page(page, f"researcher-study-shared-{hands}")

    colleague = new_page(viewport=viewport)
    log_in(colleague, username="colleague", password="pw-12345678")
    colleague.goto("/studies/")
    colleague.get_by_role("link", name=re.compile(study.title)).first.click()
    colleague.wait_for_url(f"**/studies/{study.slug}/")
    expect(colleague.get_by_test_id("access")).to_contain_text("lead (owner), colleague")
    expect(colleague.get_by_text("Only the owner can share it or take access back.")).to_be_visible()

    remove = page.get_by_role("button", name="Remove access for colleague")
    if hands == "pointer":
        remove.click()
    else:
        remove.focus()
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("access")).not_to_contain_text("colleague")
    assert not study.collaborators.filter(username="colleague").exists()
    assert colleague.goto(f"/studies/{study.slug}/").status == 404
    assert get_user_model().objects.filter(username="colleague").exists()
