"""Input that no database column can hold is refused at the door with a 400 naming where it was.

PostgreSQL text and jsonb cannot store NUL (U+0000), and a lone surrogate (U+D800–U+DFFF) cannot be encoded as
UTF-8 at all: either used to reach the database as a 500. JSON's NaN and Infinity are not JSON, and jsonb
refuses them. Query and form parameters are checked by `RefuseUnstorableInput`; JSON bodies by
`StrictJSONParser`, the API's JSON parser."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from webapp.data.unstorable import json_problem, text_problem


def _params_problem(request) -> tuple[str, str] | None:
    sources = [("query parameter", request.GET)]
    if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                             "multipart/form-data"):
        sources.append(("form field", request.POST))
    for where, params in sources:
        for key, values in params.lists():
            problem = text_problem(key)
            if problem is not None:
                return f"a {where} name", problem
            for value in values:
                problem = text_problem(value)
                if problem is not None:
                    return f"the {where} {key!r}", problem
    return None


class RefuseUnstorableInput:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            found = _params_problem(request)
        except MultiPartParserError as exc:  # e.g. a multipart body without its boundary
            return _refusal(request, f"the form body cannot be read: {exc}")
        if found is None:
            return self.get_response(request)
        where, problem = found
        return _refusal(request, f"{where} {problem}, which cannot be stored; remove it and try again")


def _refusal(request, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponse(message, status=400, content_type=f"text/plain; charset={settings.DEFAULT_CHARSET}")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class StrictJSONParser(JSONParser):
    """JSON without NaN/Infinity, NUL characters or lone surrogates; each refused with where it was."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error: the body is not valid {encoding} (byte {exc.start})") from exc
        if not text.strip():
            raise ParseError("JSON parse error: the body is empty")
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error: {exc}") from exc
        problem = json_problem(data)
        if problem is not None:
            raise ParseError(f"{problem}, which cannot be stored")
        return data
