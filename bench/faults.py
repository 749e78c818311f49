"""Faults on the real stack, loopback only, each on processes this script starts (and stops, by pid):

    python bench/faults.py            # annotators for 40 s, PostgreSQL restarted twice
    python bench/faults.py --quick    # 10 annotators for 15 s, one restart (under a minute)

(1) PostgreSQL restarted mid-load, on a cluster of its own (initdb in a temporary folder, run as the `postgres`
    user when this script runs as root): requests during the outage fail cleanly (503, never 500), the loop
    recovers, and nothing is half-written (the soak's audit: no lost answer, no stale counter, no leak).
(2) Redis down (the broker pointed at a closed port): /healthz says "degraded" with the broker's part, the
    annotation page still answers 200.
Not covered yet: a Celery worker killed with SIGKILL mid-job (tests/ml's worker suite covers retries).
The last line printed is one JSON object with what it saw.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import parse_args, print_result  # noqa: E402
from _server import django_setup, gunicorn_server, migrate  # noqa: E402
from soak import RESERVATION_S, audit, drive, project_seed  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def own_cluster():
    """A PostgreSQL cluster of our own on a free port; yields (database url, restart function)."""
    folder = Path(tempfile.mkdtemp(prefix="resonance-faults-"))
    data = folder / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(data, "postgres")
    port = _free_port()
    log = folder / "postgres.log"
    subprocess.run(_as_postgres(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True,
                   stdout=subprocess.DEVNULL)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    control = ["pg_ctl", "-D", str(data), "-o", options, "-l", str(log), "-w"]
    subprocess.run(_as_postgres([*control, "start"]), check=True, stdout=subprocess.DEVNULL)
    subprocess.run(_as_postgres(["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "faults"]),
                   check=True)

    def restart(pause_s: float) -> None:
        subprocess.run(_as_postgres([*control, "-m", "fast", "stop"]), check=True, stdout=subprocess.DEVNULL)
        time.sleep(pause_s)
        subprocess.run(_as_postgres([*control, "start"]), check=True, stdout=subprocess.DEVNULL)

    try:
        yield f"postgres://postgres@127.0.0.1:{port}/faults", restart
    finally:
        subprocess.run(_as_postgres([*control, "-m", "immediate", "stop"]), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)


async def _load_with_restarts(base: str, slug: str, *, annotators: int, seconds: float, restarts: int, restart):
    loop = asyncio.get_running_loop()
    load = asyncio.create_task(drive(base, slug, annotators=annotators, seconds=seconds))
    for index in range(restarts):
        await asyncio.sleep(seconds / (restarts + 1))
        await loop.run_in_executor(None, restart, 1.0)
        print(f"restart {index + 1} done", file=sys.stderr, flush=True)
    return await load


def _get(url: str, opener=None) -> tuple[int, str]:
    """GET on loopback; `opener` keeps cookies across calls (a browser)."""
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def postgres_restart(*, database_url: str, restart, annotators: int, seconds: float, restarts: int) -> dict:
    from django.db import connections

    slug = project_seed(annotators * 10, "faults-restart")
    connections.close_all()
    extra = {"RESONANCE_RESERVATION_SECONDS": str(RESERVATION_S)}
    with gunicorn_server(database_url=database_url, workers=2, worker_class="gthread", threads=4,
                         extra_env=extra) as server:
        ledger = asyncio.run(_load_with_restarts(server.base_url, slug, annotators=annotators, seconds=seconds,
                                                 restarts=restarts, restart=restart))
        recovered, _ = _get(server.base_url + "/healthz")
    figures = audit(slug, ledger)
    connections.close_all()
    figures.update({"restarts": restarts, "turns": ledger.turns, "server_errors": ledger.server_errors,
                    "unavailable_503": ledger.statuses.get(503, 0), "healthz_after": recovered})
    figures["ok"] = recovered == 200 and all(figures[name] == 0 for name in (
        "lost", "duplicated", "over_assigned", "stale_item_counters", "stale_enrollment_counters",
        "leaked_reservations", "server_errors"))
    return figures


def redis_down(*, database_url: str) -> dict:
    from django.db import connections

    slug = project_seed(5, "faults-redis")
    connections.close_all()
    dead = f"redis://127.0.0.1:{_free_port()}/0"
    with gunicorn_server(database_url=database_url, workers=1, extra_env={"CELERY_BROKER_URL": dead}) as server:
        health_status, health = _get(server.base_url + "/healthz")
        login_status, _ = _get(server.base_url + "/accounts/login/")
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        join_status, page = _get(f"{server.base_url}/p/{slug}/?PROLIFIC_PID=redis-down-1", browser)
    import json

    parts = json.loads(health)
    figures = {"healthz_status": health_status, "healthz": parts.get("status"),
               "broker_ok": parts.get("parts", {}).get("broker", {}).get("ok"), "login_page": login_status,
               "annotate_page": join_status, "item_shown": 'name="assignment"' in page}
    figures["ok"] = (health_status == 200 and figures["healthz"] == "degraded" and figures["broker_ok"] is False
                     and login_status == 200 and join_status == 200 and figures["item_shown"])
    return figures


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    annotators, seconds, restarts = (10, 15.0, 1) if args.quick else (30, 40.0, 2)
    with own_cluster() as (database_url, restart):
        migrate(database_url=database_url)
        django_setup(database_url=database_url)
        results = {"postgres_restart": postgres_restart(database_url=database_url, restart=restart,
                                                        annotators=annotators, seconds=seconds, restarts=restarts),
                   "redis_down": redis_down(database_url=database_url)}
    results["ok"] = all(part["ok"] for part in results.values())
    print_result("faults", results)


if __name__ == "__main__":
    main()
