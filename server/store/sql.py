"""Helpers every store statement shares: device keys, the time format and chunked multi-row
inserts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from server.store.backend import Backend
from twitchwatch.contract import WindowMessage

#: Rows per multi-row INSERT, largest first (512 x 13 columns is well under both engines' limits
#: on host parameters); any count is a sum of these.
ROWS_PER_INSERT = (512, 64, 8, 1)


def device_key(user: str, device: str) -> str:
    """A device's key in the store: ``alice/kitchen-pi``. Device ids are per user (issue 15):
    two people may each name their computer ``kitchen-pi``; ids never hold a ``/``, and a
    device of one user can never be another's (the broker's ACL binds its topics to its user)."""
    return f"{user}/{device}"


def window_key(w: WindowMessage) -> str:
    """The store's key of the device that sent ``w``."""
    return device_key(w.user, w.device)


def device_of(key: str) -> str:
    """The device id in a store key (:func:`device_key`'s inverse, less the user)."""
    return key.split("/", 1)[1]


def ts(t: datetime) -> str:
    """Fixed-width UTC text (``2026-11-21T10:00:00.000000Z``): text order is time order."""
    return t.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def from_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def maybe_ts(t: datetime | None) -> str | None:
    return None if t is None else ts(t)


def maybe_from_ts(text: str | None) -> datetime | None:
    return None if text is None else from_ts(text)


def insert_rows(
    db: Backend, head: str, rows: Sequence[Sequence[Any]], tail: str = ""
) -> list[tuple]:
    """``head VALUES (…), (…) tail`` in chunks; the rows any RETURNING in ``tail`` gives.

    Chunks come in a few fixed sizes, so each table has a few distinct statements, which
    the drivers' statement caches reuse. One statement per batch length would fill the
    caches with large compiled programs, and memory would grow with them.
    """
    out: list[tuple] = []
    i = 0
    while i < len(rows):
        size = next(n for n in ROWS_PER_INSERT if n <= len(rows) - i)
        chunk = rows[i : i + size]
        marks = "(" + ", ".join(["?"] * len(chunk[0])) + ")"
        params = [value for row in chunk for value in row]
        out += db.execute(f"{head} VALUES {', '.join([marks] * size)} {tail}", params)
        i += size
    return out


def mark_stored(db: Backend, users: Sequence[str], at: datetime) -> None:
    """``users``' data was stored at ``at`` (a server's wall clock): one statement for all."""
    if users:
        marks = ", ".join(["?"] * len(users))
        db.execute(f"UPDATE users SET stored_utc = ? WHERE user_id IN ({marks})", (ts(at), *users))


def touch_user(db: Backend, user: str, latest: datetime) -> None:
    """Data of ``user`` changed: mark it for evaluation, move its event time forward."""
    t = ts(latest)
    db.execute(
        "UPDATE users SET dirty = 1, latest_utc = CASE WHEN latest_utc IS NULL "
        "OR latest_utc < ? THEN ? ELSE latest_utc END WHERE user_id = ?",
        (t, t, user),
    )
