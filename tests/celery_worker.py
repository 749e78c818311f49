"""A real Celery worker process for tests, sharing the test database and a private broker.

Use the ``celery_worker`` fixture (import it into a test module, or name this module in
``pytest_plugins`` of a root conftest) from a ``@pytest.mark.django_db(transaction=True)`` test:
the worker is a separate process, so it only sees committed rows. It runs

    celery -A webapp worker -Q default,gpu -c 1 -P solo

with ``DJANGO_SETTINGS_MODULE=webapp.settings.test`` and ``DATABASE_URL`` pointing at the database
pytest-django created for this run (``RESONANCE_TEST_DB``). The test process publishes to the same
broker: Redis on 127.0.0.1:6379 in a database index nobody else is using, or, when Redis is down,
the filesystem broker in a temporary folder (announced loudly; under CI=true a missing Redis is an
error). ``worker.kill()`` sends SIGKILL, ``worker.start()`` starts it again under the same name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.conftest import require_postgres
from webapp.settings.services import reachable, require_or_fall_back

REPO_ROOT = Path(__file__).resolve().parent.parent
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
READY_TIMEOUT = 90.0


def free_redis_db(host: str = REDIS_HOST, port: int = REDIS_PORT) -> int:
    """A Redis database index (1-15) with no keys and no connected client, so parallel test runs
    never consume each other's tasks. Raises RuntimeError when all are busy."""
    import redis

    client = redis.Redis(host=host, port=port, socket_connect_timeout=2)
    try:
        used = {int(name[2:]) for name in client.info("keyspace")}
        used |= {int(c.get("db", 0)) for c in client.client_list()}
    finally:
        client.close()
    for index in (*range(15, 0, -1),):
        if index not in used:
            return index
    raise RuntimeError("every Redis database 1-15 is in use; cannot isolate this test run's broker")


def flush_redis_db(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


def database_url_for_tests() -> str:
    """A DATABASE_URL naming the test database this pytest run is using (PostgreSQL only: a
    SQLite test database lives in memory and cannot be shared with another process)."""
    from django.db import connection

    settings = connection.settings_dict
    require_postgres("the Celery worker tests share the test database with the worker (SQLite's is in memory)")
    user = quote(settings.get("USER") or "")
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    return f"postgres://{credentials}{settings.get('HOST') or '127.0.0.1'}:{settings.get('PORT') or 5432}/{settings['NAME']}"


class CeleryWorker:
    """One worker process; ``start``/``stop``/``kill``/``pause``/``resume`` and its ``log``."""

    def __init__(self, *, broker_url: str, database_url: str, folder: Path, extra_env: dict[str, str] | None = None,
                 include: tuple[str, ...] = ()):
        self.broker_url = broker_url
        self.include = include  # modules the worker imports at start (e.g. a test's own job kinds)
        self.database_url = database_url
        self.folder = folder
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = folder / "worker.log"
        self.starts = 0

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "DJANGO_SETTINGS_MODULE": "webapp.settings.test",
            "DATABASE_URL": self.database_url,
            "RESONANCE_TEST_DB": self.database_url.rsplit("/", 1)[-1],
            "CELERY_BROKER_URL": self.broker_url,
            "RESONANCE_VAR_DIR": str(self.folder),  # the filesystem broker lives in <folder>/broker
            "RESONANCE_MEDIA_ROOT": str(settings.MEDIA_ROOT),  # shared with the web, as in production
            "RESONANCE_DEVICE": os.environ.get("RESONANCE_DEVICE", "cpu"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        })
        # Tiny test models run fastest on few threads; many threads per worker only contend on a shared host.
        env.setdefault("OMP_NUM_THREADS", "2")
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = READY_TIMEOUT) -> CeleryWorker:
        """Starts the worker and returns once it reports ready; raises with its log otherwise."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the worker is already running")
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", "default,gpu", "-c", "1", "-P", "solo",
             "-n", self.name, "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
             *(["--include", ",".join(self.include)] if self.include else [])],
            cwd=REPO_ROOT, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{self.log[-4000:]}")
            if " ready." in self.log[offset:]:
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the worker was not ready after {timeout:.0f} s:\n{self.log[-4000:]}")

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def pause(self) -> None:
        """SIGSTOP: freezes the worker where it is (mid-batch), so a test can look at the database."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, as an out-of-memory killer or a lost machine would: no clean-up runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def broker_for_tests(folder: Path) -> tuple[str, dict]:
    """(broker URL, transport options) for this run: a free Redis database, else the filesystem broker."""
    if require_or_fall_back("Redis", reachable(REDIS_HOST, REDIS_PORT), "the filesystem Celery broker"):
        return f"redis://{REDIS_HOST}:{REDIS_PORT}/{free_redis_db()}", {"visibility_timeout": 3600}
    broker = folder / "broker"
    broker.mkdir(parents=True, exist_ok=True)
    return "filesystem://", {"data_folder_in": str(broker), "data_folder_out": str(broker), "store_processed": False}


def point_publisher_at(broker_url: str, transport_options: dict):
    """Makes this process publish to the worker's broker; returns a function that undoes it."""
    from webapp.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options, os.environ.get("CELERY_BROKER_URL"))
    app.conf.broker_url, app.conf.broker_transport_options = broker_url, transport_options
    os.environ["CELERY_BROKER_URL"] = broker_url  # Celery reads it before its own configuration

    def restore() -> None:
        app.conf.broker_url, app.conf.broker_transport_options = saved[0], saved[1]
        if saved[2] is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved[2]

    return restore


@contextlib.contextmanager
def running_worker(tmp_path_factory, *, include: tuple[str, ...] = (), env: dict[str, str] | None = None):
    """A started worker on a private broker and the test database (importing ``include`` at start, with ``env``
    over the usual environment); stopped, and its broker emptied, on leaving."""
    folder = tmp_path_factory.mktemp("celery-worker")
    database_url = database_url_for_tests()
    broker_url, transport_options = broker_for_tests(folder)
    restore = point_publisher_at(broker_url, transport_options)
    worker = CeleryWorker(broker_url=broker_url, database_url=database_url, folder=folder, include=include,
                          extra_env=env)
    try:
        yield worker.start()
    finally:
        worker.stop()
        restore()
        if broker_url.startswith("redis"):
            flush_redis_db(broker_url)


@pytest.fixture
def celery_worker(transactional_db, tmp_path_factory):
    """A started worker on a private broker and the test database; stopped (and its broker emptied)
    after the test, before the database is flushed."""
    with running_worker(tmp_path_factory) as worker:
        yield worker
