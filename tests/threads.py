"""Running a test's callers at once: each in its own thread with its own database connection, released together."""

import threading

from django.db import close_old_connections, connection


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
