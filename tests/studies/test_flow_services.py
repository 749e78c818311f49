"""The participant flow through the services: enrol, reserve, judge, double submit, attention checks, expiry."""

from datetime import timedelta

import pytest
from django.utils import timezone

from studies import services
from studies.models import Assignment, Judgment, Pair, Participant
from tests.factories import UserFactory
from tests.studies.conftest import answer, run_participant

pytestmark = pytest.mark.django_db


def test_participant_judges_every_planned_pair_and_completes(make_study):
    study = make_study(pairs_per_participant=3)
    participant = run_participant(study, UserFactory(role="participant"))
    assert participant.stage == Participant.Stage.DONE
    judgments = Judgment.objects.filter(participant=participant)
    assert judgments.count() == 3
    # "left" chosen every time: the stored choice is whichever side was on the left
    assert all(j.choice == j.left for j in judgments)
    assert len({j.prompt_id for j in judgments}) == 3


def test_second_submit_of_the_same_slot_stores_one_judgment(make_study):
    study = make_study()
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    services.participant_start(participant=participant)
    participant.refresh_from_db()
    slot = services.slot_for_display(participant=participant)
    first = services.judgment_submit(participant=participant, token=slot.token, answers=answer(study.spec["criteria"]))
    stale = Participant.objects.get(pk=participant.pk)
    again = services.judgment_submit(participant=stale, token=slot.token, answers=answer(study.spec["criteria"]))
    assert first.stored and not again.stored
    assert Judgment.objects.filter(participant=participant).count() == 1
    assert again.next_slot.token == first.next_slot.token


def test_invalid_answers_name_the_criterion_and_store_nothing(make_study):
    study = make_study(criteria=[{"name": "overall", "question": "Which?", "ties": False, "rationale": "required"}])
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    services.participant_start(participant=participant)
    participant.refresh_from_db()
    slot = services.slot_for_display(participant=participant)
    with pytest.raises(services.JudgmentInvalid) as info:
        services.judgment_submit(participant=participant, token=slot.token,
                                 answers={"overall": {"side": "tie", "rationale": "x"}})
    assert "overall" in info.value.errors
    with pytest.raises(services.JudgmentInvalid):
        services.judgment_submit(participant=participant, token=slot.token, answers={"overall": {"side": "left"}})
    assert not Judgment.objects.exists()
    assert Assignment.objects.get(token=slot.token).status == "reserved"


def test_no_pair_is_reserved_beyond_its_quota_and_the_study_fills_exactly(make_study):
    study = make_study(n_prompts=4, n_systems=3, pairs_per_participant=4, judgments_per_pair=2)
    # capacity = 4 prompts x 3 system pairs x 2 = 24 comparisons = 6 participants of 4
    for _ in range(6):
        run_participant(study, UserFactory(role="participant"))
    assert set(Pair.objects.filter(study=study).values_list("taken", flat=True)) == {2}
    late = UserFactory(role="participant")
    with pytest.raises(services.StudyFull):
        run_participant(study, late)
    # a start that found nothing leaves the participant where they were, holding nothing
    stuck = Participant.objects.get(study=study, user=late)
    assert stuck.stage == Participant.Stage.INSTRUCTIONS and not stuck.assignments.exists()


def test_a_second_start_of_the_same_participant_reserves_nothing_more(make_study):
    study = make_study(pairs_per_participant=3)
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    services.participant_start(participant=participant)
    stale = Participant.objects.get(pk=participant.pk)
    stale.stage = Participant.Stage.INSTRUCTIONS  # as a second tab that still shows the instructions
    services.participant_start(participant=stale)
    assert sum(Pair.objects.filter(study=study).values_list("taken", flat=True)) == 3
    assert Assignment.objects.filter(participant=participant).count() == 3


def test_attention_checks_warn_then_end_and_are_recorded(make_study):
    study = make_study(
        n_prompts=6, pairs_per_participant=6,
        attention_checks={"every": 2, "warn_after": 1, "end_after": 2,
                          "items": [{"id": "ac", "context": [{"speaker": "seeker", "text": "help"}],
                                     "good": "I hear you.", "bad": "Bananas are yellow."}]},
    )
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    services.participant_start(participant=participant)
    participant.refresh_from_db()
    outcomes = []
    while participant.stage == "work":
        slot = services.slot_for_display(participant=participant)
        # always choose the bad reply on checks, the left reply otherwise
        if slot.attention_check_id:
            side = "right" if slot.left == "a" else "left"
        else:
            side = "left"
        outcomes.append(services.judgment_submit(participant=participant, token=slot.token,
                                                 answers=answer(study.spec["criteria"], side)))
        participant.refresh_from_db()
    assert participant.stage == Participant.Stage.ENDED
    assert participant.attention_failures == 2
    assert [o.warned for o in outcomes].count(True) == 1
    assert Assignment.objects.filter(participant=participant, attention_passed=False).count() == 2
    # the pairs this participant no longer needs went back to the pool
    assert sum(Pair.objects.filter(study=study).values_list("taken", flat=True)) == 4
    assert Judgment.objects.filter(participant=participant).count() == 4


