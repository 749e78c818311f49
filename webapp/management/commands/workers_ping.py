import json

from django.core.management.base import BaseCommand, CommandError

from webapp.celery import app


class Command(BaseCommand):
    help = ("Pings the Celery workers and says which queues have a worker listening (default, gpu). Prints one "
            "JSON line; exits with an error when a queue has none (--queue to check only some).")

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for answers")
        parser.add_argument("--queue", action="append", help="a queue that must have a worker (repeatable)")

    def handle(self, *args, timeout, queue, **options):
        wanted = queue or [q.name for q in app.conf.task_queues]
        try:
            inspector = app.control.inspect(timeout=timeout)
            answers = inspector.active_queues() or {}
            pings = inspector.ping() or {}
        except Exception as exc:  # noqa: BLE001 - the broker itself is unreachable
            raise CommandError(f"cannot reach the broker ({type(exc).__name__}: {exc})") from exc
        queues = {name: sorted(worker for worker, listening in answers.items()
                               if any(q.get("name") == name for q in listening or []))
                  for name in wanted}
        report = {"workers": sorted(pings), "queues": queues, "ok": all(queues.values())}
        self.stdout.write(json.dumps(report))
        if not report["ok"]:
            missing = ", ".join(name for name, workers in queues.items() if not workers)
            raise CommandError(f"no worker listens on: {missing}")
