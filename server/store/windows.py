"""Windows and devices: exactly-once storage, daily sums in the same transaction, device acks.

Functions of an open transaction's backend (see :class:`server.store.Tx`), with the rows of the
users they write already locked.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum

from server.store.backend import Backend
from server.store.daily import insert_sites
from server.store.overlaps import overlapping
from server.store.sql import device_key, device_of, from_ts, insert_rows, ts, window_key
from twitchwatch.contract import DeviceStatus, WindowMessage

log = logging.getLogger(__name__)

#: Rows read per query while walking a device's contiguous seqs; ids per IN (…) list.
SEQ_PAGE = 1000


class Outcome(StrEnum):
    """What became of one received message."""

    STORED = "stored"
    DUPLICATE = "duplicate"  # this (device, seq), report or transition was stored before
    REPLAYED = "replayed"  # a new seq whose every site window was already stored under another
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True, order=True)
class DeviceAckState:
    """A device's contiguous high-water mark, to publish as its retained DeviceAck."""

    user: str
    device: str
    acked_seq: int


@dataclass(frozen=True, slots=True)
class WindowsResult:
    outcomes: tuple[Outcome, ...]  # one per window given, in order
    #: Devices whose acked_seq moved, or that sent a duplicate (their edge has not seen the ack).
    acks: tuple[DeviceAckState, ...]
    changed_users: frozenset[str]  # users whose daily sums changed
    replayed_sites: int  # site windows not counted because (device, site, start) was stored
    #: Why each REJECTED window was: index -> (problem code, one line). ``seq_reused``: a stored
    #: seq came with another window; ``overlap``: it overlaps a stored window (refused for good).
    problems: Mapping[int, tuple[str, str]] = field(default_factory=dict)


@dataclass(slots=True)
class DeviceRow:
    """A device's row as read at the start of a batch, updated as the batch moves its ack."""

    user: str
    acked_seq: int
    max_seq: int
    exists: bool


def add_windows(
    db: Backend,
    windows: Sequence[WindowMessage],
    received: datetime,
    zones: Mapping[str, tzinfo],
) -> WindowsResult:
    """Store windows exactly once and keep daily sums and device acks in step.

    A (device, seq) stored before is a DUPLICATE. A new seq whose (device, site, start) rows
    exist already (an edge replaying after losing its outbox) stores the seq, so the ack can
    cover it, but counts none of those sites again. A stored seq that arrives with another
    window is REJECTED (``seq_reused``): the stored one stands. A new window overlapping a
    stored one of the same device and site is refused for good (``overlap``, see
    :mod:`server.store.overlaps`). A device is its user's own (:func:`device_key`). A window
    counts on the day it starts, in its user's zone (``zones``: every user of ``windows``).
    """
    devices = load_devices(db, (window_key(w) for w in windows))
    outcomes = [Outcome.DUPLICATE] * len(windows)  # until its row is inserted below
    times: dict[int, tuple[str, str]] = {}  # window -> (start, end) as stored
    for i, w in enumerate(windows):
        devices.setdefault(window_key(w), DeviceRow(w.user, 0, 0, exists=False))
        times[i] = (ts(w.start), ts(w.end))
    problems: dict[int, tuple[str, str]] = {}
    new = _insert_windows(db, windows, times, ts(received))
    inserted = set(new)
    seen = [i for i in times if i not in inserted]
    behind = {window_key(windows[i]) for i in seen}  # they resent: they have not seen their ack
    for i in _reused_seqs(db, windows, seen, times):
        outcomes[i] = Outcome.REJECTED
        problems[i] = ("seq_reused", f"seq {windows[i].seq} of {windows[i].device} came again "
                       "with another window: refused, the stored one stands")  # fmt: skip
    overlap = overlapping(db, windows, new, times)
    _mark_refused(db, windows, overlap, "overlap")
    for i in overlap:
        outcomes[i] = Outcome.REJECTED
        problems[i] = ("overlap", f"window {windows[i].seq} of {windows[i].device} overlaps "
                       "another window of the same site: refused")  # fmt: skip
    refused = set(overlap)
    counted = [i for i in new if i not in refused]
    sites_stored, replayed_sites = insert_sites(db, windows, counted, times, zones)
    new_seqs: dict[str, set[int]] = defaultdict(set)
    for i in counted:
        outcomes[i] = Outcome.STORED if sites_stored[i] else Outcome.REPLAYED
    for i in new:
        new_seqs[window_key(windows[i])].add(windows[i].seq)
    floors: dict[str, int] = {}  # device -> the seq below which its edge holds nothing
    for i in times:
        if (held := windows[i].first_held) is not None:
            floors[window_key(windows[i])] = max(floors.get(window_key(windows[i]), 0), held - 1)
    return WindowsResult(
        outcomes=tuple(outcomes),
        acks=tuple(advance_devices(db, devices, new_seqs, behind, floors)),
        changed_users=frozenset(windows[i].user for i in sites_stored),
        replayed_sites=replayed_sites,
        problems=problems,
    )


