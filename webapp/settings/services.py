"""Probes for the external services the integration suite wants (PostgreSQL, Redis).

Outside CI a missing service falls back to SQLite / the embedded broker with a loud warning;
under CI=true a missing service is an error, never a skip."""

import os
import socket
import sys


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_or_fall_back(service: str, ok: bool, fallback: str) -> bool:
    if ok:
        return True
    if in_ci():
        raise RuntimeError(f"{service} is not reachable and CI=true: start it (see .ci/run) instead of skipping")
    print(
        f"\n!!! {service} is NOT reachable: falling back to {fallback}. "
        f"Tests that need {service} run against the fallback; the PostgreSQL/Redis paths are NOT proven. !!!\n",
        file=sys.stderr,
    )
    return False
