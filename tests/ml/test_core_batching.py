"""Batching helpers: length order, chunks, and prefill groups that minimise padding."""

from __future__ import annotations

import itertools
import random

import pytest

from ml.core.batching import chunks, order_by_length, padding_groups


def cost_of(lengths: list[int], groups: list[range], cost_per_group: int) -> int:
    return sum(len(group) * lengths[group.start] + cost_per_group for group in groups)


def every_split(count: int):
    """All ways to cut ``count`` sorted rows into consecutive groups."""
    for cuts in itertools.product((False, True), repeat=count - 1):
        bounds = [0] + [i + 1 for i, cut in enumerate(cuts) if cut] + [count]
        yield [range(start, end) for start, end in itertools.pairwise(bounds)]


@pytest.mark.parametrize("seed", range(20))
def test_padding_groups_find_the_cheapest_split(seed):
    rng = random.Random(seed)
    lengths = sorted((rng.randint(1, 60) for _ in range(rng.randint(1, 9))), reverse=True)
    cost_per_group = rng.choice([0, 16, 128])
    max_size = rng.choice([None, 1, 2, 3])

    groups = padding_groups(lengths, cost_per_group=cost_per_group, max_size=max_size)

    assert [index for group in groups for index in group] == list(range(len(lengths)))
    allowed = [split for split in every_split(len(lengths))
               if max_size is None or all(len(group) <= max_size for group in split)]
    cheapest = min(cost_of(lengths, split, cost_per_group) for split in allowed)
    assert cost_of(lengths, groups, cost_per_group) == cheapest
    assert max_size is None or max(len(group) for group in groups) <= max_size


def test_padding_groups_keep_one_group_when_splitting_costs_more_than_it_saves():
    assert padding_groups([10, 9, 8], cost_per_group=100) == [range(0, 3)]
    assert padding_groups([50, 50, 5, 5], cost_per_group=10) == [range(0, 2), range(2, 4)]
    assert padding_groups([10, 9, 8], cost_per_group=100, max_size=2) == [range(0, 1), range(1, 3)]


def test_padding_groups_refuse_unsorted_lengths():
    with pytest.raises(ValueError, match="sorted longest first"):
        padding_groups([3, 5], cost_per_group=1)


def test_order_by_length_is_longest_first_and_stable():
    assert order_by_length([2, 5, 5, 1]) == [1, 2, 0, 3]
    assert order_by_length([2, 5, 5, 1], longest_first=False) == [3, 0, 1, 2]


def test_chunks_cover_everything_in_order():
    assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    with pytest.raises(ValueError):
        chunks([1], 0)
