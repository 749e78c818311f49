"""Helpers shared by the benchmarks: arguments, timing, percentiles, memory, the result line.

Every benchmark ends by printing exactly one JSON line with its figures (``print_result``),
so CI and people can pick the numbers out of a log with ``tail -n 1``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def ensure_repo_on_path() -> None:
    """Lets ``python bench/x.py`` import the project's packages without installing them."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


def parse_args(description: str, add_arguments: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """Parses the common ``--quick`` flag (a run under a minute) plus the benchmark's own options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, finishes in under a minute")
    if add_arguments is not None:
        add_arguments(parser)
    return parser.parse_args()


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation between closest ranks."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """Runs ``function`` once; returns its result and the wall time in seconds."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def timed_with_cpu(function: Callable[[], Any]) -> tuple[Any, float, float]:
    """Runs ``function`` once; returns its result, wall seconds and this process's CPU seconds.

    On a shared machine wall time swings with other people's load; CPU time (all threads of
    this process) is steadier, though it also counts threads spinning while they wait.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def set_threads(count: int | None) -> None:
    """Pins torch's intra-op threads (None: leave torch's default, one per core)."""
    if count:
        import torch

        torch.set_num_threads(count)


def machine() -> dict[str, Any]:
    """A short description of where the figures were taken."""
    import os

    info: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    if hasattr(os, "getloadavg"):
        info["load_average_1min"] = round(os.getloadavg()[0], 2)  # >cpus means the figures were contended
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def print_result(name: str, figures: dict[str, Any]) -> None:
    """Prints the single closing JSON line: ``{"bench": name, ...figures, "machine": ..., "peak_rss_mb": ...}``."""
    line = {"bench": name, **figures, "peak_rss_mb": round(peak_rss_mb(), 1), "machine": machine()}
    print(json.dumps(line, sort_keys=False), flush=True)
