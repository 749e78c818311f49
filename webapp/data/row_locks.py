"""Row-lock clauses for hand-written SQL: one of the two places the write paths' SQL differs between databases (the
other, whether dependent writes join into one statement, is ``webapp.data.statements``).

PostgreSQL runs writers side by side, so a statement that picks a row to take locks it, and concurrent takers pass
over each other's rows (``FOR UPDATE SKIP LOCKED``) instead of queueing behind them. SQLite runs one writer at a
time: there is nothing to lock or to skip, and the clauses do not exist there, so they come out empty.
"""

from django.db import connection


def row_lock(*, skip_locked: bool = True, of: str = "", share: bool = False) -> str:
    """The locking clause to end a SELECT (or a sub-SELECT) with: ``FOR UPDATE [OF of] [SKIP LOCKED]``, or
    ``FOR SHARE [OF of]`` with ``share``; "" where the database has no row locks. ``skip_locked=False`` waits for
    a row another transaction holds, then sees it as that transaction left it."""
    features = connection.features
    if not features.has_select_for_update:
        return ""
    clause = "FOR SHARE" if share else "FOR UPDATE"
    if of:
        clause += f" OF {of}"
    if skip_locked and not share:
        clause += " SKIP LOCKED"
    return clause
