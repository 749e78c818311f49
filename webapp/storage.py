"""Static files storage for production that degrades instead of failing when `collectstatic` was not run."""

from __future__ import annotations

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

log = logging.getLogger(__name__)


class ForgivingManifestStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed names from the manifest as usual; a name missing from it (no `collectstatic`, or a file
    added since) gets its plain URL, which WhiteNoise serves from the apps' static folders, and a warning."""

    manifest_strict = False

    def url(self, name, force=False):
        try:
            return super().url(name, force)
        except ValueError:
            log.warning("static file %s is not in the manifest: run `manage.py collectstatic`", name)
            return self._url(lambda plain: plain, name, force)
