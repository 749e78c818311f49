"""What names a spec and what it hashes to, the same for projects and studies."""

from __future__ import annotations

import hashlib
import json
import re

from webapp.specs.errors import SpecError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
# /projects/new/ and /studies/new/ are the editors: a project or study of that name could not be opened
RESERVED_SLUGS = frozenset({"new"})


def slug_check(slug: object, *, path: str = "slug") -> str:
    """The slug if it is 3-60 lower-case letters, digits or hyphens (not at either end) and not reserved;
    ``SpecError`` naming ``path`` otherwise."""
    if slug is None or (isinstance(slug, str) and not slug.strip()):
        raise SpecError(path, "is required")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise SpecError(path, f"{slug!r} must be 3-60 lower-case letters, digits or hyphens "
                              "(a letter or digit at each end)")
    if slug in RESERVED_SLUGS:
        raise SpecError(path, f"{slug!r} is reserved for the platform's own pages; choose another")
    return slug


def spec_hash(spec: dict) -> str:
    """sha256 hex digest of the canonical JSON of a normalised spec (sorted keys, no spaces, UTF-8 text):
    two specs that mean the same thing hash alike, whatever their key order or format."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
