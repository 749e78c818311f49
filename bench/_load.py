"""A load generator for loopback benchmarks (asyncio + aiohttp): simulated users that log in through a crowd link
and then repeat a caller-provided loop.

    async def one_loop(session: aiohttp.ClientSession, state: dict) -> bool: ...   # True: the loop succeeded

    result = run_closed_loop(base_url=url, crowd_link=lambda i: f"/p/demo/?PROLIFIC_PID=u{i}", one_loop=one_loop,
                             users=50, duration_s=20)
    result = run_open_loop(base_url=url, crowd_link=..., one_loop=one_loop, users=500, rate_per_s=50, duration_s=30)
    result.figures()  # {"loops": ..., "loops_per_s": ..., "p50_ms": ..., "p95_ms": ..., "p99_ms": ..., "errors": ...}

Closed loop: every user repeats its loop with no pause, so throughput is what the server sustains. Open loop: loops
arrive as a Poisson process at `rate_per_s` regardless of how the server copes, each served by an idle user; a
loop's latency is counted from its arrival, so time spent waiting for an idle user counts (no coordinated
omission). Each user has its own cookie jar; after the crowd link (redirects followed) `state["page"]` holds the
page it landed on, `state["index"]` the user's number. Runs are bounded by `duration_s` and `max_loops`; a loop
that raises or returns False counts as an error (the first few messages are kept). Only loopback URLs are accepted.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

import aiohttp
from _common import percentile  # bench/ is on sys.path when a bench script runs

OneLoop = Callable[[aiohttp.ClientSession, dict], Awaitable[bool]]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class LoadResult:
    mode: str
    users: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    target_rate: float | None = None

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message[:300])

    def figures(self) -> dict:
        ms = [value * 1000 for value in self.latencies]
        figures = {
            "mode": self.mode, "users": self.users, "loops": len(ms), "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "loops_per_s": round(len(ms) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1) if ms else math.nan,
        }
        if self.target_rate is not None:
            figures["target_rate"] = self.target_rate
        if self.error_samples:
            figures["error_samples"] = self.error_samples
        return figures


def _connector(users: int) -> aiohttp.TCPConnector:
    # Idle connections are dropped after 1 s, before gunicorn's 2 s keep-alive closes them under a request (an
    # open-loop user sits idle between loops; reusing a connection the server is closing reads as a reset).
    return aiohttp.TCPConnector(limit=users + 8, keepalive_timeout=1.0)


def _check_loopback(base_url: str) -> None:
    if urlparse(base_url).hostname not in LOOPBACK:
        raise ValueError(f"load is only generated against loopback, not {base_url}")


async def _log_in(base_url: str, connector: aiohttp.TCPConnector, crowd_link: Callable[[int], str], index: int,
                  request_timeout_s: float) -> tuple[aiohttp.ClientSession, dict]:
    # unsafe=True: aiohttp's jar refuses cookies from IP-address hosts such as 127.0.0.1 otherwise
    session = aiohttp.ClientSession(base_url=base_url, connector=connector, connector_owner=False,
                                    cookie_jar=aiohttp.CookieJar(unsafe=True),
                                    timeout=aiohttp.ClientTimeout(total=request_timeout_s))
    async with session.get(crowd_link(index)) as response:
        page = await response.text()
        if response.status != 200:
            await session.close()
            raise RuntimeError(f"crowd link for user {index} answered {response.status}: {page[:200]}")
    return session, {"index": index, "page": page}


async def _log_in_all(base_url, connector, crowd_link, users, request_timeout_s, parallel=16):
    gate = asyncio.Semaphore(parallel)

    async def one(index):
        async with gate:
            return await _log_in(base_url, connector, crowd_link, index, request_timeout_s)

    return await asyncio.gather(*(one(index) for index in range(users)))


async def _timed_loop(one_loop: OneLoop, session, state, result: LoadResult, started: float, record: bool) -> None:
    try:
        ok = await one_loop(session, state)
    except Exception as exc:  # noqa: BLE001 - any failure of a loop is an error figure, not a crash
        ok = False
        message = f"{type(exc).__name__}: {exc}"
    else:
        message = "loop returned False" + (f": {state.get('error')}" if state.get("error") else "")
    if not record:
        return
    if ok:
        result.latencies.append(time.perf_counter() - started)
    else:
        result.error(message)


async def closed_loop(*, base_url: str, crowd_link: Callable[[int], str], one_loop: OneLoop, users: int,
                      duration_s: float, max_loops: int = 1_000_000, warmup_s: float = 2.0,
                      request_timeout_s: float = 30.0) -> LoadResult:
    """`users` users loop back to back for `warmup_s` (not recorded) then `duration_s` or until `max_loops`."""
    _check_loopback(base_url)
    result = LoadResult(mode="closed", users=users)
    connector = _connector(users)
    sessions = await _log_in_all(base_url, connector, crowd_link, users, request_timeout_s)
    try:
        begin = time.perf_counter()
        measure_from = begin + warmup_s
        deadline = measure_from + duration_s

        async def user(session, state):
            while time.perf_counter() < deadline and len(result.latencies) + result.errors < max_loops:
                started = time.perf_counter()
                await _timed_loop(one_loop, session, state, result, started, record=started >= measure_from)

        await asyncio.gather(*(user(session, state) for session, state in sessions))
        result.seconds = min(time.perf_counter(), deadline) - measure_from
    finally:
        await asyncio.gather(*(session.close() for session, _ in sessions))
        await connector.close()
    return result


async def open_loop(*, base_url: str, crowd_link: Callable[[int], str], one_loop: OneLoop, users: int,
                    rate_per_s: float, duration_s: float, max_loops: int = 1_000_000, seed: int = 0,
                    request_timeout_s: float = 30.0) -> LoadResult:
    """Loops arrive at Poisson `rate_per_s` for `duration_s` (or `max_loops` arrivals); each is served by an idle user.

    Latency runs from arrival to completion. Arrivals stop at the deadline; loops in flight are waited for."""
    _check_loopback(base_url)
    result = LoadResult(mode="open", users=users, target_rate=rate_per_s)
    connector = _connector(users)
    sessions = await _log_in_all(base_url, connector, crowd_link, users, request_timeout_s)
    idle: asyncio.Queue = asyncio.Queue()
    for pair in sessions:
        idle.put_nowait(pair)
    rng = random.Random(seed)
    in_flight: set[asyncio.Task] = set()

    async def serve(arrived: float) -> None:
        session, state = await idle.get()
        try:
            await _timed_loop(one_loop, session, state, result, arrived, record=True)
        finally:
            idle.put_nowait((session, state))

    try:
        begin = time.perf_counter()
        deadline = begin + duration_s
        next_arrival = begin
        arrivals = 0
        while arrivals < max_loops:
            next_arrival += rng.expovariate(rate_per_s)
            if next_arrival >= deadline:
                break
            await asyncio.sleep(max(0.0, next_arrival - time.perf_counter()))
            task = asyncio.create_task(serve(next_arrival))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            arrivals += 1
        await asyncio.gather(*in_flight)
        result.seconds = time.perf_counter() - begin
    finally:
        await asyncio.gather(*(session.close() for session, _ in sessions))
        await connector.close()
    return result


def run_closed_loop(**kwargs) -> LoadResult:
    """Synchronous wrapper of `closed_loop` (same keyword arguments)."""
    return asyncio.run(closed_loop(**kwargs))


def run_open_loop(**kwargs) -> LoadResult:
    """Synchronous wrapper of `open_loop` (same keyword arguments)."""
    return asyncio.run(open_loop(**kwargs))
