"""Balance of the real assignment (database) over many participant counts."""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studies import design
from studies.models import Assignment, Judgment, Pair
from tests.factories import UserFactory
from tests.studies.conftest import run_participant

pytestmark = pytest.mark.django_db


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_systems=st.integers(2, 4), pairs_per_participant=st.integers(1, 5), participants=st.integers(1, 10))
def test_assignment_balances_pairs_prompts_and_sides(make_study, n_systems, pairs_per_participant, participants):
    slug = f"bal-{n_systems}-{pairs_per_participant}-{participants}"
    from studies.models import Study

    Study.objects.filter(slug=slug).delete()
    n_prompts = 5
    study = make_study(slug=slug, n_prompts=n_prompts, n_systems=n_systems,
                       pairs_per_participant=pairs_per_participant, judgments_per_pair=3)
    capacity = design.capacity(n_prompts=n_prompts, n_systems=n_systems, judgments_per_pair=3)
    finished = []
    for index in range(participants):
        if len(finished) * pairs_per_participant >= capacity:
            break
        finished.append(run_participant(study, UserFactory(username=f"{slug}-{index}", role="participant")))
    taken = list(Pair.objects.filter(study=study).values_list("taken", flat=True))
    assert max(taken) <= 3
    full = sum(taken) == capacity
    # within a system pair, the least-taken prompt goes first; a participant's own "never the same
    # prompt twice" exclusions can push one pick to the next-least-taken prompt, hence at most two apart
    for a, b in design.round_robin_pairs(n_systems):
        counts = [p.taken for p in Pair.objects.filter(study=study, system_a__position=a, system_b__position=b)]
        assert max(counts) - min(counts) <= 2 or full, (a, b, counts)
    # across system pairs, the plans keep the totals within one comparison of each other
    by_system_pair = Counter()
    for slot in Assignment.objects.filter(participant__study=study, pair__isnull=False):
        by_system_pair[(slot.system_a_id, slot.system_b_id)] += 1
    if not full:
        totals = [by_system_pair.get(pair, 0) for pair in
                  [(s1.pk, s2.pk) for s1 in study.systems.all() for s2 in study.systems.all() if s1.position < s2.position]]
        assert max(totals) - min(totals) <= 1, totals
    for participant in finished:
        slots = list(Assignment.objects.filter(participant=participant, pair__isnull=False).select_related("pair"))
        prompts = [slot.pair.prompt_id for slot in slots]
        assert len(prompts) == len(set(prompts))  # never the same prompt twice
        plan = [design.PlannedComparison(s.system_a_id, s.system_b_id, s.left) for s in slots]
        appearances = Counter()
        for item in plan:
            appearances[item.system_a] += 1
            appearances[item.system_b] += 1
        for system, balance in design.left_balance(plan).items():
            assert abs(balance) == appearances[system] % 2
        # the side shown is recorded with every judgment
        lefts = dict(Judgment.objects.filter(participant=participant).values_list("assignment_id", "left"))
        assert lefts == {s.pk: s.left for s in slots}
