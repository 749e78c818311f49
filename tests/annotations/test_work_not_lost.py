"""Work is never lost or locked by the loop: replays reserve nothing, nobody moves on while holding an item, no
answer is acknowledged without being stored, counters keep every update, and the completion code follows the
researcher's rule. The loop has one implementation; these run on PostgreSQL and on the SQLite fallback alike."""

import re
import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from annotations.models import Assignment, Enrollment, Item, Label
from annotations.services import flow, routing
from annotations.services.routing import SubmitError, assignment_next, assignment_skip, label_submit
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
ASSIGNMENT_RE = re.compile(r'name="assignment" value="(\d+)"')


def _project(items: int, *, slug: str = "lost", overlap: int = 1, crowd: dict | None = None):
    project = ProjectFactory(slug=slug, overlap=overlap)
    if crowd is not None:
        project.spec["crowd"] = crowd
        project.save()
    ItemFactory.create_batch(items, project=project)
    return project


def _annotator(project, name: str = "ann"):
    user = UserFactory(username=name, role="annotator")
    flow.enrollment_open(project=project, user=user)
    Enrollment.objects.filter(project=project, annotator=user).update(stage=Enrollment.Stage.WORK)
    return user


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _reserved(project) -> int:
    return Assignment.objects.filter(project=project, status=Assignment.Status.RESERVED).count()


def test_replayed_api_submit_returns_the_same_next_item_and_reserves_nothing():
    project = _project(10)
    client = _api(_annotator(project))
    first = client.get(f"/api/annotate/{project.slug}/next/").json()["assignment"]
    body = {"assignment": first, "values": {"empathy": 3}}
    answer = client.post(f"/api/annotate/{project.slug}/submit/", body, format="json").json()
    following = answer["next"]["assignment"]
    for _ in range(12):
        replay = client.post(f"/api/annotate/{project.slug}/submit/", body, format="json")
        assert replay.status_code == 200 and replay.json()["next"]["assignment"] == following
    assert Label.objects.filter(project=project).count() == 1 and _reserved(project) == 1
    newcomer = _api(_annotator(project, "newcomer")).get(f"/api/annotate/{project.slug}/next/").json()
    assert newcomer["stage"] == "work" and newcomer["assignment"] is not None


def test_replayed_page_submit_shows_the_same_next_item_and_reserves_nothing(client):
    project = _project(10)
    client.force_login(_annotator(project))
    held = ASSIGNMENT_RE.search(client.get(f"/annotate/{project.slug}/").content.decode()).group(1)
    form = {"assignment": held, "d__empathy": "3", "action": "submit"}
    shown = set()
    for _ in range(5):
        response = client.post(f"/annotate/{project.slug}/submit/", form, headers={"HX-Request": "true"})
        shown.add(ASSIGNMENT_RE.search(response.content.decode()).group(1))
    assert len(shown) == 1 and shown != {held} and _reserved(project) == 1


def test_replayed_skip_reserves_nothing():
    project = _project(6)
    enrollment = Enrollment.objects.get(annotator=_annotator(project))
    held = assignment_next(enrollment=enrollment)
    assignment_skip(assignment=held, distressing=False)
    following = {assignment_next(enrollment=enrollment, resume=False, after=held).id for _ in range(4)}
    assert len(following) == 1 and _reserved(project) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a database server (the test SQLite is "
                    "in memory)")
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_one_submit_at_once_reserve_one_next_item():
    project = _project(20)
    enrollment = Enrollment.objects.get(annotator=_annotator(project))
    held = assignment_next(enrollment=enrollment)
    label_submit(assignment=held, raw_values={"empathy": 2}, seconds=1.0)
    barrier, answers = threading.Barrier(4), []

    def replay():
        try:
            mine = Enrollment.objects.select_related("project").get(pk=enrollment.pk)
            barrier.wait()
            answers.append(assignment_next(enrollment=mine, resume=False, after=held).id)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=replay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and len(set(answers)) == 1 and _reserved(project) == 1


class _Died(Exception):
    """The process stopped between a turn's store and its next reservation."""


