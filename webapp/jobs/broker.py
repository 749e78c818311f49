"""The embedded (filesystem) broker of a one-command start: its folders, which kombu expects to exist."""

from __future__ import annotations

from pathlib import Path


def embedded_broker_folders_make(app) -> None:
    """Creates the folders of the embedded (filesystem) broker, which kombu expects to exist: a fresh checkout
    whose first launch comes from the web, before any worker started, would otherwise fail it. No-op for Redis."""
    if not str(app.conf.broker_url or "").startswith("filesystem"):
        return
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
