"""The annotation loop under concurrency: many annotators at once fetching, submitting, double-submitting,
skipping and abandoning reservations that then expire and are reclaimed while others work.

Runs on PostgreSQL (required under CI=true; skipped loudly outside CI when the settings fell back to SQLite)."""

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from annotations.models import Assignment, Enrollment, Item, Label
from annotations.services import flow, routing
from annotations.services.routing import SubmitError, assignment_next, assignment_skip, label_submit
from tests.conftest import require_postgres
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.slow]


@dataclass
class Ledger:
    """What the annotators were told, collected across threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: dict[int, set] = field(default_factory=dict)  # label id -> values each click sent
    double_submits: int = 0
    late_accepted: int = 0
    late_refused: int = 0
    skips: int = 0
    abandoned: int = 0
    errors: list[BaseException] = field(default_factory=list)

    def accept(self, label: Label, value: int) -> None:
        with self.lock:
            self.accepted.setdefault(label.id, set()).add(value)


def _expire(assignment: Assignment) -> None:
    """Stands in for the clock running past the reservation: the annotator closed the tab long ago."""
    Assignment.objects.filter(id=assignment.id).update(expires_at=timezone.now() - timedelta(seconds=1))


def _double_click(assignment: Assignment, ledger: Ledger, rng: random.Random) -> None:
    """Two requests for the same assignment at the same moment, as a double click sends them."""
    barrier = threading.Barrier(2)
    results: list[Label] = []

    def click(value: int) -> None:
        try:
            barrier.wait(timeout=10)
            label = label_submit(assignment=Assignment.objects.select_related("item", "project").get(id=assignment.id),
                                 raw_values={"empathy": value}, seconds=1.0)
            results.append(label)
            ledger.accept(label, value)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            ledger.errors.append(exc)
        finally:
            connection.close()

    values = [rng.randint(1, 5), rng.randint(1, 5)]
    other = threading.Thread(target=click, args=(values[1],))
    other.start()
    click(values[0])
    other.join()
    assert len({label.id for label in results}) == 1, "a double click stored two labels"
    with ledger.lock:
        ledger.double_submits += 1


def _annotate(enrollment_id: int, seed: int, ledger: Ledger) -> None:
    rng = random.Random(seed)
    abandoned: list[Assignment] = []
    try:
        enrollment = Enrollment.objects.select_related("project").get(id=enrollment_id)
        while (assignment := assignment_next(enrollment=enrollment, resume=False)) is not None:
            roll = rng.random()
            if roll < 0.10:
                _expire(assignment)
                abandoned.append(assignment)
                with ledger.lock:
                    ledger.abandoned += 1
            elif roll < 0.20:
                assignment_skip(assignment=assignment, distressing=roll < 0.12, seconds=1.0)
                with ledger.lock:
                    ledger.skips += 1
            elif roll < 0.30:
                _double_click(assignment, ledger, rng)
            else:
                value = rng.randint(1, 5)
                ledger.accept(label_submit(assignment=assignment, raw_values={"empathy": value}, seconds=1.0), value)
        for assignment in abandoned[::2]:
            # Coming back to an item whose reservation ran out: stored if a slot is still free, refused otherwise.
            value = rng.randint(1, 5)
            try:
                label = label_submit(assignment=assignment, raw_values={"empathy": value}, seconds=60.0)
            except SubmitError:
                with ledger.lock:
                    ledger.late_refused += 1
            else:
                ledger.accept(label, value)
                with ledger.lock:
                    ledger.late_accepted += 1
    except BaseException as exc:  # noqa: BLE001 - handed to the main thread
        ledger.errors.append(exc)
    finally:
        connection.close()


def _run_annotators(project, annotators: int) -> Ledger:
    enrollment_ids = []
    for index in range(annotators):
        enrollment = flow.enrollment_open(project=project, user=UserFactory(username=f"crowd-{index}"))
        Enrollment.objects.filter(id=enrollment.id).update(stage=Enrollment.Stage.WORK)
        enrollment_ids.append(enrollment.id)
    ledger = Ledger()
    threads = [threading.Thread(target=_annotate, args=(enrollment_id, 1000 + index, ledger))
               for index, enrollment_id in enumerate(enrollment_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an annotator thread hung"
    if ledger.errors:
        raise ledger.errors[0]
    return ledger


@pytest.fixture
def scale():
    """(annotators, items). Threads need PostgreSQL: the SQLite fallback's test database lives in memory, where a
    second thread's write meets "database table is locked" at once instead of waiting its turn."""
    require_postgres("concurrent annotators need a database server")
    return 16, 40


