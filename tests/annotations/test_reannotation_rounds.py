"""Re-annotation rounds compared on the agreement page: the items a version sent back, their agreement among the
labels given before the round beside all labels now, through the real label rows and the page."""

from datetime import timedelta

import krippendorff
import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.agreement.rounds import reannotation_rounds_compared
from annotations.models import Label
from tests.factories import ItemFactory, LabelFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

BEFORE = {"old1": [1, 5, 2, 4], "old2": [5, 1, 4, 2], "old3": [3, 3, 3, 3]}  # scattered: alpha below zero
SINCE = {"new1": [2, 4], "new2": [2, 4]}  # on the two items sent back only


@pytest.fixture
def sent_back(researcher):
    project = ProjectFactory(owner=researcher, slug="rounds")
    items = [ItemFactory(project=project, external_id=f"u{i}") for i in range(4)]
    for name, values in BEFORE.items():
        annotator = UserFactory(username=name, pseudonym=name)
        for item, value in zip(items, values, strict=True):
            LabelFactory(item=item, annotator=annotator, values={"empathy": value})
    two_days_ago = timezone.now() - timedelta(days=2)
    Label.objects.update(created_at=two_days_ago)
    sent_at = timezone.now() - timedelta(days=1)
    for item in items[:2]:
        item.metadata = {"reannotation_rounds": [{"version": "rm-1", "labels": 2, "needed_before": 3,
                                                  "at": sent_at.isoformat()}]}
        item.save(update_fields=["metadata"])
    for name, values in SINCE.items():
        annotator = UserFactory(username=name, pseudonym=name)
        for item, value in zip(items[:2], values, strict=True):
            LabelFactory(item=item, annotator=annotator, values={"empathy": value})
    return project


def _alpha(coders_x_units: list[list[float]]) -> float:
    return krippendorff.alpha(reliability_data=np.asarray(coders_x_units, dtype=float), level_of_measurement="ordinal")


def test_a_round_compares_its_items_agreement_before_and_now(sent_back):
    (found,) = reannotation_rounds_compared(project=sent_back)
    assert (found["version"], found["items"], found["labels_asked"]) == ("rm-1", 2, 2)
    assert (found["labels_before"], found["labels_since"]) == (6, 4)
    (empathy,) = found["dimensions"]
    before = [values[:2] for values in BEFORE.values()]
    now = before + list(SINCE.values())
    assert empathy["alpha_before"] == pytest.approx(_alpha(before))
    assert empathy["alpha_now"] == pytest.approx(_alpha(now))
    assert empathy["alpha_now"] > empathy["alpha_before"]
    # item means: u0 (1+5+3)/3 = 3 -> (9+4)/5 = 2.6; u1 (5+1+3)/3 = 3 -> (9+8)/5 = 3.4
    assert empathy["mean_moved"] == pytest.approx(0.4)


def test_a_round_recorded_without_its_time_is_listed_without_figures(researcher):
    project = ProjectFactory(owner=researcher, slug="rounds-old")
    ItemFactory(project=project, metadata={"reannotation_rounds": [{"version": "rm-0", "labels": 1,
                                                                     "needed_before": 2}]})
    (found,) = reannotation_rounds_compared(project=project)
    assert found["version"] == "rm-0" and found["items"] == 1 and found["dimensions"] == []
    assert "labels_before" not in found


def test_the_agreement_page_shows_each_round(client, researcher, sent_back):
    client.force_login(researcher)
    page = client.get(reverse("annotations:agreement_page", args=[sent_back.slug])).content.decode()
    assert 'data-testid="reannotation-rounds"' in page
    section = page[page.index('data-testid="reannotation-rounds"'):]
    assert "rm-1" in section and "6 before, 4 since" in section
    assert f"{_alpha([v[:2] for v in BEFORE.values()]):.3f}" in section


def test_a_project_without_rounds_shows_no_rounds_section(client, researcher, sent_back):
    sent_back.items.update(metadata={})
    client.force_login(researcher)
    page = client.get(reverse("annotations:agreement_page", args=[sent_back.slug])).content.decode()
    assert 'data-testid="reannotation-rounds"' not in page
