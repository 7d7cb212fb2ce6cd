"""Windows refused for good: recorded under their seq so the device's contiguous ack passes them.

The ack means "dealt with" (see ``twitchwatch/contract/windows.py``): a window the contract
refuses (a start in 1970 from an edge booted without a clock, a window too long…) can never
become valid by being sent again, so it must not hold back the windows after it. Its seq gets a
``windows`` row with ``refused`` set to the reason and no times; the person sees "N windows
refused: reason" in their report (:func:`refused_counts`). Should a valid window come under
that seq later, it is stored after all (see ``_insert_windows`` in :mod:`server.store.windows`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from server.store.backend import Backend
from server.store.sql import device_key, insert_rows, ts
from server.store.windows import (
    DeviceAckState,
    DeviceRow,
    Outcome,
    advance_devices,
    load_devices,
)


@dataclass(frozen=True, slots=True)
class RefusedWindow:
    """A window the contract refused, whose payload still named its device's seq."""

    user: str
    device: str
    seq: int
    reason: str  # the contract's problem code (too_old, future, bad_window…)
    detail: str  # one line for the log


@dataclass(frozen=True, slots=True)
class RefusalsResult:
    outcomes: tuple[Outcome, ...]  # REJECTED each (a refusal sent again too)
    acks: tuple[DeviceAckState, ...]


def refuse_windows(
    db: Backend, refused: Sequence[RefusedWindow], received: datetime
) -> RefusalsResult:
    """Record each refusal once under its (device, seq) and move the devices' acks past them."""
    devices = load_devices(db, (device_key(r.user, r.device) for r in refused))
    for r in refused:
        devices.setdefault(device_key(r.user, r.device), DeviceRow(r.user, 0, 0, exists=False))
    rows = [
        (device_key(r.user, r.device), r.seq, r.user, "", "", ts(received), r.reason)
        for r in refused
    ]
    inserted = set(
        insert_rows(
            db,
            "INSERT INTO windows (device_id, seq, user_id, start_utc, end_utc, received_utc, "
            "refused)",
            rows,
            "ON CONFLICT (device_id, seq) DO NOTHING RETURNING device_id, seq",
        )
    )
    new_seqs: dict[str, set[int]] = defaultdict(set)
    behind: set[str] = set()
    for r in refused:
        key = (device_key(r.user, r.device), r.seq)
        if key in inserted:
            inserted.discard(key)
            new_seqs[key[0]].add(r.seq)
        else:
            behind.add(key[0])  # sent again: its edge has not seen the ack
    acks = advance_devices(db, devices, new_seqs, behind)
    return RefusalsResult((Outcome.REJECTED,) * len(refused), tuple(acks))


def refused_counts(db: Backend, user: str) -> dict[str, int]:
    """``{reason: windows}`` refused for good from ``user``'s devices."""
    rows = db.execute(
        "SELECT refused, COUNT(*) FROM windows WHERE user_id = ? AND refused IS NOT NULL "
        "GROUP BY refused",
        (user,),
    )
    return {reason: int(n) for reason, n in rows}
