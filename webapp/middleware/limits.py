"""Rate limits on the endpoints a script would hammer: logins, crowd links (each creates an account), study
starts (each reserves pairs) and the annotation loop (each turn reserves an item).

Counted by django-ratelimit in the shared cache (Redis in production), per address or per user, at the rates of
`settings.RESONANCE_RATE_LIMITS`. Over the rate: 429 with `Retry-After`, and nothing is done."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django_ratelimit.core import is_ratelimited


def address_key(group: str, request) -> str:
    """The client's address (REMOTE_ADDR; behind a proxy, set it from the proxy's header in the WSGI server)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def person_key(group: str, request) -> str:
    """The signed-in user, or the API token (authentication by token happens later, in the view), or the address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    authorization = request.headers.get("Authorization", "")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode("utf-8", "replace")).hexdigest()[:32]
    return "address:" + address_key(group, request)


IP, PERSON = "webapp.middleware.limits.address_key", "webapp.middleware.limits.person_key"
# url name (with namespace) -> (limit name, key, methods counted)
LIMITED = {
    "login": ("login", IP, ("POST",)),
    "api-token": ("login", IP, ("POST",)),
    "annotations:join": ("join", IP, ("GET", "POST")),
    "studies:join": ("join", IP, ("GET", "POST")),
    "studies:participate_start": ("reserve", IP, ("POST",)),
    "annotations:annotate": ("annotate", PERSON, ("GET",)),
    "annotations:annotate_submit": ("annotate", PERSON, ("POST",)),
    "annotations:api_annotate_next": ("annotate", PERSON, ("GET",)),
    "annotations:api_annotate_submit": ("annotate", PERSON, ("POST",)),
    "annotations:api_annotate_skip": ("annotate", PERSON, ("POST",)),
}


class RateLimits:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        limited = LIMITED.get(match.view_name if match else "")
        if limited is None or not getattr(settings, "RATELIMIT_ENABLE", True):
            return None
        name, key, methods = limited
        rate = settings.RESONANCE_RATE_LIMITS[name]
        if not is_ratelimited(request, group=f"resonance-{name}", key=key, rate=rate, method=list(methods),
                              increment=True):
            return None
        message = f"Too many requests ({name}: at most {rate.replace('/m', ' a minute')}); wait a minute and try again."
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=429)
        else:
            response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "60"
        return response
