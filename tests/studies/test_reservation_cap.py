"""A participant holds at most ``pairs_reserved_at_once`` pairs: a script opening many links cannot reserve every
pair, a participant gets their next pairs only as they finish the ones they hold, and the cap holds when one
participant's requests race (PostgreSQL)."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studies import services
from studies.models import Assignment, Pair, Participant
from studies.selectors import participant_get_by_token
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.studies.conftest import answer
from tests.threads import at_once
from webapp.data.statements import statements_join


def _held(participant) -> int:
    return Assignment.objects.filter(participant=participant, status="reserved", pair__isnull=False).count()


def _taken() -> int:
    return sum(Pair.objects.values_list("taken", flat=True))


def _open_link_and_start(slug: str, pid: str) -> str:
    """What a script does with one recruitment link: open it in a fresh browser and press start."""
    browser = Client()
    opened = browser.get(reverse("studies:join", args=[slug]), {"PROLIFIC_PID": pid, "STUDY_ID": "s", "SESSION_ID": pid})
    assert opened.status_code == 302, opened.content
    token = opened["Location"].rstrip("/").split("/")[-1]
    started = browser.post(reverse("studies:participate_start", args=[token]))
    assert started.status_code in (200, 302)
    return token


@pytest.mark.django_db
def test_links_opened_by_a_script_hold_the_cap_each_and_the_other_pairs_stay_reservable(make_study):
    # 10 pairs of one judgment each; a plan wants 5, the default cap lets a participant hold 3
    study = make_study(slug="scripted", n_prompts=10, pairs_per_participant=5, judgments_per_pair=1)
    assert study.spec["pairs_reserved_at_once"] == 3
    tokens = [_open_link_and_start(study.slug, f"bot-{i}") for i in range(2)]
    for token in tokens:
        participant = Participant.objects.get(token=token)
        assert participant.stage == "work" and participant.total == 5
        assert _held(participant) == 3
    assert _taken() == 2 * 3  # never more than cap x participants
    newcomer_token = _open_link_and_start(study.slug, "person")
    newcomer = Participant.objects.get(token=newcomer_token)
    assert _held(newcomer) == 3  # the pairs the script did not get went to a person
    assert Pair.objects.filter(taken=0).count() == 1


@pytest.mark.django_db
def test_a_participant_gets_the_next_pairs_only_after_finishing_those_held_and_judges_the_whole_plan(make_study):
    study = make_study(slug="capped", n_prompts=6, pairs_per_participant=5, judgments_per_pair=2,
                       pairs_reserved_at_once=2)
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    participant = services.participant_start(participant=participant)
    held, prompts = [], []
    while participant.stage == "work":
        held.append(_held(participant))
        slot = services.slot_for_display(participant=participant)
        prompts.append(slot.pair.prompt_id)
        services.judgment_submit(participant=participant, token=slot.token, answers=answer(study.spec["criteria"]))
        participant.refresh_from_db()
    assert participant.stage == "done"
    assert held == [2, 1, 2, 1, 1]  # the third pair came only after the first two were judged
    assert len(set(prompts)) == 5  # still never the same prompt twice
    assert _taken() == 5 and _held(participant) == 0


@pytest.mark.django_db
def test_a_slot_the_study_can_no_longer_supply_is_dropped_when_reached(make_study):
    study = make_study(slug="drained", n_prompts=3, pairs_per_participant=3, judgments_per_pair=1,
                       pairs_reserved_at_once=1)
    first = services.participant_start(
        participant=services.participant_enroll(study=study, user=UserFactory(role="participant")))
    second = services.participant_start(
        participant=services.participant_enroll(study=study, user=UserFactory(role="participant")))
    third = services.participant_start(
        participant=services.participant_enroll(study=study, user=UserFactory(role="participant")))
    assert [_held(p) for p in (first, second, third)] == [1, 1, 1] and _taken() == 3
    slot = services.slot_for_display(participant=first)
    services.judgment_submit(participant=first, token=slot.token, answers=answer(study.spec["criteria"]))
    first.refresh_from_db()
    assert first.stage == "done" and first.total == 1  # the other two pairs are the others' to judge


def test_a_cap_below_one_is_refused_naming_the_key():
    from studies.spec import SpecError
    from tests.studies.conftest import study_spec

    with pytest.raises(SpecError, match="^pairs_reserved_at_once: must be at least 1"):
        study_spec(pairs_reserved_at_once=0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_racing_requests_of_one_participant_and_of_a_crowd_never_hold_past_the_cap(make_study):
    require_postgres("racing refills need row locks (SQLite serialises writers)")
    study = make_study(slug="racing", n_prompts=12, n_systems=2, pairs_per_participant=8, judgments_per_pair=1,
                       pairs_reserved_at_once=2)
    tokens = [services.participant_enroll(study=study, user=UserFactory(username=f"crowd-{i}", role="participant"))
              .token for i in range(4)]
    assert not at_once(lambda i: services.participant_start(participant=participant_get_by_token(
        token=tokens[i])), 4)
    assert _taken() == 4 * 2
    # the first participant judges one pair, goes away until their reservation lapses, then comes back with eight
    # requests at once (tabs, retries): each finds their slot without a pair and reserves
    participant = participant_get_by_token(token=tokens[0])
    slot = services.slot_for_display(participant=participant)
    services.judgment_submit(participant=participant, token=slot.token, answers=answer(study.spec["criteria"]))
    Participant.objects.filter(pk=participant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with transaction.atomic():
        assert services.reservations_release_expired(study=study, now=timezone.now()) == 1
    assert _held(participant) == 0
    assert not at_once(lambda i: services.slot_for_display(participant=participant_get_by_token(
        token=tokens[0])), 8)
    assert _held(participant) == 2
    participant.refresh_from_db()
    assert participant.total == 8
    done = Assignment.objects.filter(status="done", pair__isnull=False).count()
    reserved = Assignment.objects.filter(status="reserved", pair__isnull=False).count()
    assert _taken() == done + reserved == 1 + 4 * 2  # no pair taken without a slot holding it


@pytest.mark.django_db
def test_the_turn_that_reaches_a_slot_left_for_later_reserves_the_next_pairs_in_one_statement_under_the_lock(make_study):
    from django.test.utils import CaptureQueriesContext

    study = make_study(slug="batched", n_prompts=8, pairs_per_participant=8, judgments_per_pair=1)
    participant = services.participant_start(
        participant=services.participant_enroll(study=study, user=UserFactory(role="participant")))
    participant_get_by_token(token=participant.token)  # a process decodes each spec once
    for _ in range(3):
        fresh = participant_get_by_token(token=participant.token)
        slot = services.slot_for_display(participant=fresh)
        with CaptureQueriesContext(connection) as captured:
            outcome = services.judgment_submit(participant=fresh, token=slot.token,
                                               answers=answer(study.spec["criteria"]))
    assert outcome.next_slot.pair is not None and outcome.next_slot.pair.response_a.text and _held(participant) == 3
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    # the turn's slots (read here) and its store, then the participant's lock and the fill: the three pairs picked,
    # taken and given to their slots, the participant's expiry moved, the slot shown read back, one statement on
    # PostgreSQL; on SQLite the store's and the fill's parts one after another
    criteria, cap = len(study.spec["criteria"]), 3
    fill_parts = 1 + 2 * cap + 4 + 1  # targets, a planned and a fallback pick per slot, picked/claim/filled/moved, result
    expected = 4 if statements_join() else 1 + (1 + criteria + 2) + 1 + fill_parts
    assert len(statements) == expected, "\n".join(s[:120] for s in statements)


@pytest.mark.django_db
def test_a_stale_submit_while_the_slot_on_screen_holds_no_pair_shows_it_with_a_pair(make_study):
    study = make_study(slug="stale", n_prompts=6, pairs_per_participant=4, judgments_per_pair=1,
                       pairs_reserved_at_once=1)
    participant = services.participant_start(
        participant=services.participant_enroll(study=study, user=UserFactory(role="participant")))
    slot = services.slot_for_display(participant=participant)
    first = services.judgment_submit(participant=participant_get_by_token(token=participant.token), token=slot.token,
                                     answers=answer(study.spec["criteria"]))
    Participant.objects.filter(pk=participant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with transaction.atomic():
        services.reservations_release_expired(study=study, now=timezone.now())
    # the same form sent again (a double click that arrives late, a retry): nothing stored, the slot on screen comes
    # back with the pair reserved for it
    again = services.judgment_submit(participant=participant_get_by_token(token=participant.token), token=slot.token,
                                     answers=answer(study.spec["criteria"]))
    assert not again.stored and again.next_slot.position == first.next_slot.position == 1
    assert again.next_slot.pair is not None and again.next_slot.pair.response_a.text
    assert _held(participant) == 1
