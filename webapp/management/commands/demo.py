"""`manage.py demo [--serve] [--port 8000] [--no-training]`: demo accounts, projects, study, an earlier round of
labels and two training runs on them; with --serve a worker (which runs the training) and the site."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from webapp.demo import loading, training
from webapp.jobs.models import Queue

WORKER_STOP_SECONDS = 15
TRAINING_POLL_SECONDS = 2


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = ("Loads demo accounts, one project per preset with demo items, and a demo blinded study (idempotent). "
            "With --serve, also starts a Celery worker (queues default and gpu) and the web server.")

    def add_arguments(self, parser):
        parser.add_argument("--serve", action="store_true", help="start a Celery worker and the web server")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-training", action="store_true",
                            help="do not launch the demo's reward-model and bi-encoder training runs")
        parser.add_argument("--reward-base", default=None, metavar="VERSION",
                            help="the model version the demo's reward model trains from (default: MiniLM)")
        parser.add_argument("--bi-encoder-base", default=None, metavar="VERSION",
                            help="the model version the demo's bi-encoder trains from (default: MiniLM)")

    def handle(self, *args, serve: bool, port: int, host: str, no_training: bool, reward_base, bi_encoder_base,
               **options):
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
        for loaded in training.demo_round_load():
            self.stdout.write(f"earlier round (synthetic) in {loaded.slug}: {loaded.items_imported} items imported, "
                              f"{loaded.labels_written} labels written")
        bases = self._bases({"reward-model": ("--reward-base", reward_base),
                             "bi-encoder": ("--bi-encoder-base", bi_encoder_base)})
        base_url = f"http://{host}:{port}/"
        if not serve:
            runs = [] if no_training else self._launch(accounts["researcher"], bases)
            self._banner(base_url, password, projects, study, runs, serving=False)
            return
        worker = self._start_worker()
        try:
            self._check_worker(worker)
            # Launched once the worker answers, so the jobs' pages show them running rather than waiting.
            runs = [] if no_training else self._launch(accounts["researcher"], bases)
            self._banner(base_url, password, projects, study, runs, serving=True)
            self._watch(base_url, runs)
            # SIGTERM (e.g. from a supervisor) should stop the worker the same way Ctrl-C does.
            signal.signal(signal.SIGTERM, _interrupt)
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop_worker(worker)

    def _bases(self, options: dict[str, tuple[str, str | None]]) -> dict:
        """recipe -> the model version named by its option (recipes whose option is not given are left out)."""
        from ml.models import ModelVersion

        bases = {}
        for recipe, (option, name) in options.items():
            if name:
                bases[recipe] = ModelVersion.objects.filter(name=name).first()
                if bases[recipe] is None:
                    raise CommandError(f"{option}: no model version called {name!r}")
        return bases

    def _launch(self, researcher, bases: dict) -> list[training.DemoTraining]:
        from webapp.jobs.errors import JobError

        self._broker_ready()
        runs = []
        for run in training.DEMO_RUNS:
            try:
                runs.append(training.demo_training_ensure(run=run, researcher=researcher, base=bases.get(run.recipe)))
            except JobError as exc:  # the rest of the demo still works; say why this run is missing
                self.stdout.write(self.style.WARNING(f"{run.label} not launched: {exc}"))
        return runs

    def _watch(self, base_url: str, runs: list[training.DemoTraining]) -> None:
        """Prints each run's outcome (version page, wall time) as it finishes, beside the web server's log."""
        pending = [run for run in runs if not run.job.is_finished]
        if not pending:
            return

        def watch():
            from django.db import connection

            try:
                while pending:
                    time.sleep(TRAINING_POLL_SECONDS)
                    for run in list(pending):
                        run.job.refresh_from_db()
                        if run.job.is_finished:
                            pending.remove(run)
                            self.stdout.write(self._outcome(base_url, run))
                            self.stdout.flush()
            finally:
                connection.close()

        threading.Thread(target=watch, name="demo-training-watch", daemon=True).start()

    def _outcome(self, base_url: str, run: training.DemoTraining) -> str:
        """One line for a run: where its job is, and once done where its version is and how long it took."""
        from django.urls import reverse

        from ml.models import ModelVersion

        job = run.job
        job.refresh_from_db()
        earlier = "" if run.launched_now else ", launched by an earlier demo"
        what = f"{run.run.label} ({run.run.recipe} on {run.run.project_slug}{earlier})"
        page = f"{base_url.rstrip('/')}{reverse('jobs:job_detail', args=[job.pk])}"
        if not job.is_finished:
            return f"  {what}: {job.status}, job page {page}"
        if job.status != job.Status.SUCCEEDED:
            return f"  {what}: {job.status} ({job.error or 'no reason recorded'}), job page {page}"
        version = ModelVersion.objects.get(pk=job.result["version_id"])
        record = version.training_settings["record"]
        lineage = f"{base_url.rstrip('/')}{reverse('ml:model_detail', args=[version.pk])}"
        return (f"  {what}: trained {version.name} in {training.run_wall_seconds(job):.1f} s on the worker "
                f"({record['steps']} steps in {record['train_seconds']:.1f} s); lineage page {lineage} "
                f"(job page {page})")

    def _broker_ready(self) -> None:
        """The embedded (filesystem) broker needs its folder before anything is published or consumed."""
        if settings.CELERY_BROKER_URL.startswith("filesystem"):
            Path(settings.BROKER_DIR).mkdir(parents=True, exist_ok=True)

    def _start_worker(self) -> subprocess.Popen:
        self._broker_ready()
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

        for queue in (Queue.DEFAULT, Queue.GPU):
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

    def _banner(self, base_url: str, password: str, projects, study, runs, *, serving: bool) -> None:
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
        if runs:
            where = "the worker started here" if serving else "a worker (`make run` starts one)"
            write(f"Training on the demo labels, run by {where}; log in as researcher for the pages:")
            for run in runs:
                write(self._outcome(base_url, run))
        if serving:
            write("Press Ctrl-C to stop the web server and the worker.")
        write("")
        self.stdout.flush()
