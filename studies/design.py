"""Counterbalancing and balance for blinded A/B studies, in plain Python (no Django).

Vocabulary: systems are numbered 0..k-1 in their canonical (spec) order; a *system pair* is
``(a, b)`` with ``a < b`` (``a`` is the canonically first system, as stored on a judgment);
``left`` is ``"a"`` or ``"b"``: which of the two is shown on the left.

The contracts the tests hold as properties:

* Across any number of consecutive participants, every system pair is planned the same number of
  times, give or take one (``participant_comparisons`` rotates a round-robin order).
* Within a participant, every system is shown on the left half the times it appears, give or
  take one half (``orient_balanced``: an Euler orientation, always possible).
* Over participants, the odd extra "left" alternates (odd participants get the mirror image), so
  neither system of a pair is favoured overall.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

LEFT_A = "a"
LEFT_B = "b"


@dataclass(frozen=True)
class PlannedComparison:
    """One comparison in a participant's plan: which system pair, and which one goes left."""

    system_a: int
    system_b: int
    left: str


def round_robin_pairs(n_systems: int) -> list[tuple[int, int]]:
    """All system pairs ``(a, b)``, ``a < b``, in round-robin tournament order.

    The circle method schedules rounds in which each system plays at most once, so any window of
    consecutive pairs spreads the systems evenly, which keeps a short participant plan from
    showing one system much more than the others.
    """
    if n_systems < 2:
        raise ValueError("a study needs at least two systems")
    players: list[int | None] = list(range(n_systems))
    if n_systems % 2:
        players.append(None)  # a bye
    n = len(players)
    out: list[tuple[int, int]] = []
    for _ in range(n - 1):
        for i in range(n // 2):
            x, y = players[i], players[n - 1 - i]
            if x is not None and y is not None:
                out.append((min(x, y), max(x, y)))
        players = [players[0], players[-1], *players[1:-1]]
    return out


def participant_comparisons(*, n_systems: int, count: int, participant_index: int) -> list[tuple[int, int]]:
    """The ``count`` system pairs planned for participant number ``participant_index`` (0-based).

    Participant ``i`` takes the window ``[i*count, (i+1)*count)`` of the round-robin order repeated
    forever, so the union over any run of consecutive participants covers each pair equally, +-1.
    """
    if count < 0 or participant_index < 0:
        raise ValueError("count and participant_index must be non-negative")
    order = round_robin_pairs(n_systems)
    start = participant_index * count
    return [order[(start + j) % len(order)] for j in range(count)]


def orient_balanced(edges: Sequence[tuple[int, int]]) -> list[str]:
    """Chooses a side for each comparison so every system is left in half its comparisons (+-1/2).

    Treats comparisons as edges of a multigraph, joins every odd-degree system to a dummy vertex so
    all degrees are even, walks an Euler circuit of each component (Hierholzer) and puts the system
    the walk leaves from on the left. In the circuit every vertex is entered as often as it is
    left; dropping the dummy edges moves each count by at most one. Returns ``"a"``/``"b"`` per edge.
    """
    dummy = -1
    degree: dict[int, int] = defaultdict(int)
    for a, b in edges:
        degree[a] += 1
        degree[b] += 1
    all_edges = list(edges) + [(v, dummy) for v in sorted(degree) if degree[v] % 2]
    adjacency: dict[int, list[tuple[int, int]]] = defaultdict(list)  # vertex -> [(edge index, other end)]
    for index, (a, b) in enumerate(all_edges):
        adjacency[a].append((index, b))
        adjacency[b].append((index, a))
    used = [False] * len(all_edges)
    tail = [0] * len(all_edges)  # the vertex each edge was walked from
    pointer: dict[int, int] = defaultdict(int)
    for start in sorted(adjacency):
        stack = [start]
        while stack:
            vertex = stack[-1]
            moved = False
            while pointer[vertex] < len(adjacency[vertex]):
                index, other = adjacency[vertex][pointer[vertex]]
                pointer[vertex] += 1
                if not used[index]:
                    used[index] = True
                    tail[index] = vertex
                    stack.append(other)
                    moved = True
                    break
            if not moved:
                stack.pop()
    return [LEFT_A if tail[i] == a else LEFT_B for i, (a, _b) in enumerate(edges)]


def participant_plan(
    *, n_systems: int, pairs_per_participant: int, participant_index: int, seed: int
) -> list[PlannedComparison]:
    """The ordered, side-assigned comparisons for one participant.

    Sides come from ``orient_balanced``; odd-numbered participants get every side mirrored so the
    one extra "left" an odd count forces does not always fall to the same system. The order of
    presentation is shuffled with ``seed`` so position in the sequence says nothing about systems.
    """
    comparisons = participant_comparisons(
        n_systems=n_systems, count=pairs_per_participant, participant_index=participant_index
    )
    sides = orient_balanced(comparisons)
    if participant_index % 2:
        sides = [LEFT_B if side == LEFT_A else LEFT_A for side in sides]
    plan = [PlannedComparison(a, b, side) for (a, b), side in zip(comparisons, sides, strict=True)]
    random.Random(seed).shuffle(plan)
    return plan


def left_balance(plan: Sequence[PlannedComparison]) -> dict[int, int]:
    """Per system: times shown left minus times shown right (0 or +-1 in a balanced plan)."""
    balance: dict[int, int] = defaultdict(int)
    for item in plan:
        left, right = (item.system_a, item.system_b) if item.left == LEFT_A else (item.system_b, item.system_a)
        balance[left] += 1
        balance[right] -= 1
    return dict(balance)


def side_for_fallback(*, system_a: int, system_b: int, balance: dict[int, int]) -> str:
    """Side for an unplanned comparison (the planned pair ran out): the system shown left less goes left."""
    return LEFT_A if balance.get(system_a, 0) <= balance.get(system_b, 0) else LEFT_B


def attention_positions(*, n_pairs: int, every: int) -> list[int]:
    """Slot numbers (0-based, in the full sequence) of attention checks placed after every ``every`` pairs.

    With ``every = 0`` there are none. A check never comes first, and the last one may close the session.
    """
    if every <= 0:
        return []
    positions = []
    for k in range(1, n_pairs // every + 1):
        positions.append(k * every + (k - 1))
    return positions


def interleave(*, plan_length: int, every: int) -> list[tuple[str, int]]:
    """The full slot sequence: ``("pair", i)`` for the i-th planned comparison, ``("check", j)`` for check j."""
    checks = set(attention_positions(n_pairs=plan_length, every=every))
    out: list[tuple[str, int]] = []
    pair_i = check_j = 0
    while pair_i < plan_length or len(out) in checks:
        if len(out) in checks:
            out.append(("check", check_j))
            check_j += 1
        else:
            out.append(("pair", pair_i))
            pair_i += 1
    return out


def capacity(*, n_prompts: int, n_systems: int, judgments_per_pair: int) -> int:
    """How many comparisons the study can collect: every prompt x system pair, ``judgments_per_pair`` times."""
    return n_prompts * (n_systems * (n_systems - 1) // 2) * judgments_per_pair
