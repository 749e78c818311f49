"""Writes on projects that are not imports: sharing with collaborators."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction

from annotations.models import Project


class ShareError(Exception):
    pass


@transaction.atomic
def project_share(*, project: Project, username: str, by=None) -> None:
    """Gives another researcher access to the project. Only its owner (or an administrator) shares: `by`, the
    user asking, gets PermissionDenied otherwise, so a collaborator cannot pass the project on."""
    if by is not None and by.id != project.owner_id and not by.is_superuser:
        raise PermissionDenied("only the project's owner can share it")
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not user.is_researcher:
        raise ShareError(f"{username!r} is not a researcher on this platform")
    if user.id != project.owner_id:
        project.collaborators.add(user)
