"""The researcher's project page keeps its annotator table live while people work, lists who has access once
shared, gives the pseudonym → Prolific id list for approving submissions, and the agreement page fits a 1,280 px window (wide tables scroll inside their box)."""

import csv
import io
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotations.services.importing import items_import, labels_import, project_load_spec
from tests.browser.conftest import DESKTOP, log_in
from tests.browser.journeys import check_page, walk_to_first_item
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEC = """
slug: live
title: Live
kind: narrative
overlap: 6
instructions: Rate.
dimensions:
  - {name: empathy, question: "How much would you empathize?", type: likert, min: 1, max: 4}
  - {name: valence, question: "Valence?", type: choice, choices: [negative, mixed, positive]}
  - {name: strength, question: "Strength?", type: slider}
"""


def test_project_page_updates_annotators_lists_access_and_agreement_fits_the_window(new_page):
    UserFactory(username="boss", role="researcher")
    UserFactory(username="helper", role="researcher")
    from django.contrib.auth import get_user_model
    project = project_load_spec(spec_text=SPEC, owner=get_user_model().objects.get(username="boss"))
    items = "".join(json.dumps({"id": f"n{i}", "text": f"Story {i}."}) + "\n" for i in range(8))
    items_import(project=project, path_or_file=io.StringIO(items), fmt="jsonl")
    rows = ["item_id,annotator_id,dimension,value,country_of_residence_long_name"]
    for i in range(8):
        for a in range(4):
            rows += [f"n{i},rater{a},empathy,{(i + a) % 4 + 1},Country number {a}",
                     f"n{i},rater{a},valence,{['negative', 'mixed', 'positive'][(i * a) % 3]},Country number {a}",
                     f"n{i},rater{a},strength,{(i * 7 + a * 13) % 100},Country number {a}"]
    labels_import(project=project, path_or_file=io.StringIO("\n".join(rows) + "\n"), fmt="labels_csv")

    researcher = new_page(DESKTOP)
    log_in(researcher, username="boss", password="pw-12345678")
    researcher.goto(f"/projects/{project.slug}/")
    table = researcher.get_by_test_id("annotator-table")
    expect(table.locator("tbody tr", has_text="Items")).to_have_count(0)

    annotator = new_page(DESKTOP)
    walk_to_first_item(annotator, slug=project.slug, worker="live-one")
    expect(table.locator("tbody tr", has_text="Items")).to_have_count(1, timeout=12_000)  # no reload needed

    with researcher.expect_download() as download:
        researcher.get_by_role("link", name="Download pseudonym → Prolific / MTurk id list (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [(row["platform"], row["worker_id"], row["study_id"]) for row in rows] == [("prolific", "live-one", "study1")]
    assert rows[0]["pseudonym"] and rows[0]["pseudonym"] != "live-one"

    researcher.fill("#share-username", "helper")
    researcher.get_by_role("button", name="Share").click()
    expect(researcher.get_by_test_id("access")).to_contain_text("boss (owner), helper")
    check_page(researcher, "researcher-project-desktop")

    researcher.goto(f"/projects/{project.slug}/agreement/")
    researcher.wait_for_load_state("networkidle")
    width = researcher.evaluate("document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"], f"the agreement page is {width}px wide"
    check_page(researcher, "researcher-agreement-desktop")
