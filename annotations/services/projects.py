"""Writes on projects that are not imports: sharing with collaborators."""

from django.contrib.auth import get_user_model
from django.db import transaction

from annotations.models import Project


class ShareError(Exception):
    pass


@transaction.atomic
def project_share(*, project: Project, username: str) -> None:
    """Gives another researcher access to the project."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not user.is_researcher:
        raise ShareError(f"{username!r} is not a researcher on this platform")
    if user.id != project.owner_id:
        project.collaborators.add(user)