def test_abandoned_reservations_return_to_the_pool_and_a_returning_participant_gets_new_ones(make_study):
    study = make_study(n_prompts=3, pairs_per_participant=3, judgments_per_pair=1)
    quitter = run_participant(study, UserFactory(role="participant"), stop_after=1)
    assert sum(Pair.objects.values_list("taken", flat=True)) == 3
    later = timezone.now() + timedelta(minutes=study.spec["reservation_minutes"] + 1)
    Participant.objects.filter(pk=quitter.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    newcomer = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    services.participant_start(participant=newcomer, now=later)
    newcomer.refresh_from_db()
    assert newcomer.total == 2  # the two pairs the quitter left
    quitter.refresh_from_db()
    assert services.slot_for_display(participant=quitter) is None  # nothing left for them
    quitter.refresh_from_db()
    assert quitter.stage == Participant.Stage.DONE
    assert sum(Pair.objects.values_list("taken", flat=True)) == 3


def test_quota_of_participants_is_enforced(make_study):
    study = make_study(recruitment={"quota": 1})
    run_participant(study, UserFactory(role="participant"))
    with pytest.raises(services.StudyFull):
        services.participant_enroll(study=study, user=UserFactory(role="participant"))


def test_enrolling_twice_resumes_the_same_participant(make_study):
    study = make_study()
    user = UserFactory(role="participant")
    first = services.participant_enroll(study=study, user=user)
    assert services.participant_enroll(study=study, user=user).pk == first.pk


def test_judgment_loop_runs_in_at_most_three_queries_on_postgresql(make_study):
    """The usual turn: the next pair is already reserved (a turn that reaches a slot left for later reserves the
    next pairs too: ``test_reservation_cap``)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from studies.selectors import participant_get_by_token
    from webapp.data.statements import statements_join

    study = make_study(n_prompts=6, pairs_per_participant=5, judgments_per_pair=1, pairs_reserved_at_once=5,
                       criteria=[{"name": "overall", "question": "?"}, {"name": "reception", "question": "?"}])
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    services.participant_start(participant=participant)
    participant.refresh_from_db()
    slot = services.slot_for_display(participant=participant)
    participant_get_by_token(token=participant.token)  # a process decodes each spec once; later loops reuse it
    for _ in range(4):
        with CaptureQueriesContext(connection) as captured:
            fresh = participant_get_by_token(token=participant.token)
            outcome = services.judgment_submit(participant=fresh, token=slot.token,
                                               answers=answer(study.spec["criteria"]))
            slot = outcome.next_slot
            shown = (slot.pair.response_a.text, slot.pair.response_b.text, slot.pair.prompt.context)
        assert all(shown)  # everything the page shows came with the same queries
        statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        # the participant, its slots, the store (one statement on PostgreSQL; on SQLite the claim, a judgment per
        # criterion, the move and the result in turn)
        assert len(statements) <= (3 if statements_join() else 2 + 1 + 2 + 2), statements
    assert Judgment.objects.count() == 8


def test_a_start_when_every_pair_is_taken_says_so_at_once_without_waiting(make_study, monkeypatch):
    study = make_study(slug="taken", n_prompts=2, pairs_per_participant=2, judgments_per_pair=1)
    monkeypatch.setattr("time.sleep", lambda seconds: pytest.fail(f"slept {seconds} s"))
    first = services.participant_enroll(study=study, user=UserFactory(username="first", role="participant"))
    first.stage = "instructions"
    first.save(update_fields=["stage"])
    services.participant_start(participant=first)
    late = services.participant_enroll(study=study, user=UserFactory(username="late", role="participant"))
    late.stage = "instructions"
    late.save(update_fields=["stage"])
    with pytest.raises(services.StudyFull):
        services.participant_start(participant=late)
    assert Participant.objects.get(pk=late.pk).stage == "instructions"  # free to try again later
