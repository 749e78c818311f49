"""Test settings: PostgreSQL when reachable (always under CI), else SQLite, announced loudly."""

import os
import tempfile
from pathlib import Path

from webapp.settings.base import *  # noqa: F403
from webapp.settings.base import BASE_DIR, CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_BROKER_URL
from webapp.settings.env import database_from_url
from webapp.settings.services import reachable, require_or_fall_back

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/resonance")
if _url.startswith("postgres"):
    _db = database_from_url(_url, base_dir=BASE_DIR)
    if require_or_fall_back("PostgreSQL", reachable(_db["HOST"] or "127.0.0.1", int(_db["PORT"] or 5432)), "SQLite"):
        DATABASES = {"default": _db}
    else:
        DATABASES = {"default": database_from_url("sqlite:///var/test.sqlite3", base_dir=BASE_DIR)}
else:
    DATABASES = {"default": database_from_url(_url, base_dir=BASE_DIR)}
# One test database per run, so parallel runs (and the worker processes a run starts) never collide.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ.setdefault("RESONANCE_TEST_DB", f"test_resonance_{os.getpid()}")}
DATABASES["default"]["CONN_MAX_AGE"] = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

STATIC_ROOT = None  # static files come from the apps through the finders

# Suites drive many participants and turns from one address within a minute; the limits' own tests set them low.
RESONANCE_RATE_LIMITS = {"login": "1000/m", "join": "1000/m", "reserve": "1000/m", "annotate": "10000/m"}

# A run's embedded broker has its own folder, so what its launches publish never reaches a `make run` worker
# (a worker a test starts names its own folder through RESONANCE_VAR_DIR).
if CELERY_BROKER_URL.startswith("filesystem") and "RESONANCE_VAR_DIR" not in os.environ:
    BROKER_DIR = Path(tempfile.gettempdir()) / f"resonance-test-broker-{os.getpid()}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "data_folder_in": str(BROKER_DIR),
                                       "data_folder_out": str(BROKER_DIR), "control_folder": str(BROKER_DIR / "control")}
