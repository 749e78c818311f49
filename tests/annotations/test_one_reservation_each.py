"""An annotator holds at most one item reservation in a project, through every path: requests racing for their first
item, a second tab that reserved while an old one had lapsed, and a submit from that old tab afterwards."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from annotations.models import Assignment, Item, Label
from tests.annotations.test_work_not_lost import _annotator, _api
from tests.factories import ItemFactory, ProjectFactory


def _project(items: int, *, slug: str):
    project = ProjectFactory(slug=slug, overlap=1)
    ItemFactory.create_batch(items, project=project)
    return project


def _held(project, user) -> int:
    return Assignment.objects.filter(project=project, annotator=user, status=Assignment.Status.RESERVED).count()


def _taken(project) -> int:
    return sum(Item.objects.filter(project=project).values_list("taken", flat=True))


@pytest.mark.django_db
def test_a_submit_from_a_lapsed_tab_after_a_second_tab_reserved_leaves_one_reservation():
    project = _project(10, slug="two-tabs")
    user = _annotator(project, "tabs")
    client = _api(user)
    old = client.get(f"/api/annotate/{project.slug}/next/").json()["assignment"]
    Assignment.objects.filter(project=project, annotator=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    second_tab = client.get(f"/api/annotate/{project.slug}/next/").json()["assignment"]
    assert second_tab != old and _held(project, user) == 1
    late = client.post(f"/api/annotate/{project.slug}/submit/", {"assignment": old, "values": {"empathy": 3}},
                       format="json")
    assert late.status_code == 200, late.content
    assert late.json()["next"]["assignment"] == second_tab  # the item the second tab holds, not a new one
    assert _held(project, user) == 1
    assert _taken(project) == Label.objects.filter(project=project).count() + 1  # nothing held twice or leaked


@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a database server (the test SQLite is "
                    "in memory)")
@pytest.mark.django_db(transaction=True)
def test_requests_racing_for_a_first_item_reserve_one():
    project = _project(30, slug="racing-next")
    user = _annotator(project, "racer")
    barrier, answers, errors = threading.Barrier(8), [], []

    def ask():
        try:
            client = _api(user)
            barrier.wait()
            answers.append(client.get(f"/api/annotate/{project.slug}/next/").json()["assignment"])
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(answers) == 8 and len(set(answers)) == 1  # every tab shows the one item held
    assert _held(project, user) == 1 and _taken(project) == 1