@pytest.fixture
def reclaim_on_every_request(monkeypatch):
    """Reclaim on every call instead of every 15 s, so expiry races the other annotators all the time."""
    monkeypatch.setattr(routing, "RECLAIM_EVERY_SECONDS", 0.0)


def test_many_annotators_at_once_never_overfill_lose_or_duplicate_labels(scale, reclaim_on_every_request):
    annotators, items = scale
    project = ProjectFactory(slug="busy", overlap=3)
    ItemFactory.create_batch(items, project=project)

    ledger = _run_annotators(project, annotators)
    routing.reservations_reclaim(project_id=project.id, force=True)

    # The scenario really happened: every kind of turn occurred.
    assert ledger.double_submits and ledger.skips and ledger.abandoned and ledger.late_accepted + ledger.late_refused

    # Labels stored == submissions accepted, each with a value one of its clicks sent.
    stored = {label.id: label for label in Label.objects.filter(project=project)}
    assert set(stored) == set(ledger.accepted)
    assert all(stored[label_id].values["empathy"] in sent for label_id, sent in ledger.accepted.items())

    # No duplicates; every label belongs to its own submitted assignment.
    pairs = Counter(Label.objects.filter(project=project).values_list("item_id", "annotator_id"))
    assert max(pairs.values()) == 1
    for label in stored.values():
        assignment = Assignment.objects.get(id=label.assignment_id)
        assert (assignment.status, assignment.item_id, assignment.annotator_id) == (
            Assignment.Status.SUBMITTED, label.item_id, label.annotator_id)
    assert Assignment.objects.filter(project=project, status=Assignment.Status.SUBMITTED).count() == len(stored)

    # No item over overlap, and the slot counters agree with what is in the tables.
    labels_per_item = Counter(label.item_id for label in stored.values())
    live_per_item = dict(Assignment.objects.filter(project=project, status=Assignment.Status.RESERVED)
                         .values_list("item_id").annotate(n=Count("id")))
    for item in Item.objects.filter(project=project):
        labels = labels_per_item.get(item.id, 0)
        assert labels <= item.needed, f"item {item.external_id} has {labels} labels for {item.needed} needed"
        assert item.labels_count == labels
        assert item.taken == labels + live_per_item.get(item.id, 0), f"item {item.external_id} slot count drifted"
        assert item.is_full == (item.taken >= item.needed)

    # Each annotator's counters match their stored labels.
    per_annotator = Counter(label.annotator_id for label in stored.values())
    for enrollment in Enrollment.objects.filter(project=project):
        assert enrollment.labels_done == per_annotator.get(enrollment.annotator_id, 0)


def test_when_everyone_has_finished_every_item_is_complete(scale):
    """Annotators who only submit fill the pool exactly: overlap labels on every item, no slot left dangling."""
    annotators, items = scale
    project = ProjectFactory(slug="fills", overlap=3)
    ItemFactory.create_batch(items, project=project)

    def submit_all(enrollment_id: int, ledger: Ledger) -> None:
        try:
            enrollment = Enrollment.objects.select_related("project").get(id=enrollment_id)
            while (assignment := assignment_next(enrollment=enrollment)) is not None:
                ledger.accept(label_submit(assignment=assignment, raw_values={"empathy": 3}, seconds=1.0), 3)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            ledger.errors.append(exc)
        finally:
            connection.close()

    ledger = Ledger()
    enrollment_ids = []
    for index in range(annotators):
        enrollment = flow.enrollment_open(project=project, user=UserFactory(username=f"filler-{index}"))
        Enrollment.objects.filter(id=enrollment.id).update(stage=Enrollment.Stage.WORK)
        enrollment_ids.append(enrollment.id)
    threads = [threading.Thread(target=submit_all, args=(enrollment_id, ledger)) for enrollment_id in enrollment_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if ledger.errors:
        raise ledger.errors[0]

    assert Label.objects.filter(project=project).count() == len(ledger.accepted) == items * 3
    assert set(Item.objects.filter(project=project).values_list("labels_count", "taken", "is_full")) == {(3, 3, True)}
