"""A device's own SQLite file (the edge's window outbox, the person's report outbox): the one
write transaction both use, and the one-line reason of a failure.

``BEGIN IMMEDIATE`` takes the write lock up front, so two processes on one file queue on it
(``busy_timeout``) instead of failing on a lock upgrade; any error rolls back, so nothing already
stored is half-changed, and an SQLite error becomes the caller's typed error with what it was doing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def failure_reason(exc: BaseException) -> str:
    """The short reason of an OS or SQLite error, for a one-line message ("disk is full")."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


@contextmanager
def write_transaction(
    db: sqlite3.Connection, doing: str, error: Callable[[str], Exception]
) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error; an SQLite error is raised
    as ``error(f"cannot {doing} ({reason})")``."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise error(f"cannot {doing} ({failure_reason(exc)})") from exc
    try:
        yield
        db.execute("COMMIT")
    except BaseException as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise error(f"cannot {doing} ({failure_reason(exc)})") from exc
        raise
