"""Running a test's callers at once (each in its own thread with its own database connection, released together),
and holding a row from another connection for a moment."""

import threading
from contextlib import contextmanager

from django.db import close_old_connections, connection, transaction


def at_once(target, count: int) -> list[Exception]:
    """Calls ``target(i)`` for i in 0..count-1, each in its own thread, all released by one barrier; returns the
    exceptions raised (each thread closes its connection, so the test database can be flushed)."""
    errors = []
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # surfaced to the caller
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@contextmanager
def row_held(queryset, *, for_seconds: float):
    """Locks the one row of ``queryset`` from another connection (as a concurrent turn would) before the block runs,
    and lets it go ``for_seconds`` into the block (or at its end, whichever comes first)."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                queryset.select_for_update().get()
                held.set()
                release.wait(5)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5), "the other connection never got the row"
    threading.Timer(for_seconds, release.set).start()
    try:
        yield
    finally:
        release.set()
        holder.join(5)
