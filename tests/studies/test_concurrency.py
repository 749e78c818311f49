"""Concurrent participants on PostgreSQL: no lost judgment, no pair over its quota, one judgment per double submit."""


import pytest

from studies import services
from studies.models import Assignment, Judgment, Pair, Participant
from studies.selectors import participant_get_by_token
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.studies.conftest import answer
from tests.threads import at_once

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_concurrent_participants_never_overfill_a_pair_and_lose_no_judgment(make_study):
    require_postgres("concurrent participants need row locks (SQLite serialises writers)")
    study = make_study(slug="busy", n_prompts=6, n_systems=3, pairs_per_participant=4, judgments_per_pair=2)
    # capacity 6 x 3 x 2 = 36 comparisons; 12 participants want 48
    users = [UserFactory(username=f"busy-{i}", role="participant") for i in range(12)]
    tokens = [services.participant_enroll(study=study, user=u).token for u in users]

    def participate(i):
        participant = participant_get_by_token(token=tokens[i])
        try:
            services.participant_start(participant=participant)
        except services.StudyFull:
            return
        while True:
            participant = participant_get_by_token(token=tokens[i])
            if participant.stage != "work":
                return
            slot = services.slot_for_display(participant=participant)
            services.judgment_submit(participant=participant, token=slot.token, answers=answer(study.spec["criteria"]))

    errors = at_once(participate, len(tokens))
    assert not errors, errors
    taken = list(Pair.objects.filter(study=study).values_list("taken", flat=True))
    assert max(taken) <= 2
    done = Assignment.objects.filter(participant__study=study, status="done", pair__isnull=False).count()
    assert done == sum(taken) == Judgment.objects.filter(study=study).count()
    # capacity left unused only where "never the same prompt twice" forbids it: every participant
    # who got a short plan has already seen the prompt of every pair that still has room
    short = [p for p in Participant.objects.filter(study=study) if p.total < 4]
    seen = {p.pk: set(Assignment.objects.filter(participant=p, pair__isnull=False)
                      .values_list("pair__prompt_id", flat=True)) for p in short}
    for pair in Pair.objects.filter(study=study, taken__lt=2):
        assert all(pair.prompt_id in seen[p.pk] for p in short), pair
    assert done >= 30


def test_simultaneous_double_submit_stores_one_judgment(make_study):
    require_postgres("simultaneous double submits need PostgreSQL")
    study = make_study(slug="double")
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    services.participant_start(participant=participant)
    participant.refresh_from_db()
    token = services.slot_for_display(participant=participant).token

    def submit(_i):
        fresh = participant_get_by_token(token=participant.token)
        services.judgment_submit(participant=fresh, token=token, answers=answer(study.spec["criteria"]))

    assert not at_once(submit, 8)
    assert Judgment.objects.filter(participant=participant).count() == 1
    assert Participant.objects.get(pk=participant.pk).position == 1


@pytest.fixture
def sleeping_forbidden(monkeypatch):
    """Any time.sleep during the test fails it: a start request must never wait by the clock."""

    def refuse(seconds):
        raise AssertionError(f"slept {seconds} s inside a request")

    monkeypatch.setattr("time.sleep", refuse)


def test_concurrent_starts_never_sleep_and_never_share_a_pair_slot(make_study, sleeping_forbidden):
    require_postgres("concurrent starts need row locks (SQLite serialises writers)")
    # each pair takes one judgment: two plans may never hold the same pair
    study = make_study(slug="race", n_prompts=8, n_systems=2, pairs_per_participant=4, judgments_per_pair=1,
                       pairs_reserved_at_once=4)  # the whole plan at the start
    tokens = [services.participant_enroll(study=study, user=UserFactory(username=f"race-{i}", role="participant"))
              .token for i in range(2)]
    for token in tokens:
        Participant.objects.filter(token=token).update(stage=Participant.Stage.INSTRUCTIONS)

    for _round in range(3):
        assert not at_once(lambda i: services.participant_start(
            participant=participant_get_by_token(token=tokens[i])), 2)
        held = [set(Assignment.objects.filter(participant__token=token, status="reserved")
                    .values_list("pair_id", flat=True)) for token in tokens]
        assert held[0] and held[1] and not held[0] & held[1]
        assert len(held[0]) == len(held[1]) == 4  # 8 pairs, 4 each: no plan came up short while pairs had room
        assert set(Pair.objects.filter(study=study).values_list("taken", flat=True)) == {1}
        # back to the instructions with the pairs returned, for another race
        for token in tokens:
            participant = Participant.objects.get(token=token)
            services.pairs_release(assignments=list(Assignment.objects.filter(participant=participant)))
            Assignment.objects.filter(participant=participant).delete()
            Participant.objects.filter(pk=participant.pk).update(stage=Participant.Stage.INSTRUCTIONS, total=0)
