"""Response headers every page gets: a Content-Security-Policy and a Permissions-Policy, and a request id.

The pages are htmx with local scripts only, so scripts are limited to this origin; styles also allow inline
`style` attributes (progress bars are drawn with them). The API docs page (Swagger UI) starts itself with an
inline script, so it alone may run one."""

from __future__ import annotations

import logging
import re
import uuid

from django.db import InterfaceError, OperationalError

from webapp.errors import database_unavailable
from webapp.logs import request_id_var

log = logging.getLogger(__name__)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
CSP_DOCS = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
                      "payment=(), usb=(), interest-cohort=()")
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class SecurityHeaders:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP_DOCS if request.path.startswith("/api/docs") else CSP)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RequestId:
    """Gives each request an id (the proxy's `X-Request-ID` when it sent a sane one), puts it on every log line
    written while the request runs and on the response, so a report and the logs can be matched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.id = given if _GIVEN_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.id
        return response



class DatabaseUnavailable:
    """A view that finds the database unreachable answers 503 (webapp.errors covers the rest of the request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("database unavailable: %s", type(exception).__name__)
        return database_unavailable(request)
