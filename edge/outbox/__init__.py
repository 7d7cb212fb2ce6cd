"""The durable outbox: every window is stored here, numbered, before anything is published.

One SQLite file per (user, device). A window gets the device's next ``seq`` in the same
transaction that stores it, so a number is never handed out twice, even across a power cut
(WAL with ``synchronous=FULL``: a committed window survives one). Rows leave only when the
server's ack covers them: the broker's PUBACK is not enough, because a broker may drop a message
it acknowledged (queue limits, a restart without persistence).

If the file is lost or replaced, the server's ack may lie beyond every number this file has
given: :meth:`Outbox.fast_forward` then moves numbering (and what is waiting) past it, because the
server ignores a seq it has already stored.

Bounded: the file is created private (0600), its write-ahead log is truncated after each
checkpoint, and it holds at most ``max_windows``; beyond that the oldest waiting window is
dropped, counted and logged as an error each time, because a server that acknowledges nothing
for weeks must not fill the disk. A damaged file is moved aside and what it still holds is kept
(:mod:`edge.outbox.database`, :mod:`edge.outbox.files`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from edge.outbox.database import (
    meta_int,
    meta_text,
    open_database,
    read,
    read_message,
    set_meta,
    writing,
)
from edge.outbox.files import Salvage
from twitchwatch.contract import SiteWindow, WindowMessage, check_id, format_utc, parse_utc

__all__ = ["Outbox"]

#: Windows kept waiting for the server's ack at most: 100,000 one-minute windows are about ten
#: weeks, some 100 MB with a few sites each. Beyond it the oldest is dropped, loudly.
MAX_WINDOWS = 100_000
#: Said once per run when the outbox passes this share of its cap.
NEARLY_FULL = 0.9

log = logging.getLogger(__name__)


class Outbox:
    """Windows of one device waiting for the server's ack, in a SQLite file.

    Parameters
    ----------
    path : path-like
        Created (with its folder) if missing.
    user, device : str
        Contract ids. A file made for another user or device is refused.
    max_windows : int
        Most windows kept waiting; beyond it the oldest are dropped (counted in ``dropped``).
    """

    def __init__(
        self, path: str | Path, user: str, device: str, *, max_windows: int = MAX_WINDOWS
    ) -> None:
        self.path = Path(path)
        self.user, self.device = check_id(user, "user"), check_id(device, "device")
        if max_windows < 1:
            raise ValueError(f"max_windows must be >= 1, got {max_windows}")
        self.max_windows = max_windows
        self._warned_full = False
        db, recovered = open_database(self.path, self.user, self.device)
        self._db = db
        #: What a damaged file held when this one replaced it at open (None: it was sound).
        self.recovered: Salvage | None = recovered

    # --- plumbing ------------------------------------------------------------------------------

    def _writing(self, doing: str) -> AbstractContextManager[None]:
        return writing(self._db, self.path, doing)

    def _read(self, doing: str, sql: str, args: tuple[object, ...] = ()) -> list[tuple]:
        return read(self._db, self.path, doing, sql, args)

    def _meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (None if absent), read on its own."""
        rows = self._read("read its state", "SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    # --- the outbox ------------------------------------------------------------------------------

    def add(self, start: datetime, end: datetime, sites: Mapping[str, SiteWindow]) -> WindowMessage:
        """Number and store a window; it is on disk when this returns.

        The payload is validated as the server will validate it (PayloadError if not).
        """
        with self._writing("store a window"):
            seq = meta_int(self._db, "next_seq")
            message = WindowMessage(self.user, self.device, seq, start, end, dict(sites))
            payload = message.to_payload()
            WindowMessage.from_payload(payload, user=self.user, device=self.device, now=end)
            self._db.execute(
                'INSERT INTO windows (seq, start, "end", payload) VALUES (?, ?, ?, ?)',
                (seq, format_utc(start), format_utc(end), payload),
            )
            set_meta(self._db, "next_seq", seq + 1)
            last_end = meta_text(self._db, "last_end")
            if last_end is None or parse_utc(last_end, "outbox", "last_end") < end:
                set_meta(self._db, "last_end", format_utc(end))
            self._keep_within_cap()
        return message

    def _keep_within_cap(self) -> None:
        """Drop the oldest waiting windows beyond ``max_windows`` (inside add's transaction)."""
        waiting = int(self._db.execute("SELECT count(*) FROM windows").fetchone()[0])
        if waiting >= NEARLY_FULL * self.max_windows and not self._warned_full:
            self._warned_full = True
            log.warning(
                "outbox %s holds %d of at most %d windows: the server has not acknowledged them "
                "(is it running, and is this device's account allowed to read its ack?)",
                self.path, waiting, self.max_windows,
            )  # fmt: skip
        over = waiting - self.max_windows
        if over <= 0:
            return
        oldest = self._db.execute(
            "SELECT seq, start FROM windows ORDER BY seq LIMIT ?", (over,)
        ).fetchall()
        self._db.execute("DELETE FROM windows WHERE seq <= ?", (oldest[-1][0],))
        set_meta(self._db, "dropped", meta_int(self._db, "dropped") + over)
        log.error(
            "outbox %s is full (%d windows waiting for the server's ack): dropped the oldest, "
            "seq %d from %s; the server will never receive it",
            self.path, self.max_windows, oldest[-1][0], oldest[-1][1],
        )  # fmt: skip

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
        return read_message(end, payload, self.user, self.device)

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
        with self._writing("forget acked windows"):
            gone = self._db.execute("DELETE FROM windows WHERE seq <= ?", (seq,)).rowcount
            if seq > meta_int(self._db, "acked_seq"):
                set_meta(self._db, "acked_seq", seq)
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
        with self._writing("fast-forward"):
            next_seq = meta_int(self._db, "next_seq")
            unsynced = meta_int(self._db, "synced") == 0
            set_meta(self._db, "synced", 1)
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
            set_meta(self._db, "next_seq", seq + 1)
            set_meta(self._db, "acked_seq", server_seq)
        return len(rows)

    @property
    def dropped(self) -> int:
        """Windows dropped unsent because the outbox was full, over this file's life."""
        return int(self._meta("dropped") or 0)

    @property
    def next_seq(self) -> int:
        return int(self._meta("next_seq") or 0)

    @property
    def first_held(self) -> int:
        """The lowest seq this file still holds (the next one when empty): sent with each
        window, so a server that lost its database knows nothing below it can come."""
        rows = self._read("read its state", "SELECT min(seq) FROM windows")
        return int(rows[0][0]) if rows[0][0] is not None else self.next_seq

    @property
    def acked_seq(self) -> int:
        """The highest seq the server has acknowledged to this file (0: none yet)."""
        return int(self._meta("acked_seq") or 0)

    @property
    def synced(self) -> bool:
        """Has this file heard where the server stands (an ack, or that there is none)?"""
        return self._meta("synced") == "1"

    def mark_synced(self) -> None:
        """The server has no ack for this device: numbering from 1 is safe."""
        with self._writing("mark it synced"):
            set_meta(self._db, "synced", 1)

    @property
    def last_end_utc(self) -> datetime | None:
        """End of the latest window ever stored here (a restart resumes from it)."""
        last_end = self._meta("last_end")
        return None if last_end is None else parse_utc(last_end, "outbox", "last_end")

    @property
    def published_tz(self) -> str | None:
        """The time zone this edge last published in the person's profile (None: never)."""
        return self._meta("profile_tz")

    def mark_tz_published(self, tz: str) -> None:
        with self._writing("record the published time zone"):
            set_meta(self._db, "profile_tz", tz)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
