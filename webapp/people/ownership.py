"""Who may work on a project or a study: its owner, the researchers it is shared with, and administrators."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404


def owned_or_shared(queryset: QuerySet, user) -> QuerySet:
    """The rows of ``queryset`` (a model with ``owner`` and ``collaborators``) that ``user`` owns or collaborates
    on; every row for a superuser; none for anyone who is not a signed-in researcher."""
    if user is None or not user.is_authenticated or not user.is_researcher:
        return queryset.none()
    if user.is_superuser:
        return queryset
    shared = queryset.model.collaborators.through.objects.filter(user=user)
    column = f"{queryset.model._meta.model_name}_id"
    return queryset.filter(Q(owner=user) | Q(pk__in=shared.values(column)))


def owned_or_shared_get(queryset: QuerySet, user, *, slug: str):
    """The row called ``slug`` if ``user`` owns it or collaborates on it. Http404 for a researcher otherwise (also
    when it does not exist, so that slugs of other groups' rows are not revealed); PermissionDenied for other
    roles."""
    noun = queryset.model._meta.verbose_name
    if user is None or not user.is_authenticated or not user.is_researcher:
        raise PermissionDenied(f"only researchers work on {queryset.model._meta.verbose_name_plural}")
    found = owned_or_shared(queryset, user).filter(slug=slug).first()
    if found is None:
        raise Http404(f"no such {noun} among yours")
    return found


def may_manage(obj, user) -> bool:
    """Whether ``user`` may share, unshare or delete ``obj``: its owner or a superuser (not a collaborator)."""
    return bool(user is not None and user.is_authenticated and (user.is_superuser or obj.owner_id == user.pk))


class ShareError(ValueError):
    """A share or unshare cannot be done as asked; the message says why (names the user)."""


def collaborator_add(*, obj, username: str, by) -> None:
    """Shares ``obj`` (a project or a study) with the researcher called ``username``. Only its owner or a
    superuser shares (``by``; PermissionDenied otherwise, so a collaborator cannot pass it on); ShareError when
    no researcher has that name. Sharing with the owner, or twice, changes nothing."""
    if not may_manage(obj, by):
        raise PermissionDenied(f"only the {obj._meta.verbose_name}'s owner can share it")
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not user.is_researcher:
        raise ShareError(f"{username!r} is not a researcher on this platform")
    if user.pk != obj.owner_id:
        obj.collaborators.add(user)


def collaborator_remove(*, obj, username: str, by) -> None:
    """Takes ``obj`` back from the collaborator called ``username`` (owner or superuser only, PermissionDenied
    otherwise); ShareError when it is not shared with them."""
    if not may_manage(obj, by):
        raise PermissionDenied(f"only the {obj._meta.verbose_name}'s owner can unshare it")
    user = obj.collaborators.filter(username=username).first()
    if user is None:
        raise ShareError(f"this {obj._meta.verbose_name} is not shared with {username!r}")
    obj.collaborators.remove(user)
