"""Platform-level Celery tasks. `ping` proves that a worker consumes a queue, end to end.

Results are ignored platform-wide (no result backend), so the round trip is observed through a file the
worker writes under `VAR_DIR/pings/`: the web process and the worker share that folder on one host, which is
the set-up `manage.py demo --serve` checks at start.
"""

import re
import secrets
import time
from pathlib import Path

from celery import shared_task
from django.conf import settings

_TOKEN_RE = re.compile(r"^[0-9a-f]{8,64}$")


def ping_dir() -> Path:
    return Path(settings.VAR_DIR) / "pings"


@shared_task(name="webapp.tasks.ping", acks_late=True, ignore_result=True)
def ping(token: str) -> str:
    """Writes `VAR_DIR/pings/<token>` (the token must be lower-case hex) and returns the token."""
    if not _TOKEN_RE.match(token or ""):
        raise ValueError("ping token must be 8-64 lower-case hex characters")
    folder = ping_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / token).write_text(f"{time.time():.3f}\n", encoding="utf-8")
    return token


def ping_roundtrip(*, queue: str, timeout: float = 60.0, poll: float = 0.2) -> float:
    """Sends `ping` to `queue` and waits until a worker has run it. Returns the seconds it took.

    Raises TimeoutError when no worker ran it within `timeout` seconds. The marker file is removed after."""
    token = secrets.token_hex(12)
    marker = ping_dir() / token
    started = time.monotonic()
    ping.apply_async(args=[token], queue=queue)
    while time.monotonic() - started < timeout:
        if marker.exists():
            marker.unlink(missing_ok=True)
            return time.monotonic() - started
        time.sleep(poll)
    raise TimeoutError(f"no worker ran webapp.tasks.ping on queue {queue!r} within {timeout:.0f} s")
