"""The refill (``reservation.slots_refill``): the pairs for the slots a participant reaches are picked, taken and
given to the slots in one statement under the participant's lock, keeping every rule the pair-by-pair reservation
kept: the planned system pair and side where it has room, else any pair on the side that keeps the balance, no
prompt twice (unless the spec repeats prompts), no pair past its quota, locked pairs passed over and waited for
between batches, a slot the study cannot supply dropped."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from studies import design, services
from studies.models import Assignment, Pair, Participant
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.studies.conftest import answer
from tests.threads import row_held


def _started(study, name="refilled") -> Participant:
    return services.participant_start(
        participant=services.participant_enroll(study=study, user=UserFactory(username=name, role="participant")))


def _lapse(study, participant) -> None:
    """The participant goes away until their reservations lapse: every slot they held is released."""
    Participant.objects.filter(pk=participant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with transaction.atomic():
        services.reservations_release_expired(study=study, now=timezone.now())


def _held(participant) -> list[Assignment]:
    return list(Assignment.objects.filter(participant=participant, status="reserved", pair__isnull=False)
                .select_related("pair").order_by("position"))


def _taken_matches_the_slots() -> None:
    for pair in Pair.objects.all():
        holding = Assignment.objects.filter(pair=pair, status__in=["reserved", "done"]).count()
        assert pair.taken == holding, pair


@pytest.mark.django_db
def test_a_refill_past_what_one_statement_picks_fills_up_to_the_cap(make_study):
    study = make_study(slug="wide", n_prompts=20, pairs_per_participant=16, judgments_per_pair=1,
                       pairs_reserved_at_once=9)
    participant = _started(study)
    assert len(_held(participant)) == 9
    _lapse(study, participant)
    assert not _held(participant)
    slot = services.slot_for_display(participant=Participant.objects.get(pk=participant.pk))
    held = _held(participant)
    assert slot.position == 0 and slot.pair is not None and slot.pair.response_a.text
    assert [s.position for s in held] == list(range(9))
    assert len({s.pair.prompt_id for s in Assignment.objects.filter(participant=participant, pair__isnull=False)
                .select_related("pair")}) == 9  # never a prompt twice
    _taken_matches_the_slots()


@pytest.mark.django_db
def test_a_slot_whose_planned_system_pair_ran_out_takes_another_on_the_side_that_keeps_the_balance(make_study):
    study = make_study(slug="fallback", n_prompts=8, n_systems=3, pairs_per_participant=6, judgments_per_pair=1,
                       pairs_reserved_at_once=1)
    participant = _started(study)
    slot = services.slot_for_display(participant=participant)
    services.judgment_submit(participant=Participant.objects.get(pk=participant.pk), token=slot.token,
                             answers=answer(study.spec["criteria"]))
    _lapse(study, participant)  # nothing held now, so the refill takes the next slot at once
    planned = {a.pk: (a.system_a_id, a.system_b_id, a.left)
               for a in Assignment.objects.filter(participant=participant, status="released").order_by("position")}
    nxt = next(iter(planned.values()))
    Pair.objects.filter(study=study, system_a_id=nxt[0], system_b_id=nxt[1]).update(taken=1)  # all judged
    shown = Assignment.objects.filter(participant=participant, pair__isnull=False).get()
    balance: dict[int, int] = {}
    design_count(balance, shown.system_a_id, shown.system_b_id, shown.left)
    slot = services.slot_for_display(participant=Participant.objects.get(pk=participant.pk))
    assert slot is not None and (slot.system_a_id, slot.system_b_id) != nxt[:2]
    assert slot.left == design.side_for_fallback(system_a=slot.system_a_id, system_b=slot.system_b_id,
                                                 balance=balance)
    stored = Assignment.objects.get(pk=slot.pk)
    assert (stored.pair.system_a_id, stored.pair.system_b_id, stored.left) == (
        slot.system_a_id, slot.system_b_id, slot.left)


def design_count(balance: dict[int, int], system_a: int, system_b: int, left: str) -> None:
    shown_left, shown_right = (system_a, system_b) if left == "a" else (system_b, system_a)
    balance[shown_left] = balance.get(shown_left, 0) + 1
    balance[shown_right] = balance.get(shown_right, 0) - 1


@pytest.mark.django_db
def test_sides_of_several_fallbacks_in_one_refill_follow_the_balance_as_it_moves(make_study):
    study = make_study(slug="fallbacks", n_prompts=10, n_systems=3, pairs_per_participant=9, judgments_per_pair=1,
                       pairs_reserved_at_once=4)
    participant = _started(study)
    _lapse(study, participant)
    planned = [(a.system_a_id, a.system_b_id, a.left) for a in
               Assignment.objects.filter(participant=participant, status="released").order_by("position")[:4]]
    # the system pair planned most often among the next four slots keeps one pair if planned twice, else none
    ran_out = Counter((a, b) for a, b, _ in planned).most_common(1)[0]
    wanted = Pair.objects.filter(study=study, system_a_id=ran_out[0][0], system_b_id=ran_out[0][1])
    wanted.exclude(pk__in=wanted.order_by("id")[:1 if ran_out[1] > 1 else 0]).update(taken=1)
    services.slot_for_display(participant=Participant.objects.get(pk=participant.pk))
    held = _held(participant)
    assert len(held) == 4
    balance: dict[int, int] = {}
    fallbacks = 0
    for slot, (system_a, system_b, left) in zip(held, planned, strict=True):
        if (slot.pair.system_a_id, slot.pair.system_b_id) == (system_a, system_b):
            assert slot.left == left  # the planned side where the planned system pair had room
        else:
            fallbacks += 1
            assert slot.left == design.side_for_fallback(system_a=slot.pair.system_a_id,
                                                         system_b=slot.pair.system_b_id, balance=balance)
        design_count(balance, slot.pair.system_a_id, slot.pair.system_b_id, slot.left)
    assert fallbacks >= 1
    assert len({slot.pair.prompt_id for slot in held}) == 4
    assert all(Pair.objects.get(pk=slot.pair_id).taken == 1 for slot in held)


@pytest.mark.django_db
def test_test_retest_may_take_one_pair_for_several_slots_of_a_refill_but_never_past_its_quota(make_study):
    # one prompt, two systems: one pair, four judgments; the spec repeats prompts, the plan has five comparisons
    study = make_study(slug="retest", n_prompts=1, pairs_per_participant=5, judgments_per_pair=4,
                       repeat_prompts=True, pairs_reserved_at_once=2)
    participant = _started(study)
    pair = Pair.objects.get()
    for _ in range(2):
        slot = services.slot_for_display(participant=participant)
        services.judgment_submit(participant=participant, token=slot.token, answers=answer(study.spec["criteria"]))
        participant.refresh_from_db()
    assert [a.pair_id for a in _held(participant)] == [pair.pk, pair.pk]  # one refill took it twice
    assert Pair.objects.get().taken == 4
    for _ in range(2):
        slot = services.slot_for_display(participant=participant)
        services.judgment_submit(participant=participant, token=slot.token, answers=answer(study.spec["criteria"]))
        participant.refresh_from_db()
    # the fifth comparison could no longer be supplied: dropped, and the participant is done
    assert (participant.stage, participant.total) == (Participant.Stage.DONE, 4)
    assert Pair.objects.get().taken == 4
    _taken_matches_the_slots()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_refill_whose_every_candidate_is_locked_waits_for_one_outside_the_participants_lock(make_study):
    require_postgres("row locks")
    study = make_study(slug="locked", n_prompts=4, pairs_per_participant=3, judgments_per_pair=1,
                       pairs_reserved_at_once=1)
    participant = _started(study)
    slot = services.slot_for_display(participant=participant)
    services.judgment_submit(participant=Participant.objects.get(pk=participant.pk), token=slot.token,
                             answers=answer(study.spec["criteria"]))
    _lapse(study, participant)
    Pair.objects.filter(study=study, taken=0).exclude(pk__in=Pair.objects.filter(study=study, taken=0)
                                                     .order_by("id")[:1]).update(taken=1)
    free = Pair.objects.get(study=study, taken=0)
    with row_held(Pair.objects.filter(pk=free.pk), for_seconds=0.2):  # as another reservation holds it
        shown = services.slot_for_display(participant=Participant.objects.get(pk=participant.pk))
    assert shown is not None and shown.pair is not None and shown.pair.pk == free.pk
    assert [a.pair_id for a in _held(participant)] == [free.pk]
    assert Pair.objects.get(pk=free.pk).taken == 1
