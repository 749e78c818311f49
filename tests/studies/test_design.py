"""Properties of the plain counterbalancing and balance logic (studies.design)."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studies import design


@given(n_systems=st.integers(2, 9))
def test_round_robin_lists_every_system_pair_once(n_systems):
    pairs = design.round_robin_pairs(n_systems)
    expected = {(a, b) for a in range(n_systems) for b in range(a + 1, n_systems)}
    assert len(pairs) == len(expected)
    assert set(pairs) == expected


@settings(max_examples=200)
@given(
    n_systems=st.integers(2, 7),
    pairs_per_participant=st.integers(1, 25),
    participants=st.integers(1, 120),
)
def test_system_pairs_are_planned_equally_over_any_number_of_participants(
    n_systems, pairs_per_participant, participants
):
    counts = Counter()
    for index in range(participants):
        counts.update(
            design.participant_comparisons(
                n_systems=n_systems, count=pairs_per_participant, participant_index=index
            )
        )
    all_pairs = design.round_robin_pairs(n_systems)
    per_pair = [counts[p] for p in all_pairs]
    assert sum(per_pair) == participants * pairs_per_participant
    assert max(per_pair) - min(per_pair) <= 1


@settings(max_examples=300)
@given(
    n_systems=st.integers(2, 7),
    pairs_per_participant=st.integers(1, 30),
    participant_index=st.integers(0, 500),
    seed=st.integers(0, 2**32),
)
def test_each_system_is_left_half_the_time_within_every_participant(
    n_systems, pairs_per_participant, participant_index, seed
):
    plan = design.participant_plan(
        n_systems=n_systems,
        pairs_per_participant=pairs_per_participant,
        participant_index=participant_index,
        seed=seed,
    )
    assert len(plan) == pairs_per_participant
    appearances = Counter()
    for item in plan:
        appearances[item.system_a] += 1
        appearances[item.system_b] += 1
    for system, balance in design.left_balance(plan).items():
        # left - right has the parity of the appearances; "as near as the count allows" is 0 or 1.
        assert abs(balance) == appearances[system] % 2


@settings(max_examples=300)
@given(edges=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)).filter(lambda e: e[0] < e[1]), max_size=60))
def test_any_multigraph_of_comparisons_gets_a_balanced_orientation(edges):
    sides = design.orient_balanced(edges)
    plan = [design.PlannedComparison(a, b, s) for (a, b), s in zip(edges, sides, strict=True)]
    degree = Counter()
    for a, b in edges:
        degree[a] += 1
        degree[b] += 1
    for system, balance in design.left_balance(plan).items():
        assert abs(balance) == degree[system] % 2


@settings(max_examples=100)
@given(participants=st.integers(2, 200).filter(lambda n: n % 2 == 0), pairs_per_participant=st.integers(1, 15))
def test_odd_extras_alternate_so_two_systems_share_the_left_evenly_overall(participants, pairs_per_participant):
    left_counts = Counter()
    for index in range(participants):
        for item in design.participant_plan(
            n_systems=2, pairs_per_participant=pairs_per_participant, participant_index=index, seed=index
        ):
            left_counts[item.system_a if item.left == "a" else item.system_b] += 1
    assert left_counts[0] == left_counts[1]


def test_plan_order_depends_on_seed_but_content_does_not():
    one = design.participant_plan(n_systems=4, pairs_per_participant=12, participant_index=3, seed=1)
    two = design.participant_plan(n_systems=4, pairs_per_participant=12, participant_index=3, seed=2)
    assert sorted(one, key=repr) == sorted(two, key=repr)
    assert one != two


@given(n_pairs=st.integers(0, 40), every=st.integers(0, 10))
def test_interleave_keeps_every_pair_in_order_and_places_checks_after_each_block(n_pairs, every):
    slots = design.interleave(plan_length=n_pairs, every=every)
    assert [i for kind, i in slots if kind == "pair"] == list(range(n_pairs))
    checks = [pos for pos, (kind, _) in enumerate(slots) if kind == "check"]
    assert checks == design.attention_positions(n_pairs=n_pairs, every=every)
    expected_checks = n_pairs // every if every else 0
    assert len(checks) == expected_checks
    for pos in checks:
        # exactly `every` pairs since the previous check (or the start)
        before = slots[:pos]
        last_check = max([p for p in checks if p < pos], default=-1)
        assert sum(1 for kind, _ in before[last_check + 1:] if kind == "pair") == every


def test_fallback_side_goes_to_the_system_shown_left_less():
    assert design.side_for_fallback(system_a=0, system_b=1, balance={0: 1, 1: -1}) == "b"
    assert design.side_for_fallback(system_a=0, system_b=1, balance={0: -1, 1: 0}) == "a"


def test_a_single_system_is_rejected():
    with pytest.raises(ValueError):
        design.round_robin_pairs(1)


def test_capacity_counts_prompts_times_system_pairs_times_judgments():
    assert design.capacity(n_prompts=10, n_systems=3, judgments_per_pair=4) == 10 * 3 * 4
