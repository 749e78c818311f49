"""YAML for documents people upload (specs): the safe loader, without aliases, bounded in size, keeping the line
of every key path so that errors can say where.

An alias (``*name``) repeats a whole subtree by reference, so a few kilobytes can expand to gigabytes once
the document is walked (a 117 kB study spec reached 277 MB). Specs never need them, so they are refused with
the line they are on."""

from __future__ import annotations

from typing import Any

import yaml

from webapp.specs.errors import SpecError

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


def _check_size(text: Any) -> None:
    if not isinstance(text, str):
        raise YamlRefused(f"a spec must be YAML or JSON text or a mapping, not {type(text).__name__}")
    if len(text) > MAX_YAML_CHARS:
        raise YamlRefused(f"a spec may be at most {MAX_YAML_CHARS:,} characters; this one has {len(text):,}")


def yaml_load_plain(text: str) -> Any:
    """Parses YAML (or JSON, which is YAML) text with the safe loader, refusing aliases and documents over
    MAX_YAML_CHARS characters. Raises yaml.YAMLError (YamlRefused for those two) like yaml.safe_load."""
    _check_size(text)
    loader = _NoAliasLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def spec_text_read(text: str) -> tuple[dict, dict[str, int]]:
    """Reads spec text (YAML or JSON) into a mapping and the 1-based line of every key path in it
    (``{"dimensions[2].type": 9, ...}``, paths written as ``SpecError`` writes them).

    Raises ``SpecError``: path ``line N`` for a syntax error, an alias or a document over the size limit, and
    the empty path when the document is not a mapping."""
    try:
        _check_size(text)
        loader = _NoAliasLoader(text)
        try:
            node = loader.get_single_node()
            try:
                data = loader.construct_document(node) if node is not None else None
            except (ValueError, TypeError) as exc:  # a tagged or dated scalar that does not convert (2020-13-45)
                line = _first_unconvertible_line(loader, node)
                raise SpecError(f"line {line}" if line else "", f"not valid YAML/JSON ({exc})", line=line) from exc
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SpecError(f"line {line}" if line else "", f"not valid YAML/JSON ({getattr(exc, 'problem', exc)})",
                        line=line) from exc
    if not isinstance(data, dict):
        raise SpecError("", "a spec must be a mapping of keys to values")
    lines: dict[str, int] = {}
    _collect_lines(node, "", lines)
    return data, lines


def _first_unconvertible_line(loader: yaml.SafeLoader, node: yaml.Node) -> int | None:
    if isinstance(node, yaml.ScalarNode):
        try:
            loader.construct_object(node, deep=True)
        except (ValueError, TypeError, yaml.YAMLError):
            return node.start_mark.line + 1
        return None
    children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
    for child in children:
        line = _first_unconvertible_line(loader, child)
        if line is not None:
            return line
    return None


def _collect_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            child = f"{path}.{key}" if path else str(key)
            lines[child] = key_node.start_mark.line + 1
            _collect_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines[child] = item.start_mark.line + 1
            _collect_lines(item, child, lines)
