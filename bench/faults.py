"""Faults on the real stack, loopback only, each on processes this script starts (and stops, by pid):

    python bench/faults.py            # annotators for 40 s, PostgreSQL restarted twice, a 300k-label export killed
    python bench/faults.py --quick    # 10 annotators for 15 s, one restart, a 40k-label export killed

--quick was meant to take under a minute; on a shared two-core host at load 8-10 it took 80 s before fault (3) and
110 s with it (two worker starts and the export twice add some 25 s).

(1) PostgreSQL restarted mid-load, on a cluster of its own (initdb in a temporary folder, run as the `postgres`
    user when this script runs as root): requests during the outage fail cleanly (503, never 500), the loop
    recovers, and nothing is half-written (the soak's audit: no lost answer, no stale counter, no leak).
(2) Redis down (the broker pointed at a closed port): /healthz says "degraded" with the broker's part, the
    annotation page still answers 200.
(3) A Celery worker (prefork, as production runs one) killed with SIGKILL mid-job: a label export of 300k labels
    (--quick: 40k) is launched, the worker's process group is killed while the job row says running and before
    its file exists, and a worker is started again under the same name (as systemd restarts `default@%H`). The
    job must end succeeded within a bounded time, exactly once: two attempts recorded, one job row, one file and
    its manifest in the job's folder, one line per label and no line twice, and no further run afterwards.
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
from _worker import BenchWorker  # noqa: E402
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


LABELS_PER_ITEM = 10


def _labels_insert(slug: str, total: int) -> int:
    """COPYs ``total`` labels, ``LABELS_PER_ITEM`` annotators per item of the seeded project (setup, not measured)."""
    import json

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from annotations.models import Project

    project = Project.objects.get(slug=slug)
    user_model = get_user_model()
    annotators = [user.pk for user in user_model.objects.bulk_create(
        [user_model(username=f"faults-annotator-{i}", role=user_model.Role.ANNOTATOR)
         for i in range(LABELS_PER_ITEM)])]
    items = list(project.items.order_by("id").values_list("id", flat=True))
    now = timezone.now()
    with connection.cursor() as cursor, cursor.cursor.copy(
            "COPY annotations_label (project_id, item_id, annotator_id, values, seconds, source, created_at) "
            "FROM STDIN") as copy:
        for index in range(total):
            copy.write_row((project.pk, items[index // LABELS_PER_ITEM], annotators[index % LABELS_PER_ITEM],
                            json.dumps({"empathy": 1 + index % 5}), 4.0, "import", now))
    return total


def _job_state(job_id: int) -> tuple[str, int, str]:
    from webapp.jobs.models import Job

    return Job.objects.filter(pk=job_id).values_list("status", "attempts", "worker").get()


def _export_folder_files(job_id: int) -> list[str]:
    from django.core.files.storage import default_storage

    folder = f"exports/job-{job_id}"
    return sorted(default_storage.listdir(folder)[1]) if default_storage.exists(folder) else []


def _export_lines(job_id: int) -> tuple[int, int]:
    """(lines, distinct label ids) of the job's export file."""
    import json

    from django.core.files.storage import default_storage

    from webapp.jobs.models import Job
    from webapp.jobs.services import job_file

    name = job_file(Job.objects.get(pk=job_id))
    keys, lines = set(), 0
    with default_storage.open(name, "rb") as handle:
        for line in handle:
            row = json.loads(line)
            keys.add(row["label_id"])
            lines += 1
    return lines, len(keys)


def worker_sigkill(*, database_url: str, labels: int, deadline_s: float) -> dict:
    from django.db import connections

    from annotations.jobs import export_job_launch
    from annotations.models import Project
    from webapp.jobs.models import Job, targeting

    slug = project_seed(-(-labels // LABELS_PER_ITEM), "faults-worker")
    _labels_insert(slug, labels)
    project = Project.objects.get(slug=slug)
    folder = Path(tempfile.mkdtemp(prefix="resonance-faults-worker-"))
    worker = BenchWorker(database_url=database_url, name=f"faults-{os.getpid()}@bench", log_path=folder / "worker.log")
    ready_s = worker.start()
    job = export_job_launch(project=project, created_by=project.owner, fmt="jsonl")  # enqueued at once (autocommit)
    launched = time.monotonic()
    status = "queued"
    while status == "queued" and time.monotonic() - launched < deadline_s:
        status = _job_state(job.pk)[0]
        time.sleep(0.02)
    claimed_after_s = time.monotonic() - launched
    time.sleep(0.3)  # into the export, well before its end
    status_at_kill, attempts_at_kill, _ = _job_state(job.pk)
    files_at_kill = _export_folder_files(job.pk)
    pid = worker.process.pid
    worker.kill()
    killed = time.monotonic()
    print(f"worker {pid} killed (SIGKILL) {claimed_after_s + 0.3:.2f} s after launch: job {status_at_kill}, attempt "
          f"{attempts_at_kill}, files {files_at_kill}", file=sys.stderr, flush=True)
    time.sleep(1.0)
    still_after_kill = _job_state(job.pk)[0]  # nobody may finish or fail it while no worker runs
    restart_s = worker.start()
    status = still_after_kill
    while status in ("queued", "running") and time.monotonic() - killed < deadline_s:
        status = _job_state(job.pk)[0]
        time.sleep(0.1)
    recovered_s = time.monotonic() - killed
    time.sleep(1.0)  # a duplicate delivery would run now
    final_status, attempts, _ = _job_state(job.pk)
    files = _export_folder_files(job.pk)
    lines, distinct = _export_lines(job.pk) if final_status == "succeeded" else (0, 0)
    recovered_in_log = "re-enqueued jobs orphaned by a previous worker" in worker.log()
    worker.stop()
    connections.close_all()
    shutil.rmtree(folder, ignore_errors=True)
    figures = {
        "labels": labels, "worker_ready_s": round(ready_s, 2), "worker_restart_s": round(restart_s, 2),
        "status_at_kill": status_at_kill, "files_at_kill": len(files_at_kill), "status_after_kill": still_after_kill,
        "status": final_status, "attempts": attempts, "recovered_in_s": round(recovered_s, 2),
        "recovered_by_restart": recovered_in_log,
        "job_rows": Job.objects.filter(targeting(project), kind="export").count(),
        "files": len(files), "export_lines": lines, "duplicate_lines": lines - distinct,
    }
    figures["ok"] = (status_at_kill == "running" and not files_at_kill and still_after_kill == "running"
                     and final_status == "succeeded" and attempts == 2 and figures["job_rows"] == 1
                     and len(files) == 2 and lines == labels and distinct == labels
                     and recovered_s < deadline_s)
    print(f"after the restart: job {final_status} in {recovered_s:.1f} s, {attempts} attempts, files {files}, "
          f"{lines} lines ({lines - distinct} repeated)", file=sys.stderr, flush=True)
    return figures


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    annotators, seconds, restarts = (10, 15.0, 1) if args.quick else (30, 40.0, 2)
    labels = 40_000 if args.quick else 300_000
    with own_cluster() as (database_url, restart):
        migrate(database_url=database_url)
        django_setup(database_url=database_url)
        results = {"postgres_restart": postgres_restart(database_url=database_url, restart=restart,
                                                        annotators=annotators, seconds=seconds, restarts=restarts),
                   "redis_down": redis_down(database_url=database_url),
                   "worker_sigkill": worker_sigkill(database_url=database_url, labels=labels, deadline_s=60.0)}
    results["ok"] = all(part["ok"] for part in results.values())
    print_result("faults", results)


if __name__ == "__main__":
    main()
