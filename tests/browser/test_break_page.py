"""The forced break lasts what the spec says, counts down in the person's own time, says so when Continue is
pressed too early, and lets them go on once it is over."""

import re
from datetime import timedelta

import pytest
import yaml
from django.utils import timezone
from playwright.sync_api import expect

from annotations.models import Enrollment
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import PHONE
from tests.browser.journeys import check_page, walk_to_first_item
from tests.factories import UserFactory
from webapp.demo.loading import DEMO_DIR, demo_spec_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_break_counts_down_in_local_time_refuses_an_early_continue_and_then_resumes(new_page):
    spec = yaml.safe_load(demo_spec_text(DEMO_DIR / "narrative-feelings.yaml"))
    spec["limits"] = {"session_items": 1, "break_minutes": 3}
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=UserFactory(role="researcher"))
    items_import(project=project, path_or_file=DEMO_DIR / "narratives.jsonl")
    page = new_page(PHONE)
    page.context.clear_cookies()
    walk_to_first_item(page, slug=project.slug, worker="breaker")
    for key in ("3", "2", "4"):
        page.keyboard.press(key)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Time for a break")).to_be_visible()
    expect(page.locator(".annotate")).to_contain_text("Step away for 3 minutes")
    expect(page.locator("#break-countdown time")).to_have_text(re.compile(r"your time \(in [23]:\d\d\)"))
    check_page(page, "break-phone")
    page.get_by_role("button", name="I have had a break — continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Your break is not over yet: about 3 minutes to go")

    Enrollment.objects.filter(project=project).update(break_until=timezone.now() - timedelta(seconds=1))
    page.get_by_role("button", name="I have had a break — continue").click()
    expect(page.locator("#progress-text")).to_contain_text("1 done")