def _mark_refused(
    db: Backend, windows: Sequence[WindowMessage], indexes: Sequence[int], reason: str
) -> None:
    """Windows rows just inserted, now refused for good (their sites are not stored)."""
    if not indexes:
        return
    db.execute_many(
        "UPDATE windows SET refused = ? WHERE device_id = ? AND seq = ?",
        [(reason, window_key(windows[i]), windows[i].seq) for i in indexes],
    )


def _reused_seqs(
    db: Backend,
    windows: Sequence[WindowMessage],
    seen: Sequence[int],
    times: Mapping[int, tuple[str, str]],
) -> list[int]:
    """Of windows whose (device, seq) is stored, those stored with another start or end."""
    by_device: dict[str, list[int]] = defaultdict(list)
    for i in seen:
        by_device[window_key(windows[i])].append(i)
    reused = []
    for device, indexes in sorted(by_device.items()):
        seqs = sorted({windows[i].seq for i in indexes})
        stored: dict[int, tuple[str, str]] = {}
        for k in range(0, len(seqs), SEQ_PAGE):
            chunk = seqs[k : k + SEQ_PAGE]
            marks = ", ".join(["?"] * len(chunk))
            # Rows refused for good were made windows by the insert if this one is valid.
            stored.update(
                (seq, (start, end))
                for seq, start, end in db.execute(
                    "SELECT seq, start_utc, end_utc FROM windows "
                    f"WHERE device_id = ? AND seq IN ({marks}) AND refused IS NULL",
                    [device, *chunk],
                )
            )
        reused += [i for i in indexes if stored.get(windows[i].seq, times[i]) != times[i]]
    return sorted(reused)


def _insert_windows(
    db: Backend,
    windows: Sequence[WindowMessage],
    times: Mapping[int, tuple[str, str]],
    received: str,
) -> list[int]:
    """Insert the windows rows; the indexes of those that were new (first copy only)."""
    rows: dict[tuple[str, int], tuple[object, ...]] = {}  # one per key: DO UPDATE needs it
    for i, (start, end) in times.items():
        w = windows[i]
        rows.setdefault(
            (window_key(w), w.seq), (window_key(w), w.seq, w.user, start, end, received)
        )
    inserted = set(
        insert_rows(
            db,
            "INSERT INTO windows (device_id, seq, user_id, start_utc, end_utc, received_utc)",
            list(rows.values()),
            # A seq refused for good that now comes as a valid window (an edge that resent it
            # after setting its clock?) is stored after all: the refusal row becomes the window.
            "ON CONFLICT (device_id, seq) DO UPDATE SET user_id = excluded.user_id, "
            "start_utc = excluded.start_utc, end_utc = excluded.end_utc, "
            "received_utc = excluded.received_utc, refused = NULL "
            "WHERE windows.refused IS NOT NULL RETURNING device_id, seq",
        )
    )
    new = []
    for i in times:
        key = (window_key(windows[i]), windows[i].seq)
        if key in inserted:
            inserted.discard(key)  # a second copy in this batch is a duplicate
            new.append(i)
    return new


def advance_devices(
    db: Backend,
    devices: Mapping[str, DeviceRow],
    new_seqs: Mapping[str, set[int]],
    behind: set[str],
    floors: Mapping[str, int] | None = None,
) -> list[DeviceAckState]:
    """Move each device's ack over its new seqs; the acks to publish (moved, or sent again).

    ``floors``: device -> a seq its edge holds nothing up to (``first_held - 1``); an ack below
    it (this database was lost or restored) restarts from there, since nothing below can come.
    """
    floors = floors or {}
    acks = []
    for device in sorted(new_seqs.keys() | behind | floors.keys()):
        seqs = new_seqs.get(device, set())
        row = devices[device]
        if floors.get(device, 0) > row.acked_seq:
            log.warning(
                "device %s of %s: its edge holds nothing below seq %d, so its ack restarts from "
                "%d (it was %d: was this database lost or restored?)",
                device, row.user, floors[device] + 1, floors[device], row.acked_seq,
            )  # fmt: skip
        ack = _advance_device(db, device, row, seqs, device in behind, floors.get(device, 0))
        if ack is not None:
            acks.append(ack)
    return acks


