"""Production readiness: /healthz per part, security headers, request ids in JSON logs, API docs behind login and
no 500 without collectstatic (production settings, in a child process)."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.celery_worker import point_publisher_at
from webapp.logs import JsonFormatter, RequestIdFilter, request_id_var

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_healthz_reports_each_part_with_its_time():
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok", body
    assert set(body["parts"]) == {"database", "cache", "broker"}
    assert all(part["ok"] and part["ms"] >= 0 for part in body["parts"].values())


def test_healthz_with_the_broker_down_is_degraded_not_down():
    restore = point_publisher_at("redis://127.0.0.1:1/0", {})
    try:
        body = Client().get("/healthz").json()
    finally:
        restore()
    assert body["status"] == "degraded" and body["parts"]["broker"]["ok"] is False
    assert body["parts"]["database"]["ok"]


def test_worker_ping_says_which_queue_has_no_worker(capsys):
    restore = point_publisher_at("redis://127.0.0.1:1/0", {})
    try:
        with pytest.raises(CommandError):
            call_command("workers_ping", "--timeout", "0.5")
    finally:
        restore()


def test_pages_carry_a_strict_content_security_policy_and_a_permissions_policy():
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]


def test_each_response_has_a_request_id_and_keeps_a_sane_one_from_the_proxy():
    fresh = Client().get("/healthz")
    assert len(fresh["X-Request-ID"]) == 32
    kept = Client().get("/healthz", headers={"X-Request-ID": "proxy-abc-12345"})
    assert kept["X-Request-ID"] == "proxy-abc-12345"
    refused = Client().get("/healthz", headers={"X-Request-ID": "bad\nvalue with spaces"})
    assert refused["X-Request-ID"] != "bad\nvalue with spaces"


def test_json_log_lines_carry_the_request_id():
    record = logging.makeLogRecord({"name": "webapp", "levelname": "WARNING", "msg": "slow %s", "args": ("turn",),
                                    "job_id": 7})
    token = request_id_var.set("rid-123")
    try:
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "slow turn" and line["request_id"] == "rid-123" and line["job_id"] == 7


def test_production_hides_the_api_docs_and_pages_work_without_collectstatic(tmp_path):
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "print(c.get('/api/schema/').status_code, c.get('/api/docs/').status_code,"
        " c.get('/accounts/login/').status_code)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "webapp.settings.prod", "ALLOWED_HOSTS": "testserver",
           "SECRET_KEY": "production-test-" + "k" * 50, "SECURE_SSL_REDIRECT": "false",
           "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "CELERY_BROKER_URL": "filesystem://",
           "RESONANCE_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    schema, docs, login = done.stdout.split()[-3:]
    assert schema in ("401", "403") and docs in ("401", "403") and login == "200", done.stdout


def test_a_dead_redis_cache_fails_open():
    from webapp.cache import ForgivingRedisCache

    dead = ForgivingRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    dead.set("k", "v")
    assert dead.get("k", "fallback") == "fallback" and dead.add("k", 1) is False and dead.get_many(["k"]) == {}


def test_an_unreachable_database_anywhere_in_a_request_is_a_503_not_a_500(rf):
    from django.db import OperationalError

    from webapp.errors import server_error

    request = rf.get("/annotate/demo/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(request).status_code == 500


def test_no_template_has_an_inline_script_the_content_security_policy_would_block():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handlers = re.compile(r"\son[a-z]+=\"", re.I)
    offenders = [
        str(path.relative_to(root))
        for app in ("annotations", "studies", "webapp", "ml")
        for path in (root / app).rglob("templates/**/*.html")
        if inline.search(path.read_text()) or handlers.search(path.read_text())
    ]
    assert offenders == [], f"inline scripts or on* handlers (move them to a static file): {offenders}"
