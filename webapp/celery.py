"""The Celery app. Queues by hardware: `gpu` (generation, scoring, training) and `default` (exports, reports)."""

import os

from celery import Celery
from celery.signals import worker_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings.dev")

app = Celery("resonance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("gpu"))
app.conf.task_routes = {"jobs.run_gpu": {"queue": "gpu"}, "jobs.run_default": {"queue": "default"}}
app.autodiscover_tasks()


@worker_init.connect
def _embedded_broker_folders(**_):
    from webapp.jobs.broker import embedded_broker_folders_make

    embedded_broker_folders_make(app)
