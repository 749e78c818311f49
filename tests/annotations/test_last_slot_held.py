"""The last free slot of a project is never reported as "nothing left" only because another turn held its item's
row at that instant (the pick passes over held rows): the annotator waits a moment and gets it."""

import pytest

from annotations.models import Enrollment, Item
from annotations.services import flow, routing
from annotations.services.routing import assignment_next
from tests.conftest import require_postgres
from tests.factories import ItemFactory, ProjectFactory, UserFactory
from tests.threads import row_held

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_an_item_held_for_a_moment_by_another_turn_is_still_reserved(monkeypatch):
    require_postgres("a row held by another connection needs a database server")
    monkeypatch.setattr(routing, "PASSED_OVER_PAUSE", 0.05)  # retries over ~0.3 s; the row is held for 0.1 s
    project = ProjectFactory(slug="last-slot", overlap=1)
    item = ItemFactory(project=project, needed=1)
    enrollment = flow.enrollment_open(project=project, user=UserFactory(username="late-comer"))
    Enrollment.objects.filter(id=enrollment.id).update(stage=Enrollment.Stage.WORK)
    enrollment.refresh_from_db()
    with row_held(Item.objects.filter(id=item.id), for_seconds=0.1):  # as a label's store holds its item
        assignment = assignment_next(enrollment=enrollment)
    assert assignment is not None and assignment.item_id == item.id
    assert Item.objects.get(id=item.id).taken == 1


def test_nothing_left_is_said_at_once_when_nothing_is_open(monkeypatch):
    require_postgres("kept beside the test above")
    monkeypatch.setattr(routing, "PASSED_OVER_PAUSE", 10.0)  # a pause here would show as a hang
    project = ProjectFactory(slug="all-full", overlap=1)
    ItemFactory(project=project, needed=1, taken=1, is_full=True)
    enrollment = flow.enrollment_open(project=project, user=UserFactory(username="too-late"))
    Enrollment.objects.filter(id=enrollment.id).update(stage=Enrollment.Stage.WORK)
    enrollment.refresh_from_db()
    assert assignment_next(enrollment=enrollment) is None
