"""A device's windows for one site may not overlap: time is counted once (issue 15, M7).

Five one-hour windows a second apart from one device would otherwise all be stored and summed,
counting the same hour five times. A new window any of whose sites overlaps a stored window of
that device and site (or one accepted earlier in the same batch) is refused for good, as
``overlap``: its seq is dealt with (the ack passes it), nothing of it is counted. A window with
the same start as a stored one is not an overlap but a replay (the key of ``window_sites``
skips it, see :mod:`server.store.windows`).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta

from server.store.backend import Backend
from server.store.sql import from_ts, ts, window_key
from twitchwatch.contract import MAX_WINDOW_S, WindowMessage

#: (device, site) ranges looked up per query: one OR'd range condition each, on the key's prefix.
RANGES_PER_QUERY = 100


def overlapping(
    db: Backend,
    windows: Sequence[WindowMessage],
    new: Sequence[int],
    times: Mapping[int, tuple[str, str]],
) -> list[int]:
    """Of the ``new`` windows (indexes, in batch order), those overlapping another window."""
    if not new:
        return []
    taken = _stored_intervals(db, windows, new, times)
    for intervals in taken.values():
        intervals.sort()
    refused = []
    for i in new:
        w = windows[i]
        start, end = times[i]
        if any(_overlaps(start, end, taken[(window_key(w), site)]) for site in w.sites):
            refused.append(i)
            continue
        for site in w.sites:
            bisect.insort(taken[(window_key(w), site)], (start, end))
    return refused


def _overlaps(start: str, end: str, intervals: list[tuple[str, str]]) -> bool:
    """Does [start, end) overlap one of ``intervals`` (sorted, not overlapping each other)?

    Only the interval starting last before ``end`` can: the ones before it end before it
    starts. Fixed-width UTC text: text order is time order. Same start: a replay.
    """
    k = bisect.bisect_left(intervals, (end, "")) - 1
    if k < 0:
        return False
    s, e = intervals[k]
    return s != start and e > start


def _stored_intervals(
    db: Backend,
    windows: Sequence[WindowMessage],
    new: Sequence[int],
    times: Mapping[int, tuple[str, str]],
) -> defaultdict[tuple[str, str], list[tuple[str, str]]]:
    """Stored (start, end) per (device, site) that may overlap the new windows' span."""
    span: dict[tuple[str, str], tuple[str, str]] = {}
    for i in new:
        w = windows[i]
        start, end = times[i]
        for site in w.sites:
            lo, hi = span.get((window_key(w), site), (start, end))
            span[(window_key(w), site)] = (min(lo, start), max(hi, end))
    longest = timedelta(seconds=MAX_WINDOW_S)  # a stored window starts at most this before
    # start > lo - longest keeps the scan on the key; end > lo returns only candidates.
    ranges = [
        (device, site, ts(from_ts(lo) - longest), hi, lo)
        for (device, site), (lo, hi) in sorted(span.items())
    ]
    found: defaultdict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for k in range(0, len(ranges), RANGES_PER_QUERY):
        chunk = ranges[k : k + RANGES_PER_QUERY]
        where = " OR ".join(
            ["(device_id = ? AND site = ? AND start_utc > ? AND start_utc < ? AND end_utc > ?)"]
            * len(chunk)
        )
        for device, site, start, end in db.execute(
            f"SELECT device_id, site, start_utc, end_utc FROM window_sites WHERE {where}",
            [value for r in chunk for value in r],
        ):
            found[(device, site)].append((start, end))
    return found
