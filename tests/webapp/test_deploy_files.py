"""The production walk-through's files (webapp/deploy/) say what the code does: the environment file names every
setting production reads, the units start real commands on real queues, and the web unit's own command line,
run here on the loopback, answers behind a proxy that sets X-Forwarded-Proto."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "webapp" / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED = "/opt/resonance"
SETTINGS = [ROOT / "webapp" / "settings" / name for name in ("base.py", "prod.py", "env.py")]
NOT_FOR_OPERATORS = {"CI", "DEBUG"}  # CI marks test runs; production settings fix DEBUG off


def _unit(name: str) -> dict[str, list[str]]:
    """A systemd unit's keys (all sections together; a key given twice, like ExecStartPre, keeps both)."""
    keys: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def _environment_file() -> dict[str, str]:
    """Every variable the example names, set or commented out, with its example value."""
    found = {}
    for line in (DEPLOY / "resonance.env.example").read_text().splitlines():
        match = re.match(r"#?([A-Z][A-Z0-9_]+)=(.*)$", line)
        if match:
            found[match[1]] = match[2]
    return found


def test_the_environment_file_names_every_setting_production_reads():
    read = set()
    for path in SETTINGS:
        read |= set(re.findall(r"""env_(?:str|int|bool|list)\(\s*["']([A-Z0-9_]+)["']""", path.read_text()))
        read |= set(re.findall(r"""environ(?:\.get)?\(\s*["']([A-Z0-9_]+)["']""", path.read_text()))
    assert read, "the pattern found no setting: the test would pass vacuously"
    missing = read - NOT_FOR_OPERATORS - set(_environment_file())
    assert not missing, f"resonance.env.example lacks {sorted(missing)}"


@pytest.mark.parametrize("name, queue", [("resonance-worker.service", "default"), ("resonance-gpu@.service", "gpu"),
                                         ("resonance-gpu-host.service", "gpu")])
def test_each_worker_unit_serves_a_queue_the_tasks_are_routed_to(name, queue):
    from webapp.celery import app

    command = shlex.split(_unit(name)["ExecStart"][0])
    assert command[0] == f"{INSTALLED}/.venv/bin/celery" and command[1:4] == ["-A", "webapp", "worker"]
    assert command[command.index("-Q") + 1] == queue
    assert queue in {q.name for q in app.conf.task_queues}
    assert _unit(name)["EnvironmentFile"] == ["/etc/resonance/resonance.env"]


def test_a_gpu_worker_sees_only_its_own_card_and_runs_one_task_at_a_time():
    unit = _unit("resonance-gpu@.service")
    assert "CUDA_VISIBLE_DEVICES=%i" in unit["Environment"]
    command = shlex.split(unit["ExecStart"][0])
    assert command[command.index("-c") + 1] == "1" and command[command.index("-P") + 1] == "solo"


def test_the_host_wide_gpu_worker_sees_every_card_and_runs_one_task_at_a_time():
    unit = _unit("resonance-gpu-host.service")
    assert not any(line.startswith("CUDA_VISIBLE_DEVICES") for line in unit.get("Environment", []))
    command = shlex.split(unit["ExecStart"][0])
    assert command[command.index("-c") + 1] == "1" and command[command.index("-P") + 1] == "solo"


def test_beat_runs_the_stale_job_sweep():
    from django.conf import settings

    command = shlex.split(_unit("resonance-beat.service")["ExecStart"][0])
    assert command[1:4] == ["-A", "webapp", "beat"]
    assert settings.CELERY_BEAT_SCHEDULE, "beat would have nothing to run"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict) -> tuple[int, dict, bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _web_command(port: int) -> list[str]:
    """The web unit's ExecStart as written, with the install folder replaced by this checkout and its port by a
    free one: the very command line an operator installs."""
    command = shlex.split(_unit("resonance-web.service")["ExecStart"][0])
    command[0] = command[0].replace(f"{INSTALLED}/.venv/bin", str(Path(sys.executable).parent))
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"
    return command


def test_the_web_units_command_answers_behind_a_proxy_that_sets_the_scheme(tmp_path):
    from webapp.settings.services import in_ci, reachable

    if not reachable("127.0.0.1", 6379):
        if in_ci():
            pytest.fail("Redis is not reachable on 127.0.0.1:6379 (CI needs it)")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379: production's cache and broker")
    example = _environment_file()
    assert example["DJANGO_SETTINGS_MODULE"] == "webapp.settings.prod"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": example["DJANGO_SETTINGS_MODULE"],
           "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": example["ALLOWED_HOSTS"],
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
           "RESONANCE_VAR_DIR": str(tmp_path / "var"), "RESONANCE_MEDIA_ROOT": str(tmp_path / "media"),
           "RESONANCE_MODEL_STORE": str(tmp_path / "models"), "RESONANCE_PROXY_COUNT": example["RESONANCE_PROXY_COUNT"]}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    port = _free_port()
    server = subprocess.Popen(_web_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        host = {"Host": example["ALLOWED_HOSTS"]}
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, body = _get(f"http://127.0.0.1:{port}/healthz", host)
                break
            except (ConnectionError, urllib.error.URLError):
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.5)
        assert status == 200 and b'"database"' in body  # the load balancer's probe, over plain HTTP
        status, headers, _ = _get(f"http://127.0.0.1:{port}/accounts/login/", host)
        assert status == 301 and headers["Location"].startswith("https://")  # without the proxy's word: to HTTPS
        status, headers, page = _get(f"http://127.0.0.1:{port}/accounts/login/",
                                     {**host, "X-Forwarded-Proto": "https", "X-Request-ID": "from-the-proxy-1"})
        assert status == 200 and b"password" in page.lower()
        assert headers["X-Request-ID"] == "from-the-proxy-1"
        assert "Strict-Transport-Security" in headers
    finally:
        server.terminate()
        server.wait(15)
