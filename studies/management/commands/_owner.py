"""Shared by the study commands: who acts, and the study a slug names."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from studies.models import Study


def acting_researcher(username: str | None):
    """The named researcher, or the only/first superuser when none is named."""
    users = get_user_model().objects
    if username:
        user = users.filter(username=username).first()
        if user is None or not user.is_researcher:
            raise CommandError(f"--owner: no researcher called {username!r}")
        return user
    user = users.filter(is_superuser=True).order_by("pk").first() or users.filter(role="researcher").order_by("pk").first()
    if user is None:
        raise CommandError("no researcher account exists; create one or pass --owner USERNAME")
    return user


def study_by_slug(slug: str) -> Study:
    study = Study.objects.filter(slug=slug).first()
    if study is None:
        raise CommandError(f"SLUG: no study {slug!r}")
    return study
