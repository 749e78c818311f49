"""The last free slot of a project is never reported as "nothing left" only because another turn held its item's
row at that instant (the pick passes over held rows): the annotator waits a moment and gets it."""

import threading

import pytest
from django.db import connection, transaction

from annotations.models import Enrollment, Item
from annotations.services import flow, routing
from annotations.services.routing import assignment_next
from tests.conftest import require_postgres
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_an_item_held_for_a_moment_by_another_turn_is_still_reserved(monkeypatch):
    require_postgres("a row held by another connection needs a database server")
    monkeypatch.setattr(routing, "PASSED_OVER_PAUSE", 0.05)  # retries over ~0.3 s; the row is held for 0.1 s
    project = ProjectFactory(slug="last-slot", overlap=1)
    item = ItemFactory(project=project, needed=1)
    enrollment = flow.enrollment_open(project=project, user=UserFactory(username="late-comer"))
    Enrollment.objects.filter(id=enrollment.id).update(stage=Enrollment.Stage.WORK)
    enrollment.refresh_from_db()
    held, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                Item.objects.select_for_update().get(id=item.id)  # as a label's store does for its item
                held.set()
                release.wait(5)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert held.wait(5)
    threading.Timer(0.1, release.set).start()
    try:
        assignment = assignment_next(enrollment=enrollment)
    finally:
        release.set()
        holder.join(5)
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
