"""Health of the web process's dependencies, for load balancers and people: `/healthz`.

Each part (database, cache, broker) is probed with a short timeout and reported with its time. The answer is 503
when the database cannot be reached (pages would fail); a cache or broker that is down makes the status "degraded"
with a 200 (the cache fails open, a broker down only stops new jobs)."""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

BROKER_TIMEOUT_SECONDS = 2.0


def _timed(probe) -> dict:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # noqa: BLE001 - any failure is the answer, by kind, without details
        return {"ok": False, "ms": round((time.perf_counter() - started) * 1000, 1), "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 10)
    if cache.get(key) != value:
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


def _broker() -> None:
    from webapp.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)


def health_report() -> tuple[dict, int]:
    """({"status": "ok" | "degraded" | "down", "parts": {name: {ok, ms[, error]}}}, HTTP status)."""
    parts = {"database": _timed(_database), "cache": _timed(_cache), "broker": _timed(_broker)}
    if not parts["database"]["ok"]:
        return {"status": "down", "parts": parts}, 503
    return {"status": "ok" if parts["cache"]["ok"] and parts["broker"]["ok"] else "degraded", "parts": parts}, 200


@never_cache
@require_GET
def healthz(request):
    report, status = health_report()
    return JsonResponse(report, status=status)
