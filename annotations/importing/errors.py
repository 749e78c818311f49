"""The one error every importer raises, pointing at file, line and field."""

from __future__ import annotations


class ImportFormatError(ValueError):
    """A malformed line in an import file. ``line`` is 1-based (0 when the whole file is at fault)."""

    def __init__(self, file: str, line: int, field: str | None, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        where = f"{file}, line {line}" if line else file
        if field:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")
