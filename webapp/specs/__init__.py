"""The spec language of projects and studies: reading YAML with its lines, the one error type, the pydantic
plumbing, the slug rule, the language, the hash, and the per-process cache of decoded specs. Imports no app."""

from webapp.specs.errors import SlugTaken, SpecError, SpecProblem
from webapp.specs.identity import RESERVED_SLUGS, slug_check, spec_hash
from webapp.specs.language import DEFAULT_LANGUAGE, SPEC_LANGUAGES, language_check
from webapp.specs.reading import spec_text_read, yaml_load_plain

__all__ = ["DEFAULT_LANGUAGE", "RESERVED_SLUGS", "SPEC_LANGUAGES", "SlugTaken", "SpecError", "SpecProblem",
           "language_check", "slug_check", "spec_hash", "spec_text_read", "yaml_load_plain"]
