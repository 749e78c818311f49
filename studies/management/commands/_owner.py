"""Shared by the study commands: the study a slug names (who acts: ``webapp.people.acting``)."""

from django.core.management.base import CommandError

from studies.models import Study


def study_by_slug(slug: str) -> Study:
    study = Study.objects.filter(slug=slug).first()
    if study is None:
        raise CommandError(f"SLUG: no study {slug!r}")
    return study
