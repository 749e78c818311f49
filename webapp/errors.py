"""The 404 handler: a path under /api/ that names no endpoint answers JSON like every API refusal.

The 500 handler: an unreachable database (restarting, failing over) answers 503 with Retry-After instead, from
wherever in the request it was noticed (a session or user load in middleware, not only a view)."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.views.defaults import page_not_found as default_page_not_found
from django.views.defaults import server_error as default_server_error

UNAVAILABLE = "The database is unavailable for a moment; nothing was stored. Please try again."


def database_unavailable(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE}, status=503)
    else:
        response = HttpResponse(UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "5"
    return response


def server_error(request, *args, **kwargs):
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        return database_unavailable(request)
    return default_server_error(request, *args, **kwargs)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return default_page_not_found(request, exception)
