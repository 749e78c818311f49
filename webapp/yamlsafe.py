"""YAML for documents people upload (specs): the safe loader, without aliases, bounded in size.

An alias (`*name`) repeats a whole subtree by reference, so a few kilobytes can expand to gigabytes once
the document is walked (a 117 kB study spec reached 277 MB). Specs never need them, so they are refused with
the line they are on."""

from __future__ import annotations

from typing import Any

import yaml

MAX_YAML_CHARS = 2_000_000


class YamlRefused(yaml.YAMLError):
    """The document uses a feature refused here (an alias) or is too large; the message says which and where."""

    def __init__(self, message: str, line: int | None = None):
        self.problem = message
        self.problem_mark = _Mark(line) if line is not None else None
        super().__init__(f"{message}" + (f" (line {line + 1})" if line is not None else ""))


class _Mark:
    def __init__(self, line: int):
        self.line = line


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlRefused(f"aliases (*{event.anchor}) are not allowed in a spec; write the value out",
                              event.start_mark.line)
        return super().compose_node(parent, index)


def yaml_load_plain(text: str) -> Any:
    """Parses YAML (or JSON, which is YAML) text with the safe loader, refusing aliases and documents over
    MAX_YAML_CHARS characters. Raises yaml.YAMLError (YamlRefused for those two) like yaml.safe_load."""
    if not isinstance(text, str):
        raise YamlRefused(f"a spec must be YAML or JSON text or a mapping, not {type(text).__name__}")
    if len(text) > MAX_YAML_CHARS:
        raise YamlRefused(f"a spec may be at most {MAX_YAML_CHARS:,} characters; this one has {len(text):,}")
    loader = _NoAliasLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
