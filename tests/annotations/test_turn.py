"""The annotation turn's one path (annotations.services.turn and routing's statements): what a reservation takes,
what a label's store writes, what the submit context reads, and the statements a usual turn runs, on PostgreSQL
and on the SQLite fallback alike."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations.models import Assignment, ControlResult, Enrollment, Item, Label
from annotations.services import flow, routing
from annotations.services.routing import COUNTERS, assignment_next, label_submit
from annotations.services.turn import annotation_turn, turn_context_fetch
from tests.factories import ItemFactory, LabelFactory, ProjectFactory, UserFactory
from webapp.data.statements import statements_join

pytestmark = pytest.mark.django_db
KEYS = [10, 20, 30, 40]


def _enrolled(project, name: str) -> Enrollment:
    enrollment = flow.enrollment_open(project=project, user=UserFactory(username=name, role="annotator"))
    Enrollment.objects.filter(pk=enrollment.pk).update(stage=Enrollment.Stage.WORK)
    enrollment.refresh_from_db()
    return enrollment


def _keyed_project(overlap: int = 2, slug: str = "keyed"):
    """Items n0..n3 at known places of the shuffled order."""
    project = ProjectFactory(slug=slug, overlap=overlap)
    for index, key in enumerate(KEYS):
        ItemFactory(project=project, external_id=f"n{index}", shuffle_key=key)
    return project


def _item_state(project) -> list[tuple]:
    return list(Item.objects.filter(project=project).order_by("external_id").values_list(
        "external_id", "taken", "labels_count", "is_full"))


def _reserve(enrollment, offset: int, monkeypatch) -> Assignment | None:
    monkeypatch.setattr(routing.random, "getrandbits", lambda bits: offset)
    return routing._task_reserve(enrollment)


@pytest.mark.parametrize(("offset", "expected"), [(0, "n0"), (15, "n1"), (40, "n3"), (41, "n0")])
def test_a_reservation_takes_the_first_open_item_from_a_random_point_of_the_shuffled_order(offset, expected,
                                                                                             monkeypatch):
    project = _keyed_project()
    enrollment = _enrolled(project, "walker")
    # 41 is above every key: the walk wraps around to the start of the shuffled order
    assignment = _reserve(enrollment, offset, monkeypatch)
    assert assignment.item.external_id == expected
    assert [(name, taken) for name, taken, _, _ in _item_state(project)] == [
        (name, 1 if name == expected else 0) for name in ("n0", "n1", "n2", "n3")]
    stored = Assignment.objects.select_related("item").get(pk=assignment.pk)
    assert (stored.status, stored.finished_at, stored.seconds, stored.follows_id) == ("reserved", None, None, None)
    assert stored.expires_at - stored.reserved_at == timedelta(seconds=routing.reservation_seconds())
    # the instance handed back is the row as stored
    for field in Assignment._meta.concrete_fields:
        assert getattr(assignment, field.attname) == getattr(stored, field.attname), field.attname
    for field in Item._meta.concrete_fields:
        assert getattr(assignment.item, field.attname) == getattr(stored.item, field.attname), field.attname


def test_a_reservation_passes_over_full_items_and_items_the_annotator_had(monkeypatch):
    project = _keyed_project(overlap=1)
    enrollment = _enrolled(project, "picky")
    first, second = Item.objects.filter(project=project).order_by("shuffle_key")[:2]
    Item.objects.filter(pk=first.pk).update(taken=1, is_full=True)
    Assignment.objects.create(project=project, item=second, annotator=enrollment.annotator,
                              status=Assignment.Status.SKIPPED, expires_at=timezone.now())
    held = _reserve(enrollment, 0, monkeypatch)
    assert held.item.external_id == "n2"
    Assignment.objects.filter(pk=held.pk).update(status=Assignment.Status.SUBMITTED)
    held = _reserve(enrollment, 0, monkeypatch)
    assert held.item.external_id == "n3"
    # nothing new, but "nothing left" is never said to someone who holds an item
    assert assignment_next(enrollment=enrollment, resume=False).pk == held.pk
    Assignment.objects.filter(pk=held.pk).update(status=Assignment.Status.SUBMITTED)
    assert _reserve(enrollment, 0, monkeypatch) is None


def test_a_reservation_of_an_item_without_a_free_slot_writes_nothing(monkeypatch):
    project = _keyed_project(overlap=1)
    enrollment = _enrolled(project, "late")
    # inconsistent on purpose: the pool says open, the counter says full; the conditional take must refuse it
    Item.objects.filter(project=project).update(taken=1)
    assert _reserve(enrollment, 0, monkeypatch) is None
    assert not Assignment.objects.exists()
    assert set(Item.objects.filter(project=project).values_list("taken", flat=True)) == {1}


def test_no_reservation_once_the_enrollment_left_the_items_stage(monkeypatch):
    project = _keyed_project()
    enrollment = _enrolled(project, "gone")
    Enrollment.objects.filter(pk=enrollment.pk).update(stage=Enrollment.Stage.FINAL)
    assert _reserve(enrollment, 0, monkeypatch) is None
    assert not Assignment.objects.exists() and {taken for _, taken, _, _ in _item_state(project)} == {0}


def test_a_label_store_writes_the_label_and_every_counter_in_one_statement(monkeypatch):
    project = _keyed_project()
    enrollment = _enrolled(project, "writer")
    assignment = _reserve(enrollment, 0, monkeypatch)
    values = {"empathy": 4}
    with CaptureQueriesContext(connection) as captured:
        label = label_submit(assignment=assignment, raw_values=values, seconds=7.5, enrollment=enrollment)
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # PostgreSQL: one WITH statement; SQLite: the label, the finish, the item's and the enrollment's counters and
    # the result, one after another
    assert len(statements) == (1 if statements_join() else 5), "\n".join(statement[:150] for statement in statements)
    row = Label.objects.values("values", "seconds", "source", "item__external_id", "assignment__status",
                               "assignment__seconds", "created_at", "assignment__finished_at").get(pk=label.pk)
    assert row.pop("created_at") == row.pop("assignment__finished_at") == label.created_at
    assert row == {"values": values, "seconds": 7.5, "source": "platform", "item__external_id": "n0",
                   "assignment__status": "submitted", "assignment__seconds": 7.5}
    assert _item_state(project)[0] == ("n0", 1, 1, False)
    stored = Enrollment.objects.values(*COUNTERS).get(pk=enrollment.pk)
    assert stored == {name: getattr(enrollment, name) for name in COUNTERS}
    assert stored["labels_done"] == stored["session_done"] == stored["since_control"] == 1


@pytest.mark.parametrize(("role", "answer", "passed"), [("attention", 1, True), ("attention", 5, False),
                                                        ("gold", 5, False)])
def test_a_control_items_store_records_its_result_and_hands_back_the_counters(role, answer, passed):
    project = _keyed_project()
    enrollment = _enrolled(project, f"checked-{role}-{answer}")
    Enrollment.objects.filter(pk=enrollment.pk).update(since_control=3)
    enrollment.refresh_from_db()
    control = ItemFactory(project=project, role=role, gold={"empathy": 1})
    assignment = routing._reserve(enrollment, control.pk, None)
    label = label_submit(assignment=assignment, raw_values={"empathy": answer}, seconds=2.0, enrollment=enrollment)
    assert Label.objects.get().pk == label.pk
    assert list(ControlResult.objects.values_list("item_id", "kind", "passed")) == [(control.pk, role, passed)]
    stored = Enrollment.objects.values(*COUNTERS).get(pk=enrollment.pk)
    assert stored == {name: getattr(enrollment, name) for name in COUNTERS}
    # a control item does not count towards the next one; only a failed attention check counts as a failure
    assert (stored["labels_done"], stored["since_control"]) == (1, 3)
    assert stored["attention_failures"] == (1 if role == "attention" and not passed else 0)
    # its slot was never taken (controls have no overlap), but its labels are counted
    assert Item.objects.values_list("taken", "labels_count").get(pk=control.pk) == (0, 1)


def test_a_store_of_an_expired_reservation_takes_a_free_slot_again(monkeypatch):
    project = _keyed_project()
    enrollment = _enrolled(project, "slowpoke")
    assignment = _reserve(enrollment, 0, monkeypatch)
    routing.assignments_release(assignments=[assignment])  # as the reclaim does when the reservation lapses
    assert _item_state(project)[0] == ("n0", 0, 0, False)
    label = label_submit(assignment=assignment, raw_values={"empathy": 1}, seconds=1.0, enrollment=enrollment)
    assert Label.objects.get().pk == label.pk and enrollment.labels_done == 1
    assert _item_state(project)[0] == ("n0", 1, 1, False)
    assert Assignment.objects.get(pk=assignment.pk).status == Assignment.Status.SUBMITTED


def test_a_store_leaves_a_label_stored_by_another_route_alone(monkeypatch):
    project = _keyed_project()
    enrollment = _enrolled(project, "imported")
    assignment = _reserve(enrollment, 0, monkeypatch)
    imported = LabelFactory(project=project, item=assignment.item, annotator=enrollment.annotator,
                            values={"empathy": 2})
    assert label_submit(assignment=assignment, raw_values={"empathy": 5}, seconds=1.0).pk == imported.pk
    assert Assignment.objects.get(pk=assignment.pk).status == Assignment.Status.RESERVED
    assert Label.objects.count() == 1 and Label.objects.get().values == {"empathy": 2}
    assert Enrollment.objects.get(pk=enrollment.pk).labels_done == 0


def test_a_refused_late_answer_writes_nothing_and_leaves_the_turn_usable(monkeypatch):
    project = _keyed_project(overlap=1)
    enrollment = _enrolled(project, "refused")
    assignment = _reserve(enrollment, 0, monkeypatch)
    routing.assignments_release(assignments=[assignment])
    Item.objects.filter(pk=assignment.item_id).update(taken=1, is_full=True)  # someone else took the slot
    with pytest.raises(routing.SubmitError), transaction.atomic():
        annotation_turn(enrollment=enrollment, assignment=assignment, raw_values={"empathy": 3}, seconds=1.0)
    assert not Label.objects.exists()
    assert Assignment.objects.get(pk=assignment.pk).status == Assignment.Status.EXPIRED
    assert Enrollment.objects.get(pk=enrollment.pk).labels_done == 0


def test_the_turn_context_is_the_rows_the_orm_reads(monkeypatch):
    project = _keyed_project()
    enrollment = _enrolled(project, "reader")
    held = _reserve(enrollment, 0, monkeypatch)
    fetched_enrollment, fetched = turn_context_fetch(annotator_id=enrollment.annotator_id, slug=project.slug,
                                                     assignment_id=held.pk)
    stored = Assignment.objects.select_related("item", "project").get(pk=held.pk)
    for field in Assignment._meta.concrete_fields:
        assert getattr(fetched, field.attname) == getattr(stored, field.attname)
    for field in Item._meta.concrete_fields:
        assert getattr(fetched.item, field.attname) == getattr(stored.item, field.attname)
    for field in Enrollment._meta.concrete_fields:
        assert getattr(fetched_enrollment, field.attname) == getattr(enrollment, field.attname)
    assert fetched.project.spec == stored.project.spec and fetched_enrollment.project is fetched.project
    assert fetched.project.slug == project.slug and fetched.project.is_open

    someone_else = _enrolled(project, "other")
    assert turn_context_fetch(annotator_id=someone_else.annotator_id, slug=project.slug,
                              assignment_id=held.pk)[1] is None
    project.is_open = False
    project.save(update_fields=["is_open"])
    assert turn_context_fetch(annotator_id=enrollment.annotator_id, slug=project.slug,
                              assignment_id=held.pk) == (None, None)


ASSIGNMENT_RE = re.compile(r'name="assignment" value="(\d+)"')
CSRF_RE = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]+">')


def _annotating_client(client, project):
    user = UserFactory(username="clicker", role="annotator")
    client.force_login(user)
    flow.enrollment_open(project=project, user=user)
    Enrollment.objects.filter(project=project, annotator=user).update(stage=Enrollment.Stage.WORK)
    page = client.get(f"/annotate/{project.slug}/").content.decode()
    return user, page


def test_a_usual_submit_answers_with_the_form_the_page_draws(client):
    project = ProjectFactory(slug="drawn", overlap=1)
    ItemFactory.create_batch(3, project=project)
    _, page = _annotating_client(client, project)
    held = ASSIGNMENT_RE.search(page).group(1)
    response = client.post(f"/annotate/{project.slug}/submit/", {"assignment": held, "d__empathy": "3",
                                                                 "seconds": "4", "action": "submit"},
                           headers={"HX-Request": "true"})
    fragment = response.content.decode()
    assert response.status_code == 200 and fragment.lstrip().startswith("<form id=\"item-form\"")
    following = ASSIGNMENT_RE.search(fragment).group(1)
    assert following != held and Label.objects.get().assignment_id == int(held)
    assert 'data-dimension="d__empathy"' in fragment and 'class="key"' not in fragment  # 1-5 keep their digits
    for action in ("submit", "skip", "distressing"):
        assert f'name="action" value="{action}"' in fragment
    # the page drawing the item it holds now shows the same form, token aside
    reloaded = client.get(f"/annotate/{project.slug}/").content.decode()
    form = CSRF_RE.sub("", fragment[fragment.index("<form"):fragment.index("</form>")])
    assert form in CSRF_RE.sub("", reloaded)
    assert CSRF_RE.search(fragment)


@pytest.mark.django_db(transaction=True)  # outside a test transaction, so a BEGIN or COMMIT would show
@pytest.mark.parametrize("action", ["submit", "skip"])
def test_a_usual_turn_through_the_page_takes_four_statements_on_postgresql(client, action):
    project = ProjectFactory(slug="counted", overlap=1)
    ItemFactory.create_batch(4, project=project)
    user, page = _annotating_client(client, project)

    def send(held: str, action: str):
        return client.post(f"/annotate/{project.slug}/submit/", {"assignment": held, "d__empathy": "3",
                                                                 "action": action}, headers={"HX-Request": "true"})

    held = ASSIGNMENT_RE.search(send(ASSIGNMENT_RE.search(page).group(1), "submit").content.decode()).group(1)
    with CaptureQueriesContext(connection) as captured:  # the spec is in this process's cache by now
        response = send(held, action)
    assert response.status_code == 200 and ASSIGNMENT_RE.search(response.content.decode())
    statements = [q["sql"] for q in captured.captured_queries]
    # the user (session auth), the context, the store (the label, the assignment's finish, the item's and the
    # enrollment's counters; a skip: the assignment, its finish, its slot given back, the enrollment's counters),
    # the next (the pick, the reservation, the slot's take); on PostgreSQL the store and the next are one statement
    # each and need no BEGIN and COMMIT, on SQLite their parts and results run in turn, each lot between BEGIN and
    # COMMIT
    expected = 4 if statements_join() else 2 + (2 + 5) + (2 + 4)
    assert len(statements) == expected, "\n".join(s[:150] for s in statements)
    enrollment = Enrollment.objects.get(annotator=user)
    assert (enrollment.labels_done, enrollment.skipped, enrollment.session_done) == (
        (2, 0, 2) if action == "submit" else (1, 1, 2))
    assert Assignment.objects.get(pk=held).status == ("submitted" if action == "submit" else "skipped")
    assert sorted(Item.objects.filter(project=project).values_list("taken", "labels_count")) == (
        [(0, 0), (1, 0), (1, 1), (1, 1)] if action == "submit" else [(0, 0), (0, 0), (1, 0), (1, 1)])
