"""Who acts in a management command (``--owner``, ``--user``): a researcher named by username."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from webapp.people.models import User


def acting_researcher(username: str | None, *, option: str = "--owner", default_first: bool = False):
    """The researcher called ``username``. ``CommandError`` naming the option, the user and their role when no
    such user exists or they are not a researcher (an annotator cannot own a project).

    Without a name: the first superuser, else the first researcher, when ``default_first`` (CommandError when
    there is none), otherwise None (the command records nobody)."""
    users = get_user_model().objects
    if username:
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"{option}: no user called {username!r}")
        if not user.is_researcher:
            raise CommandError(f"{option}: {username!r} has the role {user.role!r}, not researcher; "
                               "name a researcher")
        return user
    if not default_first:
        return None
    user = (users.filter(is_superuser=True).order_by("pk").first()
            or users.filter(role=User.Role.RESEARCHER).order_by("pk").first())
    if user is None:
        raise CommandError(f"no researcher account exists; create one or pass {option} USERNAME")
    return user
