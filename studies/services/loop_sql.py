"""Plain SQL for the judging loop, the statements every judgment runs.

``slots_fetch`` reads a participant's slots with everything the pair page shows in one statement. The ORM
equivalent (``select_related`` over pair, prompt, both responses and the attention check) spent more CPU
compiling its SQL than the database spent answering it, so the statement is written once here and the rows
are turned into the usual model instances (``Assignment`` with ``pair.prompt``, ``pair.response_a``,
``pair.response_b`` or ``attention_check`` set), holding only the fields the flow and the page use. Portable
SQL: PostgreSQL and SQLite both run it.

``judgment_store_postgres`` is the common write of ``judgment_submit`` (a pair slot that is not the last)
as one PostgreSQL statement, where the ORM needs five round trips (BEGIN, claim the slot, insert the
judgments, move the participant on, COMMIT). It writes exactly the rows the ORM path writes
(``tests/studies/test_loop_sql.py`` compares them).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache

from django.db import connection

from studies.models import Assignment, AttentionCheck, Judgment, Pair, Participant, Prompt, Response

_COLUMNS = ("a.id", "a.participant_id", "a.position", "a.token", "a.status", "a.pair_id", "a.attention_check_id",
            "a.system_a_id", "a.system_b_id", "a.left", "p.prompt_id", "p.response_a_id", "p.response_b_id",
            "pr.context", "ra.text", "rb.text", "ac.context", "ac.good", "ac.bad")


@cache
def _statement(count: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(f"{table}.{quote(column)}" for table, column in (c.split(".") for c in _COLUMNS))
    return (
        f"SELECT {columns} FROM {quote(Assignment._meta.db_table)} a "
        f"LEFT JOIN {quote(Pair._meta.db_table)} p ON p.id = a.pair_id "
        f"LEFT JOIN {quote(Prompt._meta.db_table)} pr ON pr.id = p.prompt_id "
        f"LEFT JOIN {quote(Response._meta.db_table)} ra ON ra.id = p.response_a_id "
        f"LEFT JOIN {quote(Response._meta.db_table)} rb ON rb.id = p.response_b_id "
        f"LEFT JOIN {quote(AttentionCheck._meta.db_table)} ac ON ac.id = a.attention_check_id "
        f"WHERE a.participant_id = %s AND a.position IN ({', '.join(['%s'] * count)})"
    )


def _json(value):
    # drivers hand JSON columns back as text (Django decodes them in from_db_value, which is bypassed here)
    return json.loads(value) if isinstance(value, str | bytes) else value


def _slot(row: tuple) -> Assignment:
    (pk, participant_id, position, token, status, pair_id, check_id, system_a_id, system_b_id, left, prompt_id,
     response_a_id, response_b_id, prompt_context, a_text, b_text, check_context, good, bad) = row
    slot = Assignment(id=pk, participant_id=participant_id, position=position, token=token, status=status,
                      system_a_id=system_a_id, system_b_id=system_b_id, left=left)
    if pair_id is not None:
        slot.pair = Pair(id=pair_id, prompt=Prompt(id=prompt_id, context=_json(prompt_context)),
                         response_a=Response(id=response_a_id, text=a_text),
                         response_b=Response(id=response_b_id, text=b_text),
                         system_a_id=system_a_id, system_b_id=system_b_id)
    if check_id is not None:
        slot.attention_check = AttentionCheck(id=check_id, context=_json(check_context), good=good, bad=bad)
    return slot


def slots_fetch(*, participant_id: int, positions: tuple[int, ...]) -> dict[int, Assignment]:
    """The participant's slots at ``positions`` (those that exist), by position, ready for ``slot_blind``.

    The instances are read-only views: only the fields the judging flow uses are filled, so never ``save()``
    one (update by ``pk`` instead)."""
    with connection.cursor() as cursor:
        cursor.execute(_statement(len(positions)), [participant_id, *positions])
        rows = cursor.fetchall()
    return {row[2]: _slot(row) for row in rows}


_JUDGMENT_COLUMNS = (("study_id", "bigint"), ("participant_id", "bigint"), ("assignment_id", "bigint"),
                     ("pair_id", "bigint"), ("prompt_id", "bigint"), ("system_a_id", "bigint"),
                     ("system_b_id", "bigint"), ("choice", "varchar"), ("left", "varchar"), ("criterion", "varchar"),
                     ("strength", "smallint"), ("rationale", "text"), ("seconds", "double precision"),
                     ("created_at", "timestamptz"), ("source", "varchar"))


@cache
def _store_statement(criteria: int) -> str:
    quote = connection.ops.quote_name
    # one SELECT per judgment row, each FROM claimed: no row is inserted unless the slot was claimed
    row = "SELECT " + ", ".join(f"%s::{kind}" for _, kind in _JUDGMENT_COLUMNS) + " FROM claimed"
    return (
        f"WITH claimed AS (UPDATE {quote(Assignment._meta.db_table)} SET status = %s, answered_at = %s, seconds = %s"
        f" WHERE id = %s AND status = %s RETURNING id), "
        f"judged AS (INSERT INTO {quote(Judgment._meta.db_table)} "
        f"({', '.join(quote(name) for name, _ in _JUDGMENT_COLUMNS)}) {' UNION ALL '.join([row] * criteria)} "
        f"RETURNING 1) "
        f"UPDATE {quote(Participant._meta.db_table)} SET position = %s, last_seen_at = %s, expires_at = %s"
        f" WHERE id = %s AND EXISTS (SELECT 1 FROM claimed) RETURNING (SELECT count(*) FROM judged)"
    )


def judgment_store_postgres(*, participant: Participant, slot: Assignment, judgments: list[Judgment],
                            now: datetime, expires_at: datetime) -> bool:
    """Claims ``slot`` (reserved → done), inserts ``judgments`` and moves ``participant`` to the next position,
    all or nothing, in one statement. Returns False (nothing written) when the slot was no longer reserved.

    For a pair slot that is not the participant's last; ``judgments`` are unsaved rows for it."""
    params: list = [Assignment.Status.DONE, now, judgments[0].seconds, slot.pk, Assignment.Status.RESERVED]
    for judgment in judgments:
        params += [getattr(judgment, name) for name, _ in _JUDGMENT_COLUMNS[:-2]]
        params += [now, Judgment.Source.PLATFORM]
    params += [participant.position + 1, now, expires_at, participant.pk]
    with connection.cursor() as cursor:
        cursor.execute(_store_statement(len(judgments)), params)
        row = cursor.fetchone()
    return row is not None
