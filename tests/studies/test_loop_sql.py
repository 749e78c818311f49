"""The judging loop's plain SQL (studies.services.loop_sql) against the ORM path it stands in for."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studies import services
from studies.models import Assignment, Judgment, Participant
from studies.selectors import participant_get_by_token, slot_blind
from studies.services.loop_sql import slots_fetch
from studies.services.participation import _judgment_store, _judgment_store_common
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CRITERIA = [{"name": "overall", "question": "?", "strength": ["a bit", "a lot"], "rationale": "optional"},
            {"name": "reception", "question": "?"}]
ANSWERS = {"overall": {"side": "right", "strength": 2, "rationale": "kinder"}, "reception": {"side": "tie"}}
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement write is PostgreSQL's")


def _started(study, name):
    participant = services.participant_enroll(study=study, user=UserFactory(username=name, role="participant"))
    services.participant_start(participant=participant)
    return participant_get_by_token(token=participant.token)


def test_slots_fetch_shows_what_the_orm_would(make_study):
    study = make_study(pairs_per_participant=3, criteria=CRITERIA)
    participant = _started(study, "reader")
    fetched = slots_fetch(participant_id=participant.pk, positions=(0, 1, 2, 7))
    assert sorted(fetched) == [0, 1, 2]
    for position, slot in fetched.items():
        orm = Assignment.objects.select_related("pair__prompt", "pair__response_a", "pair__response_b").get(
            participant=participant, position=position)
        assert slot_blind(slot=slot, total=3) == slot_blind(slot=orm, total=3)
        assert (slot.pk, slot.token, slot.status, slot.left, slot.pair.prompt_id) == \
            (orm.pk, orm.token, orm.status, orm.left, orm.pair.prompt_id)


@postgres_only
def test_one_statement_write_stores_what_the_orm_path_stores(make_study):
    study = make_study(pairs_per_participant=3, judgments_per_pair=2, criteria=CRITERIA)
    fast, slow = _started(study, "fast"), _started(study, "slow")
    now = timezone.now()
    clean = services.answers_validate(criteria=study.spec["criteria"], answers=ANSWERS)
    for participant in (fast, slow):
        participant.last_seen_at = now - timedelta(seconds=12)
        Participant.objects.filter(pk=participant.pk).update(last_seen_at=participant.last_seen_at)
    fast_slots = slots_fetch(participant_id=fast.pk, positions=(0, 1))
    slow_slots = slots_fetch(participant_id=slow.pk, positions=(0, 1))
    with CaptureQueriesContext(connection) as captured:
        fast_outcome = _judgment_store_common(participant=fast, current=fast_slots[0], following=fast_slots[1],
                                              clean=clean, now=now)
    assert len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]) == 1
    with transaction.atomic():
        slow_outcome = _judgment_store(participant=slow, current=slow_slots[0], following=slow_slots[1],
                                       clean=clean, now=now)
    assert fast_outcome.stored and slow_outcome.stored
    assert fast_outcome.next_slot.token == fast_slots[1].token

    def judgments(participant):
        rows = Judgment.objects.filter(participant=participant).order_by("criterion").values(
            "criterion", "choice", "left", "strength", "rationale", "seconds", "created_at", "source", "study_id",
            "assignment__position")
        # the sides differ per participant, so what was chosen is compared by the side it was shown on
        return [{**row, "choice": "tie" if row["choice"] == "tie" else "left" if row["choice"] == row["left"]
                 else "right", "left": None, "created_at": None, "stamped": row["created_at"]} for row in rows]

    fast_rows, slow_rows = judgments(fast), judgments(slow)
    assert [row["choice"] for row in fast_rows] == ["right", "tie"]
    for fast_row, slow_row in zip(fast_rows, slow_rows, strict=True):  # the ORM stamps created_at at its insert
        assert abs(fast_row.pop("stamped") - slow_row.pop("stamped")) < timedelta(seconds=5)
    assert fast_rows == slow_rows and len(fast_rows) == 2
    assert fast_rows[0]["seconds"] == pytest.approx(12.0)

    def state(participant):
        row = Participant.objects.values("position", "stage", "last_seen_at", "expires_at").get(pk=participant.pk)
        slot = Assignment.objects.values("status", "answered_at", "seconds").get(participant=participant, position=0)
        return row, slot

    assert state(fast) == state(slow)
    assert (fast.position, fast.last_seen_at) == (1, now)


@postgres_only
def test_one_statement_write_of_an_already_answered_slot_writes_nothing(make_study):
    study = make_study(pairs_per_participant=3, criteria=CRITERIA)
    participant = _started(study, "twice")
    slots = slots_fetch(participant_id=participant.pk, positions=(0, 1))
    clean = services.answers_validate(criteria=study.spec["criteria"], answers=ANSWERS)
    now = timezone.now()
    assert _judgment_store_common(participant=participant, current=slots[0], following=slots[1], clean=clean,
                                  now=now).stored
    stale = Participant.objects.get(pk=participant.pk)
    stale.position = 0  # a second tab still showing the first pair
    again = _judgment_store_common(participant=stale, current=slots[0], following=slots[1], clean=clean, now=now)
    assert not again.stored
    assert Judgment.objects.filter(participant=participant).count() == 2
    assert Participant.objects.get(pk=participant.pk).position == 1


@postgres_only
def test_a_usual_judgment_through_the_service_takes_three_statements(make_study):
    study = make_study(pairs_per_participant=3, criteria=CRITERIA)
    participant = _started(study, "counted")
    token = slots_fetch(participant_id=participant.pk, positions=(0,))[0].token
    with CaptureQueriesContext(connection) as captured:
        fresh = participant_get_by_token(token=participant.token)
        outcome = services.judgment_submit(participant=fresh, token=token, answers=ANSWERS)
    assert outcome.stored and outcome.next_slot.position == 1
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 3, statements  # the participant, its two slots, the write
