"""CSV cells that a spreadsheet will not run (plain Python).

A cell whose text begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice and
Google Sheets as a formula (CSV injection: `=HYPERLINK(...)`, `=cmd|...`). Such text gets a leading apostrophe,
which spreadsheets show as text and hide; numbers are left as they are. JSON exports never pass through here."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell_neutralised(value: Any) -> Any:
    """The cell to write: text that a spreadsheet would run as a formula is prefixed with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
