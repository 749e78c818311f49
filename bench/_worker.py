"""A real Celery worker process for benchmarks that drive the stack, started as production starts one (prefork pool,
queues default and gpu), on the bench's database and broker: the environment of `_server.server_environment`
(bench settings; the filesystem broker in the run's scratch folder unless CELERY_BROKER_URL names another).

    worker = BenchWorker(database_url=url, name="faults@bench", log_path=folder / "worker.log")
    worker.start()   # returns the seconds it took to say it is ready
    worker.kill()    # SIGKILL to its process group (the main process and its pool children), as a lost host
    worker.stop()    # SIGTERM, then SIGKILL
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import time
from pathlib import Path

from _server import PYTHON, REPO_ROOT, server_environment


class BenchWorker:
    def __init__(self, *, database_url: str, name: str, log_path: Path, concurrency: int = 2):
        self.database_url, self.name, self.log_path, self.concurrency = database_url, name, log_path, concurrency
        self.process: subprocess.Popen | None = None
        atexit.register(self.stop)

    def start(self, timeout_s: float = 90.0) -> float:
        """Starts the worker under ``name`` and waits for its "ready" line; raises with its log otherwise."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the worker is already running")
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = {**server_environment(database_url=self.database_url), "LOG_FORMAT": "text"}
        if env.get("CELERY_BROKER_URL", "filesystem://").startswith("filesystem"):
            # the embedded broker's folders (webapp.settings.base.BROKER_DIR), shared with this process's publisher
            (Path(env["RESONANCE_VAR_DIR"]) / "broker" / "control").mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "celery", "-A", "webapp", "worker", "-Q", "default,gpu", "-c", str(self.concurrency),
                 "-n", self.name, "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                 "--without-heartbeat"],
                cwd=REPO_ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        while time.monotonic() - started < timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{self.log(offset)[-3000:]}")
            if " ready." in self.log(offset):
                return time.monotonic() - started
            time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"the worker was not ready after {timeout_s:.0f} s:\n{self.log(offset)[-3000:]}")

    def log(self, offset: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the worker's process group: no clean-up runs, nothing is acknowledged."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
