"""The durable outbox: every window is stored here, numbered, before anything is published.

One SQLite file per (user, device). A window gets the device's next ``seq`` in the same
transaction that stores it, so a number is never handed out twice, even across a power cut
(WAL with ``synchronous=FULL``: a committed window survives one). Rows leave only when the
server's ack covers them: the broker's PUBACK is not enough, because a broker may drop a message
it acknowledged (queue limits, a restart without persistence).

If the file is lost or replaced, the server's ack may lie beyond every number this file has
given: :meth:`Outbox.fast_forward` then moves numbering (and what is waiting) past it, because the
server ignores a seq it has already stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from edge.errors import OutboxError
from twitchwatch.contract import (
    SiteWindow,
    WindowMessage,
    check_id,
    format_utc,
    parse_utc,
)

#: Bumped when the file layout changes; an older agent refuses a newer file.
SCHEMA = 1
#: A busy writer (another agent on the same file) is waited for this long, then it is an error.
BUSY_TIMEOUT_S = 5.0

_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS windows (
    seq INTEGER PRIMARY KEY,
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    payload BLOB NOT NULL
);
"""


class Outbox:
    """Windows of one device waiting for the server's ack, in a SQLite file.

    Parameters
    ----------
    path : path-like
        Created (with its folder) if missing.
    user, device : str
        Contract ids. A file made for another user or device is refused.
    """

    def __init__(self, path: str | Path, user: str, device: str) -> None:
        self.path = Path(path)
        self.user, self.device = check_id(user, "user"), check_id(device, "device")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(self.path, f"cannot open it ({_reason(exc)})") from exc
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        try:
            # WAL: readers never block the writer; FULL: a commit is on disk when it returns.
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._db.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise OutboxError(self.path, f"cannot open it ({_reason(exc)})") from exc
        if str(mode).lower() != "wal":
            raise OutboxError(self.path, f"cannot use write-ahead logging (journal mode {mode})")
        with self._transaction("set it up"):
            for statement in _SCHEMA_SQL.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            if not meta:
                self._db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [
                        ("schema", str(SCHEMA)),
                        ("user", self.user),
                        ("device", self.device),
                        ("next_seq", "1"),
                        ("acked_seq", "0"),
                        ("synced", "0"),
                    ],
                )
                return
        if meta.get("schema") != str(SCHEMA):
            raise OutboxError(self.path, f"file format {meta.get('schema')!r}, expected {SCHEMA}")
        if (meta.get("user"), meta.get("device")) != (self.user, self.device):
            raise OutboxError(
                self.path,
                f"belongs to user {meta.get('user')!r} device {meta.get('device')!r}, "
                f"not {self.user!r} {self.device!r}; each device needs its own outbox",
            )

    # --- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error; sqlite errors become OutboxError."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise OutboxError(self.path, f"cannot {doing} ({_reason(exc)})") from exc
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise OutboxError(self.path, f"cannot {doing} ({_reason(exc)})") from exc
            raise

    def _meta_int(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, key: str, value: object) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, str(value)),
        )

    def _read(self, doing: str, sql: str, args: tuple[object, ...] = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise OutboxError(self.path, f"cannot {doing} ({_reason(exc)})") from exc

    # --- the outbox ------------------------------------------------------------------------------

    def add(self, start: datetime, end: datetime, sites: Mapping[str, SiteWindow]) -> WindowMessage:
        """Number and store a window; it is on disk when this returns.

        The payload is validated as the server will validate it (PayloadError if not).
        """
        with self._transaction("store a window"):
            seq = self._meta_int("next_seq")
            message = WindowMessage(self.user, self.device, seq, start, end, dict(sites))
            payload = message.to_payload()
            WindowMessage.from_payload(payload, user=self.user, device=self.device, now=end)
            self._db.execute(
                'INSERT INTO windows (seq, start, "end", payload) VALUES (?, ?, ?, ?)',
                (seq, format_utc(start), format_utc(end), payload),
            )
            self._set_meta("next_seq", seq + 1)
            last_end = self._meta_text("last_end")
            if last_end is None or parse_utc(last_end, "outbox", "last_end") < end:
                self._set_meta("last_end", format_utc(end))
        return message

    def _meta_text(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def pending(self, limit: int | None = None, *, after: int = 0) -> list[WindowMessage]:
        """Stored windows not yet covered by the server's ack, in seq order (seq > ``after``)."""
        rows = self._read(
            "read windows",
            'SELECT seq, "end", payload FROM windows WHERE seq > ? ORDER BY seq LIMIT ?',
            (after, -1 if limit is None else limit),
        )
        return [self._message(end, payload) for _, end, payload in rows]

    def message(self, seq: int) -> WindowMessage | None:
        """The stored window ``seq``; None once acked (or never stored)."""
        rows = self._read(
            "read a window", 'SELECT "end", payload FROM windows WHERE seq = ?', (seq,)
        )
        return self._message(*rows[0]) if rows else None

    def _message(self, end: str, payload: bytes) -> WindowMessage:
        return WindowMessage.from_payload(
            bytes(payload),
            user=self.user,
            device=self.device,
            now=datetime.fromisoformat(end).astimezone(UTC),
        )

    def __len__(self) -> int:
        return int(self._read("count windows", "SELECT count(*) FROM windows")[0][0])

    def acked(self, seq: int) -> int:
        """The server stored every window up to ``seq``: forget them. Returns how many went.

        An ack this file cannot have earned (beyond every seq it gave out, or before it ever
        heard from the server) is a :meth:`fast_forward` instead: nothing is deleted then.
        """
        if self._needs_fast_forward(seq):
            self.fast_forward(seq)
            return 0
        with self._transaction("forget acked windows"):
            gone = self._db.execute("DELETE FROM windows WHERE seq <= ?", (seq,)).rowcount
            if seq > self._meta_int("acked_seq"):
                self._set_meta("acked_seq", seq)
        return int(gone)

    def _needs_fast_forward(self, server_seq: int) -> bool:
        return server_seq >= self.next_seq or (server_seq > 0 and not self.synced)

    def fast_forward(self, server_seq: int) -> int:
        """The server holds seqs up to ``server_seq`` that this file did not send.

        That happens when the file was lost or replaced: the server's ack lies beyond our next
        seq, or arrives before this file ever heard from the server (the publisher sends nothing
        until then). Number new windows after it and renumber what is waiting, in order, after
        it too, since the server ignores a seq it already stored. Otherwise nothing changes.
        Returns how many waiting windows were renumbered.
        """
        with self._transaction("fast-forward"):
            next_seq = self._meta_int("next_seq")
            unsynced = self._meta_int("synced") == 0
            self._set_meta("synced", 1)
            if not (server_seq >= next_seq or (server_seq > 0 and unsynced)):
                return 0
            rows = self._db.execute('SELECT "end", payload FROM windows ORDER BY seq').fetchall()
            self._db.execute("DELETE FROM windows")
            seq = server_seq
            for end, payload in rows:
                seq += 1
                old = self._message(end, payload)
                new = WindowMessage(self.user, self.device, seq, old.start, old.end, old.sites)
                self._db.execute(
                    'INSERT INTO windows (seq, start, "end", payload) VALUES (?, ?, ?, ?)',
                    (seq, format_utc(old.start), format_utc(old.end), new.to_payload()),
                )
            self._set_meta("next_seq", seq + 1)
            self._set_meta("acked_seq", server_seq)
        return len(rows)

    @property
    def next_seq(self) -> int:
        return int(
            self._read("read its state", "SELECT value FROM meta WHERE key = 'next_seq'")[0][0]
        )

    @property
    def acked_seq(self) -> int:
        """The highest seq the server has acknowledged to this file (0: none yet)."""
        rows = self._read("read its state", "SELECT value FROM meta WHERE key = 'acked_seq'")
        return int(rows[0][0]) if rows else 0

    @property
    def synced(self) -> bool:
        """Has this file heard where the server stands (an ack, or that there is none)?"""
        rows = self._read("read its state", "SELECT value FROM meta WHERE key = 'synced'")
        return bool(rows) and rows[0][0] == "1"

    def mark_synced(self) -> None:
        """The server has no ack for this device: numbering from 1 is safe."""
        with self._transaction("mark it synced"):
            self._set_meta("synced", 1)

    @property
    def last_end_utc(self) -> datetime | None:
        """End of the latest window ever stored here (a restart resumes from it)."""
        rows = self._read("read its state", "SELECT value FROM meta WHERE key = 'last_end'")
        return parse_utc(rows[0][0], "outbox", "last_end") if rows else None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
