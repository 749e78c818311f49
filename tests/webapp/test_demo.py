"""The demo a new user sees with `make run`: loads once, and a second run changes nothing."""

import pytest
from django.core.management import call_command

from annotations.models import Item, Project
from webapp.people.models import User

pytestmark = pytest.mark.django_db


def _counts():
    return (User.objects.count(), Project.objects.count(), Item.objects.count())


def test_demo_loads_a_project_per_preset_with_items_and_is_idempotent(monkeypatch, tmp_path, settings):
    monkeypatch.setenv("RESONANCE_DEMO_PASSWORD", "demo-pass-123")
    call_command("demo", "--no-training")  # the training runs: test_demo_training.py
    first = _counts()
    call_command("demo", "--no-training")
    assert _counts() == first
    assert Project.objects.filter(slug__startswith="demo-").count() >= 5
    assert all(project.items.exists() for project in Project.objects.all())
    researcher = User.objects.get(username="researcher")
    assert researcher.is_researcher and researcher.check_password("demo-pass-123")
    assert Item.objects.filter(distressing=True).exists()
