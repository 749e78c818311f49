"""Text no database column can hold (plain Python, no Django): NUL characters and lone surrogates.

PostgreSQL text and jsonb cannot store U+0000, and a lone surrogate (U+D800-U+DFFF) cannot be encoded as UTF-8."""

from __future__ import annotations


def text_problem(value: str) -> str | None:
    """Why this text cannot be stored, or None."""
    if "\x00" in value:
        return "contains a NUL character (\\x00)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode)"
    return None


def json_problem(data, path: str = "") -> str | None:
    """The first string (key or value) in parsed JSON that cannot be stored, as `path: why`; None if all can."""
    stack = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                return f"{where or 'the body'}: {problem}"
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key)
                if problem is not None:
                    return f"{where or 'the body'}: a key {problem}"
                stack.append((f"{where}.{key}" if where else key, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
    return None
