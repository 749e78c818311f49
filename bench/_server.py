"""A throwaway PostgreSQL database and a gunicorn server on loopback, for benchmarks that drive the real stack.

    url = bench_database_create()                  # drops and creates `resonance_bench_<pid>` on 127.0.0.1:5432
    django_setup(database_url=url)                 # this process talks to it through the ORM (seeding)
    migrate(database_url=url)
    with gunicorn_server(database_url=url, workers=3, worker_class="gthread", threads=4) as server:
        ...  # server.base_url answers; the server is stopped when the block ends (or the process exits)
    bench_database_drop()

The server runs `webapp.wsgi` with DJANGO_SETTINGS_MODULE=webapp.settings.bench (production settings on plain
HTTP), a random SECRET_KEY and a scratch RESONANCE_VAR_DIR. PostgreSQL is expected with trust auth for `postgres`.
"""

from __future__ import annotations

import atexit
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# One database per run, so benches started side by side (or by other engineers) never drop each other's.
BENCH_DB = f"resonance_bench_{os.getpid()}"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
SETTINGS = "webapp.settings.bench"


def database_url(name: str = BENCH_DB) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql)


def bench_database_create(name: str = BENCH_DB) -> str:
    """Drops (if there) and creates the database; returns its DATABASE_URL. Refuses names not made for benches."""
    if not name.startswith("resonance_bench"):
        raise ValueError("bench databases are named resonance_bench*, so a real one is never dropped")
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def bench_database_drop(name: str = BENCH_DB) -> None:
    if not name.startswith("resonance_bench"):
        raise ValueError("bench databases are named resonance_bench*")
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_SECRET = "bench-" + secrets.token_urlsafe(40)
_VAR_DIR = tempfile.mkdtemp(prefix="resonance-bench-")


def server_environment(*, database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the server (and migrate) run with."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "SECRET_KEY": _SECRET, "DATABASE_URL": database_url,
           "RESONANCE_VAR_DIR": _VAR_DIR, "PYTHONPATH": str(REPO_ROOT), "DEBUG": "false"}
    env.update(extra or {})
    return env


def django_setup(*, database_url: str) -> None:
    """Points this process's Django at the bench database (same settings as the server) and sets it up."""
    os.environ.update(server_environment(database_url=database_url))
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()


def migrate(*, database_url: str) -> None:
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO_ROOT, check=True,
                   env=server_environment(database_url=database_url))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class BenchServer:
    base_url: str
    port: int
    workers: int
    worker_class: str
    threads: int
    process: subprocess.Popen

    def describe(self) -> dict:
        return {"workers": self.workers, "worker_class": self.worker_class, "threads": self.threads}


def _wait_until_answering(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status < 500:
                    return
        except OSError as exc:
            if getattr(exc, "code", 500) < 500:  # an HTTP 3xx/4xx still means the app is up
                return
        time.sleep(0.2)
    raise TimeoutError(f"gunicorn did not answer {url} within {timeout_s:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def gunicorn_server(*, database_url: str, workers: int = 3, worker_class: str = "sync", threads: int = 1,
                    extra_env: dict[str, str] | None = None, log_path: Path | None = None,
                    timeout_s: float = 60.0) -> Iterator[BenchServer]:
    """Starts gunicorn on a free loopback port and yields once it answers; stops it when the block ends.

    worker_class is "sync" or "gthread" (threads per worker). Output goes to `log_path` (default: discarded)."""
    if worker_class not in {"sync", "gthread"}:
        raise ValueError("worker_class is sync or gthread")
    port = free_port()
    command = [PYTHON, "-m", "gunicorn", "webapp.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads),
               "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning", "--backlog", "2048"]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=server_environment(database_url=database_url, extra=extra_env),
                               stdout=log, stderr=log, start_new_session=True)
    atexit.register(_stop, process)
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_answering(base_url + "/accounts/login/", process, timeout_s)
        yield BenchServer(base_url, port, workers, worker_class, threads, process)
    finally:
        _stop(process)
        if log_path:
            log.close()
