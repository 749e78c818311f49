"""Reads of jobs with the access checks. A job is visible to the researcher who launched it and to
whoever may see its target (the target's registered rule); superusers see all."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from webapp.jobs.models import Job
from webapp.jobs.registry import targets


def _is_researcher(user) -> bool:
    return bool(user and user.is_authenticated and user.is_researcher)


def jobs_for_user(*, user) -> QuerySet[Job]:
    if not _is_researcher(user):
        return Job.objects.none()
    jobs = Job.objects.select_related("created_by", "target_type").prefetch_related("target")
    if user.is_superuser:
        return jobs.all()
    visible = Q(created_by=user)
    for target in targets().values():
        visible |= Q(target_type=ContentType.objects.get_for_model(target.model),
                     target_id__in=target.visible(user=user).values("pk"))
    return jobs.filter(visible)


def job_get_for_user(*, user, pk: int) -> Job:
    """The job if ``user`` may see it; PermissionDenied otherwise (also when it does not exist)."""
    job = jobs_for_user(user=user).filter(pk=pk).first()
    if job is None:
        raise PermissionDenied("no such job among yours")
    return job


def job_target_for_user(*, user, data: dict):
    """The target a launch names by one registered target field (``{"project": slug}``), checked for
    ``user`` by the target's own rule (PermissionDenied / Http404 as it answers); None when the launch
    names none. ``JobError`` on the field when it names more than one."""
    from webapp.jobs.errors import JobError

    named = [(name, data[name]) for name in targets() if data.get(name)]
    if len(named) > 1:
        raise JobError("give one target, not " + " and ".join(name for name, _ in named), field=named[1][0])
    if not named:
        return None
    name, key = named[0]
    return targets()[name].get_for_user(user=user, key=key)
