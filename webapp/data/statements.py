"""Several dependent writes run as one statement where the database can, written once for PostgreSQL and SQLite.

A turn's writes hang together: the assignment is finished only if its label went in, the counters move only if
the assignment did. Each write is a ``Part``: an ``INSERT … RETURNING`` or ``UPDATE … RETURNING`` (or a plain
``SELECT``) that reads the rows the parts before it returned by their names, as tables (``WHERE id = (SELECT
item_id FROM label)``), and ``statements_run`` then reads them all with one ``SELECT`` over those names.

- PostgreSQL: the parts become data-modifying CTEs, ``WITH label AS (…), finish AS (…) SELECT …``: one round trip,
  atomic on its own, so outside a transaction it needs no BEGIN and COMMIT around it.
- SQLite has no data-modifying WITH: the same parts run one after another in one transaction (IMMEDIATE, so the
  write lock is held from its start and nothing can come between them), each behind a ``WITH name(columns) AS
  (VALUES …)`` prefix carrying the rows the parts before it returned; the final SELECT runs last the same way.

Contract for the parts, so that both readings mean the same: a part never reads a table an earlier part of the
same run changes (PostgreSQL shows every part the tables as they were when the statement began, SQLite as they
are after the earlier parts); what earlier parts did is read through their names only. A part that should write
nothing when an earlier one wrote nothing says so in its condition (``AND EXISTS (SELECT 1 FROM label)``): that
dependency is also what orders the writes, and their row locks, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction


@dataclass(frozen=True)
class Part:
    name: str  # how later parts and the result read its rows
    sql: str  # INSERT/UPDATE … RETURNING plain column names (or aliases), or a SELECT
    params: Sequence = ()


def statements_run(parts: Sequence[Part], *, result: str, params: Sequence = ()) -> list[tuple]:
    """Runs ``parts`` in order and returns the rows of ``result`` (a SELECT over the parts' names, with
    ``params``): as one statement on PostgreSQL, in one transaction on SQLite (see the module's docstring). Inside
    a caller's transaction it is part of it."""
    if statements_join():
        return _joined(parts, result, params)
    return _in_order(parts, result, params)


def statements_join() -> bool:
    """Whether the database joins the parts into one statement (data-modifying WITH: PostgreSQL) or runs them one
    after another (SQLite). The one place the choice is made."""
    return connection.vendor == "postgresql"


def _joined(parts: Sequence[Part], result: str, params: Sequence) -> list[tuple]:
    sql = "WITH " + ", ".join(f"{part.name} AS ({part.sql})" for part in parts) + " " + result
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for part in parts for value in part.params] + list(params))
        return cursor.fetchall()


def _in_order(parts: Sequence[Part], result: str, params: Sequence) -> list[tuple]:
    prefixes: list[str] = []
    carried: list = []
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for part in parts:
            cursor.execute(_prefixed(prefixes, part.sql), [*carried, *part.params])
            rows = cursor.fetchall()
            columns = [column[0] for column in cursor.description]
            prefixes.append(_carrier(part.name, columns, len(rows)))
            carried += [value for row in rows for value in row]
        cursor.execute(_prefixed(prefixes, result), [*carried, *params])
        return cursor.fetchall()


def _prefixed(prefixes: list[str], sql: str) -> str:
    return f"WITH {', '.join(prefixes)} {sql}" if prefixes else sql


def _carrier(name: str, columns: list[str], count: int) -> str:
    """A CTE handing a later statement the ``count`` rows a part returned (bound as parameters)."""
    header = f"{name}({', '.join(connection.ops.quote_name(column) for column in columns)})"
    if not count:
        return f"{header} AS (SELECT {', '.join(['NULL'] * len(columns))} WHERE 0)"
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"{header} AS (VALUES {', '.join([row] * count)})"
