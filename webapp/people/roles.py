"""Role checks for pages (decorators) and for the API (DRF permission classes)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission


def _role_required(check):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(user):
                raise PermissionDenied("your role may not open this page")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


researcher_required = _role_required(lambda user: user.is_researcher)
annotator_required = _role_required(lambda user: user.role == "annotator")
participant_required = _role_required(lambda user: user.role == "participant")


class IsResearcher(BasePermission):
    message = "Only researchers may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_researcher)


class IsAnnotator(BasePermission):
    message = "Only annotators may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.role == "annotator")


class IsParticipant(BasePermission):
    message = "Only study participants may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.role == "participant")


MODEL_MANAGERS = "model managers"
MODEL_PERMISSIONS = ("ml.add_modelversion", "ml.change_modelversion")


def can_manage_models(user) -> bool:
    """Registering and promoting model versions is a role of its own: members of the "model managers" group (or
    anyone given both model permissions), and administrators. Being a researcher is not enough."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perms(MODEL_PERMISSIONS)))