@pytest.mark.django_db(transaction=True)  # the store commits on its own, as in production
def test_a_submit_resent_after_the_process_died_between_the_store_and_the_next_reservation_gets_one_next_item(
        client, monkeypatch):
    project = _project(10)
    user = _annotator(project)
    client.force_login(user)
    held = ASSIGNMENT_RE.search(client.get(f"/annotate/{project.slug}/").content.decode()).group(1)
    form = {"assignment": held, "d__empathy": "3", "action": "submit"}
    reserve = routing._task_reserve

    def dies_once(*args, **kwargs):  # the fault: the turn stops where no transaction spans the store and the next
        monkeypatch.setattr(routing, "_task_reserve", reserve)
        raise _Died()

    monkeypatch.setattr(routing, "_task_reserve", dies_once)
    with pytest.raises(_Died):
        client.post(f"/annotate/{project.slug}/submit/", form, headers={"HX-Request": "true"})
    # the store stands whole (label, finish, counters), and no next item was reserved
    assert Label.objects.filter(assignment_id=held).count() == 1 and _reserved(project) == 0
    assert Assignment.objects.get(pk=held).status == Assignment.Status.SUBMITTED
    assert Enrollment.objects.get(annotator=user).labels_done == 1
    shown = set()
    for _ in range(3):  # the browser's retry, then a double click on it
        response = client.post(f"/annotate/{project.slug}/submit/", form, headers={"HX-Request": "true"})
        assert response.status_code == 200
        shown.add(ASSIGNMENT_RE.search(response.content.decode()).group(1))
    assert len(shown) == 1 and shown != {held}
    following = Assignment.objects.get(pk=shown.pop())
    assert following.follows_id == int(held) and following.status == Assignment.Status.RESERVED
    assert Label.objects.count() == 1 and _reserved(project) == 1
    assert Enrollment.objects.get(annotator=user).labels_done == 1
    assert sorted(Item.objects.filter(project=project).values_list("taken", "labels_count")) == (
        [(0, 0)] * 8 + [(1, 0), (1, 1)])


def test_a_submit_whose_reservation_was_lost_writes_nothing_and_says_so():
    project = _project(3)
    enrollment = Enrollment.objects.select_related("project").get(annotator=_annotator(project))
    held = assignment_next(enrollment=enrollment)
    assignment_skip(assignment=held, distressing=False)  # from another tab: the item went back to the pool
    counters = Enrollment.objects.values(*routing.COUNTERS).get(pk=enrollment.pk)
    with pytest.raises(SubmitError) as refused:
        label_submit(assignment=held, raw_values={"empathy": 3}, seconds=1.0, enrollment=enrollment)
    assert "no longer yours" in refused.value.errors["item"]
    assert not Label.objects.exists()
    assert Assignment.objects.get(pk=held.pk).status == Assignment.Status.SKIPPED
    assert Enrollment.objects.values(*routing.COUNTERS).get(pk=enrollment.pk) == counters
    assert set(Item.objects.filter(project=project).values_list("taken", "labels_count")) == {(0, 0)}


def test_nobody_moves_to_the_final_stage_while_holding_an_item():
    project = _project(3)
    enrollment = Enrollment.objects.get(annotator=_annotator(project))
    held = assignment_next(enrollment=enrollment)
    flow.enrollment_items_finished(enrollment=enrollment)
    assert Enrollment.objects.get(pk=enrollment.pk).stage == "work"
    # with nothing new to give, the loop still hands back the held item instead of "finished"
    for other in Item.objects.filter(project=project).exclude(pk=held.item_id):
        Item.objects.filter(pk=other.pk).update(taken=1, is_full=True)
    assert assignment_next(enrollment=enrollment, resume=False).id == held.id


