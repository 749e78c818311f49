"""The one error a spec (project or study) raises: a list of problems, each with its key path, YAML line and a
plain message."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong with a spec. ``path`` names the key (``dimensions[2].type``; empty for the document),
    ``line`` is the 1-based YAML line of that key when the spec came as text, ``message`` says why in plain words."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line is not None and self.path != f"line {self.line}" else ""
        return f"{self.path}: {self.message}{where}" if self.path else f"{self.message}{where}"


class SpecError(ValueError):
    """A spec is invalid. ``problems`` lists every problem found (at least one); ``path``, ``message`` and
    ``line`` are the first one's. ``str()`` starts with the first problem's path: ``judgments_per_pair: must be
    at least 1 (line 7)``. Raised inside a spec model's validator, its paths are read relative to the field
    being validated, unless ``paths_are_absolute`` (a problem in another file the spec names)."""

    paths_are_absolute = False

    def __init__(self, path: str = "", message: str = "", *, line: int | None = None,
                 problems: list[SpecProblem] | None = None):
        self.problems = list(problems) if problems else [SpecProblem(path, message, line)]
        first = self.problems[0]
        self.path, self.message, self.line = first.path, first.message, first.line
        super().__init__("; ".join(str(problem) for problem in self.problems))

    def located(self, lines: dict[str, int] | None) -> SpecError:
        """The same problems with the YAML line of each path (or of its nearest enclosing key) filled in from
        ``lines`` (see ``webapp.specs.reading.spec_text_read``); self when there is nothing to add."""
        if not lines:
            return self
        problems = [problem if problem.line is not None else replace(problem, line=line_of(lines, problem.path))
                    for problem in self.problems]
        if problems == self.problems:
            return self
        located = SpecError(problems=problems)
        located.__cause__ = self.__cause__
        return located


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path`` or of the closest key above it (``a.b[2].c`` -> ``a.b[2]`` -> ``a.b`` -> ``a``)."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return None
        path = path[:cut]
    return None


class SlugTaken(SpecError):
    """Creating a project or study with a slug another one already has: refused, never an update (409)."""

    def __init__(self, slug: str, what: str):
        super().__init__("slug", f"a {what} {slug!r} already exists; choose another slug (or edit that {what})")
