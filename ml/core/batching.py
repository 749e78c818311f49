"""Batching helpers shared by generation and scoring: length sorting and OOM halving."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

T = TypeVar("T")
R = TypeVar("R")


def order_by_length(lengths: Sequence[int], *, longest_first: bool = True) -> list[int]:
    """Indices of the inputs sorted by length, so each batch pads little.

    Longest first: the batch that needs the most memory runs first, so an out-of-memory
    error shows up (and is handled) at once instead of at the end of a long job. Ties keep
    input order, so the order is deterministic.
    """
    return sorted(range(len(lengths)), key=lambda index: (-lengths[index] if longest_first else lengths[index], index))


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Consecutive slices of at most ``size`` items."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [items[start : start + size] for start in range(0, len(items), size)]


def run_splitting_on_oom(
    batch: Sequence[T],
    run: Callable[[Sequence[T]], list[R]],
    *,
    on_oom: Callable[[], None] | None = None,
) -> list[R]:
    """Calls ``run(batch)``; when it raises CUDA out-of-memory, runs each half separately.

    Halving recurses down to single items; an OOM on one item is re-raised since nothing
    smaller can be tried. ``on_oom`` runs after each OOM (e.g. to empty the CUDA cache).
    Results keep the order of ``batch``.
    """
    try:
        return run(batch)
    except torch.cuda.OutOfMemoryError:
        if len(batch) <= 1:
            raise
    # Outside the except block, so the traceback (which pins the failed batch's tensors) is freed.
    if on_oom is not None:
        on_oom()
    middle = len(batch) // 2
    return run_splitting_on_oom(batch[:middle], run, on_oom=on_oom) + run_splitting_on_oom(
        batch[middle:], run, on_oom=on_oom
    )


def padding_groups(lengths: Sequence[int], *, cost_per_group: int, max_size: int | None = None) -> list[range]:
    """Splits rows sorted longest first into consecutive groups of at most ``max_size`` rows,
    each padded to its own longest row, minimising padded positions plus ``cost_per_group``
    per group (the fixed cost of one more forward pass, in positions). Exact, by dynamic
    programming."""
    if any(earlier < later for earlier, later in zip(lengths, lengths[1:], strict=False)):
        raise ValueError("lengths must be sorted longest first")
    count = len(lengths)
    best = [0] + [0] * count  # best[end]: least cost of rows [0, end)
    cut = [0] * (count + 1)
    for end in range(1, count + 1):
        options = (
            (best[start] + (end - start) * lengths[start] + cost_per_group, start)
            for start in range(0 if max_size is None else max(end - max_size, 0), end)
        )
        best[end], cut[end] = min(options)
    groups, end = [], count
    while end:
        groups.append(range(cut[end], end))
        end = cut[end]
    return groups[::-1]
