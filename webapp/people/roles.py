"""Role checks for pages (decorators) and for the API (DRF permission classes): the one place a view asks
"may this person's role open this?"; views never compare `user.role` by hand."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from webapp.people.models import User

Role = User.Role


def is_annotator(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.ANNOTATOR)


def is_researcher(user) -> bool:
    return bool(user and user.is_authenticated and user.is_researcher)


def researcher_required(view):
    """Researcher pages: a visitor who is not signed in is sent to sign in; a signed-in person of another role
    gets a 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_researcher:
            raise PermissionDenied("your role may not open this page")
        return view(request, *args, **kwargs)

    return wrapped


ANNOTATOR_ONLY = "open the project link to annotate"


def annotator_required(view):
    """Annotator pages: anyone who is not a signed-in annotator gets a 403 that says to open the project link
    (annotators arrive by recruitment links, with no password to sign in with)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_annotator(request.user):
            raise PermissionDenied(ANNOTATOR_ONLY)
        return view(request, *args, **kwargs)

    return wrapped


class IsResearcher(BasePermission):
    message = "Only researchers may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_researcher(request.user)


class IsAnnotator(BasePermission):
    message = "Only annotators may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_annotator(request.user)


MODEL_MANAGERS = "model managers"
MODEL_PERMISSIONS = ("ml.add_modelversion", "ml.change_modelversion")


def can_manage_models(user) -> bool:
    """Registering and promoting model versions is a role of its own: members of the "model managers" group (or
    anyone given both model permissions), and administrators. Being a researcher is not enough."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perms(MODEL_PERMISSIONS)))
