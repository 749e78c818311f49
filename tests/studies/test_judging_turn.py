"""The judgment turn (studies.services.judging): the rows it reads and writes, and its statements, on PostgreSQL
and SQLite alike."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studies import services
from studies.models import Assignment, Judgment, Participant
from studies.selectors import participant_get_by_token, slot_blind
from studies.services.judging import _judgment_store, judgment_context_fetch, slots_fetch
from tests.factories import UserFactory
from webapp.data.statements import statements_join

pytestmark = pytest.mark.django_db

CRITERIA = [{"name": "overall", "question": "?", "strength": ["a bit", "a lot"], "rationale": "optional"},
            {"name": "reception", "question": "?"}]
ANSWERS = {"overall": {"side": "right", "strength": 2, "rationale": "kinder"}, "reception": {"side": "tie"}}


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


def _judgments(participant):
    rows = Judgment.objects.filter(participant=participant).order_by("criterion").values(
        "criterion", "choice", "left", "strength", "rationale", "seconds", "created_at", "source", "study_id",
        "assignment__position", "pair_id", "prompt_id", "system_a_id", "system_b_id")
    # what was chosen, by the side it was shown on
    return [{**row, "shown": "tie" if row["choice"] == "tie" else "left" if row["choice"] == row["left"] else "right"}
            for row in rows]


def test_a_judgment_stores_one_row_per_criterion_as_the_slot_showed_it(make_study):
    study = make_study(pairs_per_participant=3, judgments_per_pair=2, criteria=CRITERIA)
    participant = _started(study, "judge")
    now = timezone.now()
    participant.last_seen_at = now - timedelta(seconds=12)
    Participant.objects.filter(pk=participant.pk).update(last_seen_at=participant.last_seen_at)
    clean = services.answers_validate(criteria=study.spec["criteria"], answers=ANSWERS)
    slots = slots_fetch(participant_id=participant.pk, positions=(0, 1))
    with transaction.atomic():
        outcome = _judgment_store(participant=participant, current=slots[0], following=slots[1], clean=clean,
                                  now=now)
    assert outcome.stored and outcome.next_slot.token == slots[1].token
    orm = Assignment.objects.select_related("pair").get(pk=slots[0].pk)
    rows = _judgments(participant)
    assert [(row["criterion"], row["shown"], row["strength"], row["rationale"]) for row in rows] == [
        ("overall", "right", 2, "kinder"), ("reception", "tie", None, "")]
    for row in rows:
        assert row["seconds"] == pytest.approx(12.0) and row["created_at"] == now and row["source"] == "platform"
        assert (row["study_id"], row["assignment__position"], row["left"]) == (study.pk, 0, orm.left)
        assert (row["pair_id"], row["prompt_id"], row["system_a_id"], row["system_b_id"]) == (
            orm.pair_id, orm.pair.prompt_id, orm.system_a_id, orm.system_b_id)
    stored = Participant.objects.values("position", "stage", "last_seen_at", "expires_at").get(pk=participant.pk)
    assert stored == {"position": 1, "stage": "work", "last_seen_at": now,
                      "expires_at": now + timedelta(minutes=study.spec["reservation_minutes"])}
    assert Assignment.objects.values("status", "answered_at", "seconds").get(pk=slots[0].pk) == {
        "status": "done", "answered_at": now, "seconds": pytest.approx(12.0)}
    assert (participant.position, participant.last_seen_at) == (1, now)


def test_the_context_read_is_the_participant_and_slots_the_orm_reads(make_study):
    study = make_study(pairs_per_participant=3, criteria=CRITERIA)
    participant = _started(study, "context")
    fetched, slots = judgment_context_fetch(token=participant.token)
    stored = participant_get_by_token(token=participant.token)
    for field in Participant._meta.concrete_fields:
        assert getattr(fetched, field.attname) == getattr(stored, field.attname)
    assert fetched.study.spec == stored.study.spec and fetched.study.slug == study.slug
    assert sorted(slots) == [0, 1]
    assert {position: slot.token for position, slot in slots.items()} == {
        position: slot.token for position, slot in slots_fetch(participant_id=participant.pk,
                                                                positions=(0, 1)).items()}
    assert judgment_context_fetch(token="no-such-token") == (None, {})


def test_a_second_write_of_an_already_answered_slot_writes_nothing(make_study):
    study = make_study(pairs_per_participant=3, criteria=CRITERIA)
    participant = _started(study, "twice")
    slots = slots_fetch(participant_id=participant.pk, positions=(0, 1))
    clean = services.answers_validate(criteria=study.spec["criteria"], answers=ANSWERS)
    now = timezone.now()
    assert _judgment_store(participant=participant, current=slots[0], following=slots[1], clean=clean,
                           now=now).stored
    stale = Participant.objects.get(pk=participant.pk)
    stale.position = 0  # a second tab still showing the first pair
    again = _judgment_store(participant=stale, current=slots[0], following=slots[1], clean=clean, now=now)
    assert not again.stored
    assert Judgment.objects.filter(participant=participant).count() == 2
    assert Participant.objects.get(pk=participant.pk).position == 1


@pytest.mark.django_db(transaction=True)
def test_a_usual_judgment_through_the_page_takes_two_statements_on_postgresql(client, make_study):
    study = make_study(pairs_per_participant=3, criteria=CRITERIA)
    participant = _started(study, "counted")
    token = slots_fetch(participant_id=participant.pk, positions=(0,))[0].token
    form = {"slot": token, "choice_overall": "2", "strength_overall": "2", "choice_reception": "0"}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/s/p/{participant.token}/judge/", form, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b'name="slot"' in response.content
    assert Judgment.objects.filter(participant=participant).count() == 2
    statements = [q["sql"] for q in captured.captured_queries]
    # the participant with its slots; the store: the claim, a judgment per criterion and the participant moved on,
    # one statement on PostgreSQL that needs no BEGIN and COMMIT (this test runs outside a test transaction, so one
    # would show), on SQLite those parts and the result one after another between BEGIN and COMMIT
    assert len(statements) == (2 if statements_join() else 1 + 2 + (1 + len(CRITERIA) + 2)), "\n".join(
        s[:150] for s in statements)
    stored = Participant.objects.get(pk=participant.pk)
    assert (stored.position, stored.stage) == (1, Participant.Stage.WORK)
    assert Assignment.objects.get(participant=participant, position=0).status == Assignment.Status.DONE
