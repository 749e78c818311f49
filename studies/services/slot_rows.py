"""A participant's slots as the turn and the page use them, read by hand-written SQL (``judging`` reads them with
the participant, ``reservation`` with the pairs it has just reserved for them).

The instances are read-only views holding only the fields the turn and the page use (``Assignment`` with
``pair.prompt``, ``pair.response_a``, ``pair.response_b`` or ``attention_check`` set): never ``save()`` one,
update by ``pk``.
"""

from __future__ import annotations

import json
from functools import cache

from django.db import connection

from studies.models import Assignment, AttentionCheck, Pair, Prompt, Response
from webapp.data.raw_rows import quoted, table_name

_SLOT_COLUMNS = ("a.id", "a.participant_id", "a.position", "a.token", "a.status", "a.pair_id",
                 "a.attention_check_id", "a.system_a_id", "a.system_b_id", "a.left", "p.prompt_id",
                 "p.response_a_id", "p.response_b_id", "pr.context", "ra.text", "rb.text", "ac.context", "ac.good",
                 "ac.bad")
SLOT_COLUMN_COUNT = len(_SLOT_COLUMNS)


def _json(value):
    # drivers hand JSON columns back as text (Django decodes them in from_db_value, which is bypassed here)
    return json.loads(value) if isinstance(value, str | bytes) else value


def slot_columns() -> str:
    """The columns ``slot_from_row`` reads, from a slot row named ``a`` joined by ``slot_joins``."""
    return ", ".join(f"{table}.{quoted(column)}" for table, column in (c.split(".") for c in _SLOT_COLUMNS))


def slot_joins() -> str:
    """What a slot row named ``a`` (the assignment's columns) is joined with for the page."""
    return (f"LEFT JOIN {table_name(Pair)} p ON p.id = a.pair_id "
            f"LEFT JOIN {table_name(Prompt)} pr ON pr.id = p.prompt_id "
            f"LEFT JOIN {table_name(Response)} ra ON ra.id = p.response_a_id "
            f"LEFT JOIN {table_name(Response)} rb ON rb.id = p.response_b_id "
            f"LEFT JOIN {table_name(AttentionCheck)} ac ON ac.id = a.attention_check_id")


def slot_from_row(row) -> Assignment:
    """The read-only view of one slot from the ``slot_columns`` of a row."""
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


@cache
def _slots_statement(count: int) -> str:
    return (f"SELECT {slot_columns()} FROM {table_name(Assignment)} a {slot_joins()} "
            f"WHERE a.participant_id = %s AND a.position IN ({', '.join(['%s'] * count)})")


def slots_fetch(*, participant_id: int, positions: tuple[int, ...]) -> dict[int, Assignment]:
    """The participant's slots at ``positions`` (those that exist), by position, ready for ``slot_blind``. The
    instances are read-only views (see the module's docstring)."""
    with connection.cursor() as cursor:
        cursor.execute(_slots_statement(len(positions)), [participant_id, *positions])
        rows = cursor.fetchall()
    return {row[2]: slot_from_row(row) for row in rows}
