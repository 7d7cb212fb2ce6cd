"""Reports that wait for the broker: a small SQLite file, so nothing a person reports is lost.

A report is stored here (and on disk: WAL with ``synchronous=FULL``) before anything is sent, and
leaves only once the broker has acknowledged it (QoS 1 PUBACK). A broker that cannot be reached
leaves it here for the next ``twitchwatch log`` (or ``twitchwatch log --flush``). Sending one
twice is harmless: each report carries the id `twitchwatch log` gave it (stored in its payload),
so a resend replaces the report it repeats instead of adding another.

The file also remembers the last time zone seen in each person's profile on the broker, so that
``--at`` reads local times in the person's zone when the broker cannot be reached.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from person.errors import ReportOutboxError
from twitchwatch.contract import Report, check_id, format_utc, parse_utc
from twitchwatch.local_db import failure_reason, write_transaction

#: Bumped when the file layout changes; an older client refuses a newer file.
SCHEMA = 1
BUSY_TIMEOUT_S = 5.0

_SCHEMA_SQL = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS reports (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL,
        t_utc TEXT NOT NULL,
        payload BLOB NOT NULL,
        added_utc TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS zones (
        user_id TEXT PRIMARY KEY,
        tz TEXT NOT NULL,
        seen_utc TEXT NOT NULL
    )""",
)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A stored report: its row id (to delete it once acknowledged) and the report."""

    id: int
    user: str
    report: Report


class ReportOutbox:
    """Reports not yet acknowledged by the broker, oldest first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ReportOutboxError(path, f"cannot open it ({failure_reason(exc)})") from exc
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        try:
            # WAL: a reader never blocks the writer; FULL: a commit is on disk when it returns.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise ReportOutboxError(self.path, f"cannot open it ({failure_reason(exc)})") from exc
        with self._writing("set it up"):
            for statement in _SCHEMA_SQL:
                self._db.execute(statement)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA,))
            elif row[0] != str(SCHEMA):
                raise ReportOutboxError(self.path, f"file format {row[0]!r}, expected {SCHEMA}")

    def _writing(self, doing: str) -> AbstractContextManager[None]:
        """This file's write transaction; an SQLite error becomes a ReportOutboxError saying
        ``doing``."""
        return write_transaction(
            self._db, doing, lambda problem: ReportOutboxError(self.path, problem)
        )

    def add(self, user: str, report: Report, now: datetime | None = None) -> Waiting:
        """Store a report; it is on disk when this returns.

        The payload is validated as the server will validate it (PayloadError if not).
        """
        payload = report.to_payload()
        Report.from_payload(payload, now=now)
        with self._writing("store a report"):
            cursor = self._db.execute(
                "INSERT INTO reports (user_id, t_utc, payload, added_utc) VALUES (?, ?, ?, ?)",
                (
                    check_id(user, "user"),
                    format_utc(report.t),
                    payload,
                    format_utc(now or datetime.now(UTC)),
                ),
            )
        assert cursor.lastrowid is not None
        return Waiting(cursor.lastrowid, user, report)

    def waiting(self, user: str | None = None) -> list[Waiting]:
        """Stored reports (of ``user``, or of everyone), oldest first."""
        sql = "SELECT id, user_id, t_utc, payload FROM reports"
        args: tuple[str, ...] = ()
        if user is not None:
            sql, args = sql + " WHERE user_id = ?", (user,)
        try:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        except sqlite3.Error as exc:
            raise ReportOutboxError(self.path, f"cannot read it ({failure_reason(exc)})") from exc
        # Read against its own time: the clock was checked when it was stored, and how old it
        # has become since is the server's to judge.
        return [
            Waiting(i, u, Report.from_payload(bytes(p), now=parse_utc(t, "outbox", "t_utc")))
            for i, u, t, p in rows
        ]

    def remove(self, waiting: Waiting) -> None:
        """The broker acknowledged it: forget it."""
        with self._writing("forget a sent report"):
            self._db.execute("DELETE FROM reports WHERE id = ?", (waiting.id,))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM reports").fetchone()[0])

    def known_zone(self, user: str) -> str | None:
        """The time zone last seen in ``user``'s profile on the broker (None: never seen)."""
        row = self._db.execute("SELECT tz FROM zones WHERE user_id = ?", (user,)).fetchone()
        return None if row is None else str(row[0])

    def remember_zone(self, user: str, tz: str, now: datetime | None = None) -> None:
        with self._writing("remember a time zone"):
            self._db.execute(
                "INSERT INTO zones (user_id, tz, seen_utc) VALUES (?, ?, ?) ON CONFLICT (user_id) "
                "DO UPDATE SET tz = excluded.tz, seen_utc = excluded.seen_utc",
                (user, tz, format_utc(now or datetime.now(UTC))),
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ReportOutbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
