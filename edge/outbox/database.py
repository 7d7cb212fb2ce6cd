"""The outbox's SQLite database: opened with its settings, laid out, and checked to be this
device's; its state kept in a ``meta`` table of text values; a damaged one replaced.

A damaged file is moved aside and a fresh one holds every window that could still be read from
it, under its old number (the salvage itself is :mod:`edge.outbox.files`). What the windows and
their numbers mean is :class:`~edge.outbox.Outbox`'s business, not this module's.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from edge.errors import OutboxError
from edge.outbox.files import (
    Salvage,
    check,
    create_private,
    is_damage,
    limit_wal,
    move_aside,
    read_back,
    restore_into,
    salvageable,
)
from twitchwatch.contract import TwitchWatchError, WindowMessage
from twitchwatch.local_db import failure_reason, write_transaction

#: Bumped when the file layout changes; an older agent refuses a newer file.
SCHEMA = 1
#: A busy writer (another agent on the same file) is waited for this long, then it is an error.
BUSY_TIMEOUT_S = 5.0

log = logging.getLogger(__name__)


class _Damaged(Exception):
    """The file is damaged (SQLite's own words in ``args[0]``)."""


_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS windows (
    seq INTEGER PRIMARY KEY,
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    payload BLOB NOT NULL
);
"""


def open_database(path: Path, user: str, device: str) -> tuple[sqlite3.Connection, Salvage | None]:
    """Open (or create) ``path`` as ``user``'s ``device``'s outbox.

    Returns the connection and, if the file was damaged and replaced, what it held (None: it
    was sound). OutboxError if it cannot be opened, or belongs to another user or device.
    """
    try:
        return _connect(path, user, device), None
    except _Damaged as damaged:
        return _recover(path, user, device, str(damaged))


def _connect(path: Path, user: str, device: str) -> sqlite3.Connection:
    try:
        create_private(path)
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise OutboxError(path, f"cannot open it ({failure_reason(exc)})") from exc
    try:
        _set_up(db, path, user, device)
    except BaseException:
        db.close()
        raise
    return db


def _set_up(db: sqlite3.Connection, path: Path, user: str, device: str) -> None:
    try:
        # WAL: readers never block the writer; FULL: a commit is on disk when it returns.
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        db.execute("PRAGMA synchronous=FULL")
        limit_wal(db)
        problem = check(db)
    except sqlite3.Error as exc:
        if is_damage(exc):
            raise _Damaged(failure_reason(exc)) from exc
        raise OutboxError(path, f"cannot open it ({failure_reason(exc)})") from exc
    if problem is not None:
        raise _Damaged(problem)
    if str(mode).lower() != "wal":
        raise OutboxError(path, f"cannot use write-ahead logging (journal mode {mode})")
    with writing(db, path, "set it up"):
        for statement in _SCHEMA_SQL.split(";"):
            if statement.strip():
                db.execute(statement)
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if not meta:
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("schema", str(SCHEMA)),
                    ("user", user),
                    ("device", device),
                    ("next_seq", "1"),
                    ("acked_seq", "0"),
                    ("synced", "0"),
                ],
            )
            return
    if meta.get("schema") != str(SCHEMA):
        raise OutboxError(path, f"file format {meta.get('schema')!r}, expected {SCHEMA}")
    if (meta.get("user"), meta.get("device")) != (user, device):
        raise OutboxError(
            path,
            f"belongs to user {meta.get('user')!r} device {meta.get('device')!r}, "
            f"not {user!r} {device!r}; each device needs its own outbox",
        )


def _recover(
    path: Path, user: str, device: str, problem: str
) -> tuple[sqlite3.Connection, Salvage]:
    """Move the damaged file aside, open a fresh one, put back what can be read; say so."""
    try:
        if not salvageable(path):
            with path.open("rb") as f:
                start = f.read(16)
            raise OutboxError(
                path,
                f"cannot open it: not a SQLite database (starts with {start!r}): is "
                "[mqtt] outbox the right path?",
            )
        salvage = read_back(move_aside(path, problem))
    except OSError as exc:
        raise OutboxError(path, f"damaged ({problem}) and cannot be moved aside "
                          f"({failure_reason(exc)})") from exc  # fmt: skip
    db = _connect(path, user, device)

    def valid(end: str, payload: bytes) -> bool:
        try:
            read_message(end, payload, user, device)  # validated as the server will
        except (TwitchWatchError, ValueError):
            return False
        return True

    try:
        with writing(db, path, "restore what a damaged file held"):
            restore_into(db, salvage, valid)
    except BaseException:
        db.close()
        raise
    log.error(
        "outbox %s was damaged (%s): moved to %s; %s, sent as before",
        path, problem, salvage.moved_to.name, salvage.summary,
    )  # fmt: skip
    return db, salvage


# --- reading and writing -------------------------------------------------------------------------


def writing(db: sqlite3.Connection, path: Path, doing: str) -> AbstractContextManager[None]:
    """A write transaction on the outbox; an SQLite error becomes an OutboxError saying
    ``doing``."""
    return write_transaction(db, doing, lambda problem: OutboxError(path, problem))


def read(
    db: sqlite3.Connection, path: Path, doing: str, sql: str, args: tuple[object, ...] = ()
) -> list[tuple]:
    """The rows of one query; an SQLite error becomes an OutboxError saying ``doing``."""
    try:
        return db.execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        raise OutboxError(path, f"cannot {doing} ({failure_reason(exc)})") from exc


def meta_int(db: sqlite3.Connection, key: str) -> int:
    """A number in the ``meta`` table (0 if absent), inside the caller's transaction."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


def meta_text(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(db: sqlite3.Connection, key: str, value: object) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


def read_message(end: str, payload: bytes, user: str, device: str) -> WindowMessage:
    """A stored window's row back as a message, validated as the server will validate it."""
    return WindowMessage.from_payload(
        bytes(payload), user=user, device=device, now=datetime.fromisoformat(end).astimezone(UTC)
    )