def test_reaching_the_quota_gives_held_items_back_to_the_pool():
    project = _project(4)
    project.spec["limits"] = {"items_per_annotator": 1}
    project.save()
    enrollment = Enrollment.objects.select_related("project").get(annotator=_annotator(project))
    first = assignment_next(enrollment=enrollment)
    label_submit(assignment=first, raw_values={"empathy": 4}, seconds=1.0)
    extra = assignment_next(enrollment=enrollment, resume=False)  # e.g. reserved by a second tab
    assert flow.enrollment_after_item(enrollment=enrollment) == "quota"
    assert Enrollment.objects.get(pk=enrollment.pk).stage == "final" and _reserved(project) == 0
    assert Item.objects.get(pk=extra.item_id).taken == 0


def test_a_page_submit_after_the_items_ended_says_it_was_not_stored(client):
    project = _project(3)
    user = _annotator(project)
    client.force_login(user)
    held = ASSIGNMENT_RE.search(client.get(f"/annotate/{project.slug}/").content.decode()).group(1)
    Enrollment.objects.filter(annotator=user).update(stage=Enrollment.Stage.FINAL)
    response = client.post(f"/annotate/{project.slug}/submit/", {"assignment": held, "d__empathy": "3",
                                                                 "action": "submit"})
    assert response.status_code == 409 and "not stored" in response.content.decode()
    assert not Label.objects.exists()


def test_an_api_submit_after_the_items_ended_says_it_was_not_stored_but_a_replay_gets_its_answer():
    project = _project(1)
    client = _api(_annotator(project))
    token = client.get(f"/api/annotate/{project.slug}/next/").json()["assignment"]
    body = {"assignment": token, "values": {"empathy": 3}}
    first = client.post(f"/api/annotate/{project.slug}/submit/", body, format="json").json()
    assert first["next"]["stage"] == "final"
    replay = client.post(f"/api/annotate/{project.slug}/submit/", body, format="json")
    assert replay.status_code == 200 and replay.json()["label"]["values"] == {"empathy": 3}
    assert replay.json()["next"]["stage"] == "final"
    stale = client.post(f"/api/annotate/{project.slug}/submit/", {"assignment": "x", "values": {}}, format="json")
    assert stale.status_code == 400 and "not stored" in stale.json()["assignment"][0]


def test_skipping_the_only_item_counts_the_skip(client):
    project = _project(1)
    user = _annotator(project)
    client.force_login(user)
    held = ASSIGNMENT_RE.search(client.get(f"/annotate/{project.slug}/").content.decode()).group(1)
    client.post(f"/annotate/{project.slug}/submit/", {"assignment": held, "action": "skip"})
    enrollment = Enrollment.objects.get(annotator=user)
    assert enrollment.stage == "final" and enrollment.skipped == 1


def _finish_by_skipping(client, project, user):
    client.force_login(user)
    held = ASSIGNMENT_RE.search(client.get(f"/annotate/{project.slug}/").content.decode()).group(1)
    client.post(f"/annotate/{project.slug}/submit/", {"assignment": held, "action": "skip"})
    Enrollment.objects.filter(annotator=user).update(stage=Enrollment.Stage.DONE)
    return client.get(f"/annotate/{project.slug}/").content.decode()


def test_no_completion_code_for_a_session_without_labels_unless_the_researcher_allows_it(client):
    strict = _project(1, slug="strict", crowd={"completion_code": "C0DE", "redirect_url": None, "min_labels": 1})
    page = _finish_by_skipping(client, strict, _annotator(strict, "skipper"))
    assert "C0DE" not in page and "at least 1 labelled item" in page
    lenient = _project(1, slug="lenient", crowd={"completion_code": "C0DE", "redirect_url": None, "min_labels": 0})
    assert "C0DE" in _finish_by_skipping(client, lenient, _annotator(lenient, "skipper2"))


def test_the_instructions_state_how_many_labels_the_code_needs(client):
    project = _project(3, slug="stated", crowd={"completion_code": "C0DE", "redirect_url": None, "min_labels": 2})
    user = _annotator(project)
    Enrollment.objects.filter(annotator=user).update(stage=Enrollment.Stage.INSTRUCTIONS)
    project.spec["instructions"] = "Read each narrative."
    project.save()
    client.force_login(user)
    page = client.get(f"/annotate/{project.slug}/").content.decode()
    assert "after at least 2 labelled items" in page
