"""The annotation loop's one-statement PostgreSQL path (annotations.services.loop_sql) against the ORM path it
stands in for, and the page's submit that uses it."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations.models import Assignment, Enrollment, Item, Label
from annotations.services import flow, loop_sql, routing
from annotations.services.routing import assignment_next, label_submit
from tests.factories import ItemFactory, LabelFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's")
KEYS = [10, 20, 30, 40]


def _enrolled(project, name: str) -> Enrollment:
    enrollment = flow.enrollment_open(project=project, user=UserFactory(username=name, role="annotator"))
    Enrollment.objects.filter(pk=enrollment.pk).update(stage=Enrollment.Stage.ITEMS)
    enrollment.refresh_from_db()
    return enrollment


def _twin_projects(overlap: int = 2):
    """Two projects with the same items in the same shuffled order: one for each path."""
    projects = []
    for slug in ("fast", "slow"):
        project = ProjectFactory(slug=slug, overlap=overlap)
        for index, key in enumerate(KEYS):
            ItemFactory(project=project, external_id=f"n{index}", shuffle_key=key)
        projects.append(project)
    return projects


def _item_state(project) -> list[tuple]:
    return list(Item.objects.filter(project=project).order_by("external_id").values_list(
        "external_id", "taken", "labels_count", "is_full"))


def _fast_reserve(enrollment, offset: int, wrap: bool = False) -> Assignment | None:
    now = timezone.now()
    return loop_sql.task_reserve_postgres(project=enrollment.project, annotator_id=enrollment.annotator_id,
                                          offset=offset, wrap=wrap, now=now, expires_at=now + timedelta(minutes=30))


@postgres_only
@pytest.mark.parametrize("offset", [0, 15, 40, 41])
def test_fast_reservation_takes_the_item_and_slot_the_orm_path_takes(offset, monkeypatch):
    fast_project, slow_project = _twin_projects()
    fast, slow = _enrolled(fast_project, "fast"), _enrolled(slow_project, "slow")
    monkeypatch.setattr(routing.random, "getrandbits", lambda bits: offset)
    # 41 is above every key: both paths wrap around to the start of the shuffled order
    fast_assignment = _fast_reserve(fast, offset) or _fast_reserve(fast, offset, wrap=True)
    slow_assignment = routing._task_reserve_orm(slow)
    assert fast_assignment.item.external_id == slow_assignment.item.external_id
    assert _item_state(fast_project) == _item_state(slow_project)
    fast_row, slow_row = (Assignment.objects.values("status", "reserved_at", "expires_at", "finished_at", "seconds")
                          .get(pk=a.pk) for a in (fast_assignment, slow_assignment))
    assert fast_row["expires_at"] - fast_row["reserved_at"] == timedelta(minutes=30)
    assert (fast_row["status"], fast_row["finished_at"], fast_row["seconds"]) == \
        (slow_row["status"], slow_row["finished_at"], slow_row["seconds"]) == ("reserved", None, None)
    # the instance handed back is the row as stored
    stored = Assignment.objects.select_related("item").get(pk=fast_assignment.pk)
    assert (fast_assignment.item.data, fast_assignment.item.taken, fast_assignment.item.is_full) == \
        (stored.item.data, stored.item.taken, stored.item.is_full)
    assert (fast_assignment.item_id, fast_assignment.annotator_id, fast_assignment.project_id) == \
        (stored.item_id, stored.annotator_id, stored.project_id)


@postgres_only
def test_fast_reservation_passes_over_full_items_and_items_the_annotator_had():
    project, _ = _twin_projects(overlap=1)
    enrollment = _enrolled(project, "picky")
    first, second = Item.objects.filter(project=project).order_by("shuffle_key")[:2]
    Item.objects.filter(pk=first.pk).update(taken=1, is_full=True)
    Assignment.objects.create(project=project, item=second, annotator=enrollment.annotator,
                              status=Assignment.Status.SKIPPED, expires_at=timezone.now())
    assert _fast_reserve(enrollment, 0).item.external_id == "n2"
    assert _fast_reserve(enrollment, 0).item.external_id == "n3"
    assert _fast_reserve(enrollment, 0) is None and _fast_reserve(enrollment, 0, wrap=True) is None
    # nothing new, but "nothing left" is never said to someone who holds an item
    assert assignment_next(enrollment=enrollment, resume=False).item.external_id in {"n2", "n3"}


@postgres_only
def test_fast_reservation_of_an_item_without_a_free_slot_writes_nothing():
    project, _ = _twin_projects(overlap=1)
    enrollment = _enrolled(project, "late")
    # inconsistent on purpose: the pool says open, the counter says full; the conditional take must refuse it
    Item.objects.filter(project=project).update(taken=1)
    with pytest.raises(loop_sql.SlotMissed):
        _fast_reserve(enrollment, 0)
    assert not Assignment.objects.exists()
    assert set(Item.objects.filter(project=project).values_list("taken", flat=True)) == {1}


@postgres_only
def test_fast_store_writes_what_the_orm_path_writes():
    fast_project, slow_project = _twin_projects()
    fast, slow = _enrolled(fast_project, "fast"), _enrolled(slow_project, "slow")
    fast_assignment, slow_assignment = routing._task_reserve_fast(fast), routing._task_reserve_orm(slow)
    now = timezone.now()
    values = {"empathy": 4}
    with CaptureQueriesContext(connection) as captured:
        label_id, counters = loop_sql.label_store_postgres(assignment=fast_assignment, values=values, seconds=7.5,
                                                           now=now)
    assert len(captured) == 1
    with transaction.atomic():
        slow_label = routing._label_store(Assignment.objects.select_related("item", "project").get(
            pk=slow_assignment.pk), slow_assignment.item, slow_project, values, 7.5)

    def label(pk):
        row = Label.objects.values("values", "seconds", "source", "item__external_id", "assignment__status",
                                   "assignment__seconds", "created_at", "assignment__finished_at").get(pk=pk)
        stamps = row.pop("created_at"), row.pop("assignment__finished_at")
        return row, stamps

    (fast_row, fast_stamps), (slow_row, slow_stamps) = label(label_id), label(slow_label.pk)
    assert fast_row == slow_row == {"values": values, "seconds": 7.5, "source": "platform",
                                    "item__external_id": fast_assignment.item.external_id,
                                    "assignment__status": "submitted", "assignment__seconds": 7.5}
    assert fast_stamps == (now, now)
    assert all(abs(stamp - now) < timedelta(seconds=5) for stamp in slow_stamps)  # the ORM stamps its own time
    assert _item_state(fast_project) == _item_state(slow_project)
    fields = list(loop_sql.COUNTERS)
    assert Enrollment.objects.values(*fields).get(pk=fast.pk) == counters
    fields.remove("session_started_at")  # each enrollment started its session at its own time
    assert Enrollment.objects.values(*fields).get(pk=slow.pk) == {name: counters[name] for name in fields}
    assert counters["labels_done"] == counters["session_done"] == counters["since_control"] == 1


@postgres_only
def test_fast_store_of_an_assignment_no_longer_reserved_writes_nothing():
    project, _ = _twin_projects()
    enrollment = _enrolled(project, "slowpoke")
    assignment = routing._task_reserve_fast(enrollment)
    Assignment.objects.filter(pk=assignment.pk).update(status=Assignment.Status.EXPIRED)
    assert loop_sql.label_store_postgres(assignment=assignment, values={"empathy": 1}, seconds=1.0,
                                         now=timezone.now()) is None
    assert not Label.objects.exists()
    assert Enrollment.objects.get(pk=enrollment.pk).labels_done == 0
    # the service then takes the ORM path, which stores a late answer while a slot is free
    label = label_submit(assignment=assignment, raw_values={"empathy": 1}, seconds=1.0, enrollment=enrollment)
    assert Label.objects.get().pk == label.pk and enrollment.labels_done == 1


@postgres_only
def test_fast_store_leaves_a_label_stored_by_another_route_alone():
    project, _ = _twin_projects()
    enrollment = _enrolled(project, "imported")
    assignment = routing._task_reserve_fast(enrollment)
    imported = LabelFactory(project=project, item=assignment.item, annotator=enrollment.annotator,
                            values={"empathy": 2})
    assert loop_sql.label_store_postgres(assignment=assignment, values={"empathy": 5}, seconds=1.0,
                                         now=timezone.now()) is None
    assert Assignment.objects.get(pk=assignment.pk).status == Assignment.Status.RESERVED
    assert label_submit(assignment=assignment, raw_values={"empathy": 5}, seconds=1.0).pk == imported.pk
    assert Label.objects.count() == 1 and Label.objects.get().values == {"empathy": 2}


@postgres_only
def test_submit_context_is_the_rows_the_orm_reads():
    project, _ = _twin_projects()
    enrollment = _enrolled(project, "reader")
    held = routing._task_reserve_fast(enrollment)
    fetched_enrollment, fetched = loop_sql.submit_context_fetch(annotator_id=enrollment.annotator_id,
                                                                slug=project.slug, assignment_id=held.pk)
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
    assert loop_sql.submit_context_fetch(annotator_id=someone_else.annotator_id, slug=project.slug,
                                         assignment_id=held.pk)[1] is None
    project.is_open = False
    project.save(update_fields=["is_open"])
    assert loop_sql.submit_context_fetch(annotator_id=enrollment.annotator_id, slug=project.slug,
                                         assignment_id=held.pk) == (None, None)


ASSIGNMENT_RE = re.compile(r'name="assignment" value="(\d+)"')
CSRF_RE = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]+">')


def _annotating_client(client, project):
    user = UserFactory(username="clicker", role="annotator")
    client.force_login(user)
    flow.enrollment_open(project=project, user=user)
    Enrollment.objects.filter(project=project, annotator=user).update(stage=Enrollment.Stage.ITEMS)
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


@postgres_only
def test_a_usual_submit_through_the_page_takes_four_statements(client, monkeypatch):
    monkeypatch.setattr(routing.random, "getrandbits", lambda bits: 0)  # no wrap-around pass (a fifth statement)
    project = ProjectFactory(slug="counted", overlap=1)
    ItemFactory.create_batch(3, project=project)
    _, page = _annotating_client(client, project)

    def submit(held: str):
        return client.post(f"/annotate/{project.slug}/submit/", {"assignment": held, "d__empathy": "3",
                                                                 "action": "submit"}, headers={"HX-Request": "true"})

    held = ASSIGNMENT_RE.search(submit(ASSIGNMENT_RE.search(page).group(1)).content.decode()).group(1)
    with CaptureQueriesContext(connection) as captured:  # the spec is in this process's cache by now
        response = submit(held)
    assert response.status_code == 200 and ASSIGNMENT_RE.search(response.content.decode())
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    # the user (session auth), the context, the store, the next reservation
    assert len(statements) == 4, "\n".join(s[:150] for s in statements)
