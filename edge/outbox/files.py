"""The outbox's file: created private, its write-ahead log kept small, and a damaged one salvaged.

A power cut on an SD card can leave the outbox damaged (SQLite: "database disk image is
malformed"), or zero-filled. Such a file is moved aside, never deleted, and every window that
can still be read from it goes into a fresh file under its old number, so the server's
exactly-once bookkeeping holds; what could not be read is counted and said. A file that is not
SQLite at all (and not zero-filled) is refused instead: it is more likely a wrong
``[mqtt] outbox`` path than a damaged outbox, and it is not ours to move.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

#: Owner read-write only: the outbox holds health data.
FILE_MODE = 0o600
FOLDER_MODE = 0o700
#: The write-ahead log is checkpointed into the database every this many pages (1 MB at 4 KB
#: pages) and truncated back to at most :data:`WAL_LIMIT_BYTES` after each checkpoint: without a
#: limit SQLite keeps the log at the largest size it ever reached (a renumbering of a month of
#: windows is one transaction), which can fill a small SD card.
WAL_AUTOCHECKPOINT_PAGES = 256
WAL_LIMIT_BYTES = 1024 * 1024
#: The first 16 bytes of every SQLite database file.
SQLITE_MAGIC = b"SQLite format 3\x00"
#: SQLite's primary result codes that mean a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB).
_DAMAGED_CODES = frozenset({11, 26})


def create_private(path: Path) -> None:
    """Create ``path`` (and its folder) readable by its owner alone, if it does not exist; an
    existing file readable by others is made private (SQLite gives its -wal and -shm files the
    database file's mode)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=FOLDER_MODE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def limit_wal(db: sqlite3.Connection) -> None:
    db.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")


def is_damage(exc: BaseException) -> bool:
    """A SQLite error that says the file is damaged (not busy, not missing, not full)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.DatabaseError)
        and code is not None
        and code & 0xFF in _DAMAGED_CODES
    )


def check(db: sqlite3.Connection) -> str | None:
    """None if SQLite's quick check finds the file sound, else its first complaint."""
    rows = db.execute("PRAGMA quick_check").fetchall()
    first = str(rows[0][0]) if rows else "no answer"
    return None if first == "ok" else first


def salvageable(path: Path) -> bool:
    """A SQLite file, or one a crash zero-filled: an outbox we may move aside and salvage."""
    with path.open("rb") as f:
        head = f.read(4096)
    return head.startswith(SQLITE_MAGIC) or not head.strip(b"\x00")


@dataclass
class Salvage:
    """What a damaged outbox still held: its state and the windows that could be read."""

    moved_to: Path
    problem: str
    meta: dict[str, str] = field(default_factory=dict)
    #: (seq, start, end, payload) of every window read back, in seq order.
    windows: list[tuple[int, str, str, bytes]] = field(default_factory=list)
    unreadable: int = 0  # rows read but broken, or seqs known to be missing

    @property
    def summary(self) -> str:
        lost = f", {self.unreadable} unreadable" if self.unreadable else ""
        return f"{len(self.windows)} windows recovered{lost}"


def move_aside(path: Path, problem: str) -> Salvage:
    """Rename the damaged file (and its -wal and -shm) to ``<name>.damaged-<UTC time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            os.replace(source, moved.with_name(moved.name + suffix))
    return Salvage(moved, problem)


def read_back(salvage: Salvage) -> Salvage:
    """Read what can be read from the moved file: forwards until the damage, then backwards."""
    try:
        db = sqlite3.connect(f"file:{salvage.moved_to}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error:
        return salvage
    with contextlib.closing(db):
        with contextlib.suppress(sqlite3.Error):
            salvage.meta = {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta")}
        rows: dict[int, tuple[int, str, str, bytes]] = {}
        for order in ("ASC", "DESC"):
            for row in _rows_until_damage(db, order):
                rows[row[0]] = row
        salvage.windows = [rows[seq] for seq in sorted(rows)]
    if salvage.windows:
        first, last = salvage.windows[0][0], salvage.windows[-1][0]
        salvage.unreadable += (last - first + 1) - len(salvage.windows)  # holes in between
    return salvage


def _rows_until_damage(db: sqlite3.Connection, order: str) -> Iterator[tuple[int, str, str, bytes]]:
    statement = f'SELECT seq, start, "end", payload FROM windows ORDER BY seq {order}'
    try:
        for seq, start, end, payload in db.execute(statement):
            yield int(seq), str(start), str(end), bytes(payload)
    except (sqlite3.Error, TypeError, ValueError):
        return


def restore_into(
    db: sqlite3.Connection, salvage: Salvage, valid: Callable[[str, bytes], bool]
) -> None:
    """Put the salvaged windows that are ``valid(end, payload)`` and the state into a fresh
    outbox, inside the caller's transaction; the rest count as unreadable."""
    meta = salvage.meta
    kept = [row for row in salvage.windows if valid(row[2], row[3])]
    salvage.unreadable += len(salvage.windows) - len(kept)
    salvage.windows = kept
    db.executemany('INSERT INTO windows (seq, start, "end", payload) VALUES (?, ?, ?, ?)', kept)
    top = max((seq for seq, *_ in kept), default=0)
    next_seq = max(_int(meta.get("next_seq")), top + 1)
    lowest = min((seq for seq, *_ in kept), default=next_seq)
    state = {
        "next_seq": next_seq,
        "acked_seq": _int(meta.get("acked_seq"), lowest - 1),
        # The old numbers are this device's own: keep them. With nothing left to tell where
        # numbering stood, the server's retained ack says (the outbox's fast_forward).
        "synced": meta.get("synced", "1" if kept else "0"),
        "dropped": _int(meta.get("dropped")),
    }
    ends = [end for _, _, end, _ in kept]
    if meta.get("last_end") or ends:
        state["last_end"] = meta.get("last_end") or max(ends)
    db.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [(key, str(value)) for key, value in state.items()],
    )


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
