"""A per-process cache of loaded models, so a worker loads each model version once.

Keys are ``(version_key, kind, device)`` plus any load options that change the object
(e.g. quantization). Capacity is small on purpose: on a GPU worker two or three models are
what fits; the least recently used one is dropped when a new one needs room.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import torch

from ml.core.device import free_accelerator_memory, resolve_device

T = TypeVar("T")

KINDS = ("generator", "scorer", "judge", "similarity")
ACCELERATED_KINDS = ("generator", "scorer", "judge")  # the kinds with an ml.core.accel path


class ModelCache:
    """LRU map from a hashable key to a loaded model object. Thread-safe.

    ``get_or_load`` holds the lock while loading so two threads asking for the same model
    load it once; loads of different models are serialized too, which is what a worker
    with one accelerator wants anyway.
    """

    def __init__(self, capacity: int = 2) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.RLock()
        self.loads = 0  # how many times a loader actually ran; lets callers and tests see hits

    def get_or_load(self, key: Hashable, loader: Callable[[], T]) -> T:
        """Returns the cached object for ``key``, calling ``loader()`` only on a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            while len(self._items) >= self.capacity:
                self._evict_oldest()
            value = loader()
            self.loads += 1
            self._items[key] = value
            return value

    def keys(self) -> list[Hashable]:
        """Keys from least to most recently used."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            while self._items:
                self._evict_oldest()

    def _evict_oldest(self) -> None:
        key, _value = self._items.popitem(last=False)
        del _value
        device = _device_of_key(key)
        if device is not None:
            free_accelerator_memory(device)


def _device_of_key(key: Hashable) -> torch.device | None:
    if isinstance(key, tuple) and len(key) >= 3 and isinstance(key[2], str):
        try:
            return torch.device(key[2])
        except RuntimeError:
            return None
    return None


default_cache = ModelCache(capacity=int(os.environ.get("RESONANCE_MODEL_CACHE_SIZE", "2")))


def load_model(
    kind: str,
    path: str | os.PathLike[str],
    *,
    version_key: str | None = None,
    device: str | torch.device | None = None,
    cache: ModelCache | None = None,
    acceleration: str | None = None,
    **options: Any,
) -> Any:
    """Returns a ready model object of ``kind`` for ``path``, loaded at most once per process.

    kind ``generator`` -> ``Generator``; ``scorer`` -> ``RewardModelScorer``; ``judge`` ->
    ``LLMJudgeScorer``; ``similarity`` -> ``PairSimilarity``. ``version_key`` identifies the
    registered model version (defaults to the path); ``options`` are passed to the class and
    are part of the cache key, so they must be hashable (tuples, not lists). ``acceleration``
    (``ml.core.accel.ACCELERATIONS``; None: the class's default, ``auto``) is one of those options
    for the ``ACCELERATED_KINDS``; similarity has no accelerated path, so it ignores it.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(KINDS)}")
    if acceleration is not None and kind in ACCELERATED_KINDS:
        options = {**options, "acceleration": acceleration}
    resolved = resolve_device(device)
    key = (version_key or os.fspath(path), kind, str(resolved), tuple(sorted(options.items())))
    return (cache or default_cache).get_or_load(key, lambda: _construct(kind, path, resolved, options))


def _construct(kind: str, path: str | os.PathLike[str], device: torch.device, options: dict[str, Any]) -> Any:
    # Imported here so that importing the cache does not pull every model family in.
    if kind == "generator":
        from ml.core.generation import Generator

        return Generator(path, device=device, **options)
    if kind == "scorer":
        from ml.core.reward_model import RewardModelScorer

        return RewardModelScorer(path, device=device, **options)
    if kind == "judge":
        from ml.core.judge import LLMJudgeScorer

        return LLMJudgeScorer(path, device=device, **options)
    from ml.core.similarity import PairSimilarity

    return PairSimilarity(path, device=device, **options)
