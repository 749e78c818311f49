"""The language of the crowd pages. An annotator or participant reads the pages of a project or study in the
language its spec names (``language:``); researcher pages stay in ``LANGUAGE_CODE``, whatever the browser asks.

A crowd view is wrapped in ``crowd_page`` and calls ``crowd_language_use(spec)`` as soon as it holds the spec it
already reads, so choosing the language costs no query (the annotation and judging loops count theirs)."""

from __future__ import annotations

from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.utils import translation

_IN_CROWD_PAGE: ContextVar[bool] = ContextVar("in_crowd_page", default=False)


def crowd_page(view):
    """Decorates a crowd view: it runs in ``LANGUAGE_CODE`` until it calls ``crowd_language_use``, and the language
    the thread had before is back once it returns or raises, so no other request inherits the crowd's language."""

    @wraps(view)
    def in_its_language(request, *args, **kwargs):
        marker = _IN_CROWD_PAGE.set(True)
        try:
            with translation.override(settings.LANGUAGE_CODE):
                return view(request, *args, **kwargs)
        finally:
            _IN_CROWD_PAGE.reset(marker)

    return in_its_language


def crowd_language(spec: dict) -> str:
    """The language a stored spec names, if the site ships it; ``LANGUAGE_CODE`` otherwise (a spec stored before
    specs named one)."""
    language = spec.get("language")
    return language if isinstance(language, str) and language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def crowd_language_use(spec: dict) -> str:
    """Switches the rest of the current crowd view to the spec's language (gettext, templates, ``<html lang>``) and
    returns it. RuntimeError outside a ``crowd_page`` view: there the language would outlive the request."""
    if not _IN_CROWD_PAGE.get():
        raise RuntimeError("crowd_language_use is for views decorated with crowd_page")
    language = crowd_language(spec)
    translation.activate(language)
    return language
