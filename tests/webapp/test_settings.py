import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.settings.env import ConfigError, database_from_url, env_bool

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_the_deploy_check():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "webapp.settings.prod", "SECRET_KEY": secrets.token_urlsafe(50),
           "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
           "ALLOWED_HOSTS": "resonance.example.org"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "webapp.settings.prod"
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_database_urls_become_django_settings(tmp_path):
    pg = database_from_url("postgres://user:p%40ss@db.example:5433/resonance?sslmode=require", base_dir=tmp_path)
    assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == ("resonance", "user", "p@ss", "db.example", "5433")
    assert pg["OPTIONS"] == {"sslmode": "require"}
    lite = database_from_url("sqlite:///var/x.sqlite3", base_dir=tmp_path)
    assert lite["NAME"] == str(tmp_path / "var/x.sqlite3")
    with pytest.raises(ConfigError, match="mysql"):
        database_from_url("mysql://x/y", base_dir=tmp_path)


def test_malformed_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("DEBUG", "perhaps")
    with pytest.raises(ConfigError, match="DEBUG"):
        env_bool("DEBUG", False)
