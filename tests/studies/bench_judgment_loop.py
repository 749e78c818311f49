"""Benchmark of the study judging loop behind gunicorn on PostgreSQL (not a test; prints figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/resonance_bench \
        .venv/bin/python tests/studies/bench_judgment_loop.py --rate 150 --participants 50 --seconds 30

One loop is what the page does: POST the answers to /s/p/<token>/judge/ as htmx and receive the next
pair's fragment. The load is open-loop: each of the N participants is scheduled to submit every
N / rate seconds; a participant still waiting for its previous answer submits as soon as it arrives,
and latency is measured from the scheduled time, so a slow server cannot hide its queue
(no coordinated omission). The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SLOT_RE = re.compile(r'name="slot" value="([^"]+)"')
CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')


def setup_database(participants: int, pairs_each: int) -> list[str]:
    """Migrates, loads a 2-system study big enough for the run, and starts every participant."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from studies import services
    from studies.models import Study
    from studies.spec import spec_parse

    Study.objects.filter(slug="bench-loop").delete()
    owner, _ = get_user_model().objects.get_or_create(username="bench-owner", defaults={"role": "researcher"})
    n_prompts = pairs_each + 20
    spec = spec_parse({
        "slug": "bench-loop", "title": "bench",
        "prompts": [{"id": f"p{i}", "context": [{"speaker": "seeker", "text": f"Message {i}. " * 20}]}
                    for i in range(n_prompts)],
        "systems": [{"name": "one"}, {"name": "two"}],
        "criteria": [{"name": "overall", "question": "Which is better?"},
                     {"name": "reception", "question": "Which would you rather receive?"}],
        "pairs_per_participant": pairs_each,
        "judgments_per_pair": participants,
        "reservation_minutes": 120,
    })
    study = services.study_load(spec=spec, owner=owner)
    rows = [json.dumps({"prompt_id": p["id"], "system": s["name"], "response": f"Reply {s['name']} " * 40})
            for p in spec["prompts"] for s in spec["systems"]]
    services.responses_import(study=study, lines=rows, source="bench")
    services.study_open(study=study)
    tokens = []
    for i in range(participants):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-p{i}", defaults={"role": "participant"})
        participant = services.participant_enroll(study=study, user=user)
        services.participant_start(participant=participant)
        tokens.append(participant.token)
    return tokens


async def participant_loop(session, base, token, period, start_at, deadline, latencies, errors):
    import aiohttp

    page = await (await session.get(f"{base}/s/p/{token}/")).text()
    slot, csrf = SLOT_RE.search(page).group(1), CSRF_RE.search(page).group(1)
    url = f"{base}/s/p/{token}/judge/"
    headers = {"HX-Request": "true", "X-CSRFToken": csrf, "Referer": base + "/"}
    scheduled = start_at
    while scheduled < deadline:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        form = {"slot": slot, "choice_overall": "1", "choice_reception": "2"}
        try:
            async with session.post(url, data=form, headers=headers) as response:
                body = await response.text()
                if response.status != 200:
                    errors.append(response.status)
                else:
                    match = SLOT_RE.search(body)
                    if match is None:
                        return  # plan finished
                    slot = match.group(1)
        except aiohttp.ClientError as exc:
            errors.append(type(exc).__name__)
        latencies.append((scheduled, time.perf_counter() - scheduled))
        scheduled += period


async def drive(base, tokens, rate, seconds, warmup):
    import aiohttp

    latencies: list[tuple[float, float]] = []
    errors: list = []
    period = len(tokens) / rate
    connector = aiohttp.TCPConnector(limit=0)
    # unsafe=True: keep cookies (the CSRF cookie) for an IP address host
    sessions = [aiohttp.ClientSession(connector=connector, connector_owner=False,
                                      cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in tokens]
    begin = time.perf_counter() + 1.0
    deadline = begin + warmup + seconds
    await asyncio.gather(*[
        participant_loop(s, base, t, period, begin + i * period / len(tokens), deadline, latencies, errors)
        for i, (s, t) in enumerate(zip(sessions, tokens, strict=True))
    ])
    for s in sessions:
        await s.close()
    await connector.close()
    window = [(at, lat) for at, lat in latencies if at >= begin + warmup]
    # throughput over the time the measured loops really took to complete, not the schedule
    elapsed = max((at + lat for at, lat in window), default=begin + warmup) - (begin + warmup)
    return sorted(lat for _at, lat in window), errors, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=150.0, help="offered loops per second")
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.bench")
    pairs_each = int(args.rate * (args.seconds + args.warmup + 5) / args.participants) + 5
    tokens = setup_database(args.participants, pairs_each)
    from django.db import connections

    connections.close_all()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "webapp.wsgi", "-b", f"127.0.0.1:{args.port}",
         "-w", str(args.workers), "-k", "gthread", "--threads", str(args.threads), "--log-level", "warning"],
        cwd=ROOT, env=os.environ.copy(),
    )
    try:
        time.sleep(3)
        measured, errors, elapsed = asyncio.run(drive(f"http://127.0.0.1:{args.port}", tokens, args.rate,
                                                      args.seconds, args.warmup))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    achieved = len(measured) / max(elapsed, args.seconds)
    p95 = measured[int(0.95 * (len(measured) - 1))] * 1000 if measured else float("nan")
    figures = {"offered_per_s": args.rate, "achieved_per_s": round(achieved, 1), "participants": args.participants,
               "p50_ms": round(statistics.median(measured) * 1000, 1) if measured else None,
               "p95_ms": round(p95, 1), "p99_ms": round(measured[int(0.99 * (len(measured) - 1))] * 1000, 1)
               if measured else None, "errors": len(errors), "cores": os.cpu_count(), "load_average_1m": os.getloadavg()[0],
               "workers": args.workers, "threads": args.threads}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
