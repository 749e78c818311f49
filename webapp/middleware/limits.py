"""Rate limits on the endpoints a script would hammer: logins, crowd links (each creates an account), study
starts (each reserves pairs) and the annotation loop (each turn reserves an item).

Counted by django-ratelimit in the shared cache (Redis in production), per address or per user, at the rates of
`settings.RESONANCE_RATE_LIMITS`. Over the rate: 429 with `Retry-After`, and nothing is done."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django_ratelimit.core import is_ratelimited

# url name (with namespace) -> (limit name, key, methods counted)
LIMITED = {
    "login": ("login", "ip", ("POST",)),
    "api-token": ("login", "ip", ("POST",)),
    "join": ("join", "ip", ("GET", "POST")),
    "studies:join": ("join", "ip", ("GET", "POST")),
    "studies:participate_start": ("reserve", "ip", ("POST",)),
    "annotate": ("annotate", "user_or_ip", ("GET",)),
    "annotate_submit": ("annotate", "user_or_ip", ("POST",)),
    "api_annotate_next": ("annotate", "user_or_ip", ("GET",)),
    "api_annotate_submit": ("annotate", "user_or_ip", ("POST",)),
    "api_annotate_skip": ("annotate", "user_or_ip", ("POST",)),
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
