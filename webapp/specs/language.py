"""The language a project or study speaks to its crowd: the ``language:`` key of both specs.

The site's settings take their LANGUAGES from ``SPEC_LANGUAGES``, so a spec can name exactly the languages whose
catalogue ships in ``locale/``."""

from __future__ import annotations

from typing import Any

from webapp.specs.errors import SpecError

# code -> the language's own name; English first (the default, and the language the templates are written in)
SPEC_LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"


def language_check(value: Any, *, path: str = "") -> str:
    """The language code ``value`` names (left out or null: ``DEFAULT_LANGUAGE``); ``SpecError`` naming ``path``
    for anything but one of ``SPEC_LANGUAGES``."""
    if value is None:
        return DEFAULT_LANGUAGE
    if not isinstance(value, str) or value not in SPEC_LANGUAGES:
        offered = ", ".join(f"{code} ({name})" for code, name in SPEC_LANGUAGES.items())
        raise SpecError(path, f"{value!r} is not a language the crowd pages are shipped in; use one of {offered}")
    return value