def _advance_device(
    db: Backend, device: str, row: DeviceRow, new_seqs: set[int], behind: bool, floor: int = 0
) -> DeviceAckState | None:
    """Move acked_seq over every contiguous stored seq; the ack to publish, if any."""
    acked, max_seq = row.acked_seq, max(row.max_seq, max(new_seqs, default=0), floor)
    jumped = floor > acked
    acked = max(acked, floor)
    if acked + 1 in new_seqs or jumped:
        # Invariant: acked_seq + 1 is never stored, so only a new seq (or a floor) can move it;
        # the walk reads the rows of this batch and any stored earlier beyond a gap it fills.
        while True:
            page = db.execute(
                "SELECT seq FROM windows WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (device, acked, SEQ_PAGE),
            )
            for (seq,) in page:
                if seq != acked + 1:
                    break
                acked = seq
            else:
                if len(page) == SEQ_PAGE:
                    continue
            break
    if not row.exists:
        db.execute(
            "INSERT INTO devices (device_id, user_id, acked_seq, max_seq) VALUES (?, ?, ?, ?)",
            (device, row.user, acked, max_seq),
        )
    elif (acked, max_seq) != (row.acked_seq, row.max_seq):
        db.execute(
            "UPDATE devices SET acked_seq = ?, max_seq = ? WHERE device_id = ?",
            (acked, max_seq, device),
        )
    moved = acked != row.acked_seq
    row.acked_seq, row.max_seq, row.exists = acked, max_seq, True
    if moved or behind:
        return DeviceAckState(row.user, device_of(device), acked)
    return None


def load_devices(db: Backend, devices: Iterable[str]) -> dict[str, DeviceRow]:
    names = sorted(set(devices))
    found: dict[str, DeviceRow] = {}
    for i in range(0, len(names), SEQ_PAGE):
        chunk = names[i : i + SEQ_PAGE]
        marks = ", ".join(["?"] * len(chunk))
        for device, user, acked, max_seq in db.execute(
            "SELECT device_id, user_id, acked_seq, max_seq FROM devices "
            f"WHERE device_id IN ({marks})",
            chunk,
        ):
            found[device] = DeviceRow(user, acked, max_seq, exists=True)
    return found


def set_status(db: Backend, user: str, status: DeviceStatus, received: datetime) -> None:
    """Record a device's online/offline state (a device is its user's own, see
    :func:`device_key`)."""
    db.execute(
        "INSERT INTO devices (device_id, user_id, status, status_utc) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (device_id) DO UPDATE SET status = excluded.status, "
        "status_utc = excluded.status_utc",
        (device_key(user, status.device), user, status.state.value, ts(received)),
    )


def device_acks(db: Backend) -> list[DeviceAckState]:
    rows = db.execute("SELECT user_id, device_id, acked_seq FROM devices WHERE acked_seq > 0")
    return sorted(DeviceAckState(u, device_of(d), s) for u, d, s in rows)


def device_acks_of(db: Backend, devices: Iterable[tuple[str, str]]) -> list[DeviceAckState]:
    """The stored acks of these (user, device) pairs (those with a window stored)."""
    rows = load_devices(db, (device_key(user, device) for user, device in devices))
    return sorted(
        DeviceAckState(row.user, device_of(key), row.acked_seq)
        for key, row in rows.items()
        if row.acked_seq > 0
    )


def recent_device_acks(db: Backend, since: datetime) -> list[tuple[DeviceAckState, datetime]]:
    """Acks of devices that sent a window since ``since``, with the time of the latest."""
    rows = db.execute(
        "SELECT d.user_id, d.device_id, d.acked_seq, MAX(w.received_utc) FROM devices d "
        "JOIN windows w ON w.device_id = d.device_id WHERE d.acked_seq > 0 "
        "GROUP BY d.user_id, d.device_id, d.acked_seq HAVING MAX(w.received_utc) >= ?",
        (ts(since),),
    )
    return sorted((DeviceAckState(u, device_of(d), s), from_ts(last)) for u, d, s, last in rows)
