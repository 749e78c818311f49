"""`manage.py demo [--serve] [--port 8000]`: demo accounts, projects, study; with --serve a worker and the site."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from webapp.demo import loading

WORKER_STOP_SECONDS = 15


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = ("Loads demo accounts, one project per preset with demo items, and a demo blinded study (idempotent). "
            "With --serve, also starts a Celery worker (queues default and gpu) and the web server.")

    def add_arguments(self, parser):
        parser.add_argument("--serve", action="store_true", help="start a Celery worker and the web server")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, serve: bool, port: int, host: str, **options):
        password = loading.demo_password()
        accounts = loading.demo_accounts_ensure(password=password)
        self.stdout.write("accounts: " + ", ".join(accounts))
        projects = loading.demo_projects_load(owner=accounts["researcher"], collaborator=accounts["collaborator"])
        for project in projects:
            added = f", {project.imported_now} imported now" if project.imported_now else ""
            self.stdout.write(f"project {project.slug}: {project.items} {project.kind} items{added}")
        study = loading.demo_study_load(owner=accounts["researcher"])
        if study is not None:
            self.stdout.write(f"study {study.slug}: {study.prompts.count()} prompts, "
                              f"{'open' if study.is_open else 'not open'}")
        models = loading.demo_models_register()
        self.stdout.write("models: " + (", ".join(models) if models else "no model registry in this tree (skipped)"))
        if not serve:
            self._banner(f"http://{host}:{port}/", password, projects, study, serving=False)
            return
        worker = self._start_worker()
        try:
            self._check_worker(worker)
            self._banner(f"http://{host}:{port}/", password, projects, study, serving=True)
            # SIGTERM (e.g. from a supervisor) should stop the worker the same way Ctrl-C does.
            signal.signal(signal.SIGTERM, _interrupt)
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop_worker(worker)

    def _start_worker(self) -> subprocess.Popen:
        broker_dir = Path(settings.BROKER_DIR)
        if settings.CELERY_BROKER_URL.startswith("filesystem"):
            broker_dir.mkdir(parents=True, exist_ok=True)
        log_path = Path(settings.VAR_DIR) / "demo-worker.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "webapp.settings.dev")}
        command = [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", "default,gpu", "-c", "1",
                   "-P", "solo", "--loglevel", "INFO", "--hostname", f"demo@{os.uname().nodename}",
                   "--beat", "--schedule", str(Path(settings.VAR_DIR) / "celerybeat-schedule")]
        self.stdout.write(f"starting Celery worker (log: {log_path})")
        log = log_path.open("ab")
        # A new session, so Ctrl-C in the terminal reaches us first and we stop the worker ourselves, once.
        return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def _check_worker(self, worker: subprocess.Popen) -> None:
        from webapp.tasks import ping_roundtrip

        for queue in ("default", "gpu"):
            try:
                seconds = ping_roundtrip(queue=queue, timeout=90)
            except TimeoutError as exc:
                state = "exited" if worker.poll() is not None else "running"
                raise CommandError(f"{exc} (worker {state}; see var/demo-worker.log)") from exc
            self.stdout.write(f"worker round trip on queue {queue}: {seconds:.2f} s")

    def _stop_worker(self, worker: subprocess.Popen) -> None:
        if worker.poll() is not None:
            return
        self.stdout.write("\nstopping the Celery worker")
        worker.send_signal(signal.SIGTERM)  # warm shutdown: finishes the task in hand
        try:
            worker.wait(WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()

    def _banner(self, base_url: str, password: str, projects, study, *, serving: bool) -> None:
        write = self.stdout.write
        write("")
        if serving:
            write(self.style.SUCCESS(f"Open {base_url}"))
        write(f"Logins (password for all: {password}):")
        write("  researcher    researcher (owns the demo projects and study)")
        write("  researcher    collaborator (the projects are shared with them)")
        write("  annotators    " + ", ".join(loading.ANNOTATORS) + f" (log in, then open {base_url}p/<slug>/)")
        if projects:
            # The pair project walks through every stage (consent, survey, instructions, items, final survey).
            slugs = [project.slug for project in projects]
            first = next((slug for slug in slugs if "pair" in slug), slugs[0])
            write(f"Annotator crowd link, e.g.: {base_url}p/{first}/?PROLIFIC_PID=demo1&STUDY_ID=s&SESSION_ID=x")
            write("Projects: " + ", ".join(project.slug for project in projects))
        if study is not None and study.is_open:
            write(f"Study participant link: {base_url}s/{study.slug}/?PROLIFIC_PID=demo1&STUDY_ID=s&SESSION_ID=x")
        write(f"API docs: {base_url}api/docs/")
        if serving:
            write("Press Ctrl-C to stop the web server and the worker.")
        write("")
        self.stdout.flush()
