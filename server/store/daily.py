"""Site windows and the daily sums kept beside them, in the transaction that stores them.

Functions of an open transaction's backend, called by :mod:`server.store.windows` (new
windows' sites) and by the profile (a new zone re-cuts the days).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo

from server.store.backend import Backend
from server.store.sql import from_ts, insert_rows, touch_user, window_key
from twitchwatch.contract import WindowMessage


def day_of(start: str, zone: tzinfo) -> str:
    """The day (``YYYY-MM-DD``) a stored start time falls on in ``zone``."""
    if zone is UTC or getattr(zone, "key", None) == "UTC":
        return start[:10]  # the stored text is UTC already: no parsing on the hot path
    return from_ts(start).astimezone(zone).date().isoformat()


def insert_sites(
    db: Backend,
    windows: Sequence[WindowMessage],
    new: Sequence[int],
    times: Mapping[int, tuple[str, str]],
    zones: Mapping[str, tzinfo],
) -> tuple[Counter[int], int]:
    """Insert the site rows of new windows, add what was inserted to the daily sums.

    Returns the number of sites stored per window and of sites skipped as replays.
    """
    # One row per (device, site, start), the first in batch order; the rest are replays.
    owner_of: dict[tuple[str, str, str], int] = {}
    rows = []
    n_sites = 0
    for i in new:
        w = windows[i]
        start, end = times[i]
        n_sites += len(w.sites)
        for site, s in w.sites.items():
            key = (window_key(w), site, start)
            if key not in owner_of:
                owner_of[key] = i
                rows.append((window_key(w), site, start, end, w.seq, w.user, s.twitches, s.cramps,
                             s.rest_s, s.active_s, s.gap_s, s.amp_median, s.unit))  # fmt: skip
    stored = insert_rows(
        db,
        "INSERT INTO window_sites (device_id, site, start_utc, end_utc, seq, user_id, "
        "twitches, cramps, rest_s, active_s, gap_s, amp_median, unit)",
        rows,
        "ON CONFLICT (device_id, site, start_utc) DO NOTHING RETURNING device_id, site, start_utc",
    )
    sums: dict[tuple[str, str, str], list[float]] = {}
    sites_stored: Counter[int] = Counter()
    latest: dict[str, datetime] = {}
    for device, site, start in stored:
        i = owner_of[(device, site, start)]
        w, s = windows[i], windows[i].sites[site]
        sites_stored[i] += 1
        acc = sums.setdefault(
            (w.user, site, day_of(start, zones[w.user])), [0, 0, 0.0, 0.0, 0.0, 0]
        )
        acc[0] += s.twitches
        acc[1] += s.cramps
        acc[2] += s.rest_s
        acc[3] += s.active_s
        acc[4] += s.gap_s
        acc[5] += 1
        if w.user not in latest or w.end > latest[w.user]:
            latest[w.user] = w.end
    _add_daily(db, sums)
    for user in sorted(latest):
        touch_user(db, user, latest[user])
    return sites_stored, n_sites - len(stored)


def _add_daily(db: Backend, sums: Mapping[tuple[str, str, str], Sequence[float]]) -> None:
    """Add ``{(user, site, day): [twitches, cramps, rest_s, active_s, gap_s, windows]}``."""
    insert_rows(
        db,
        "INSERT INTO daily_site (user_id, site, day, twitches, cramps, rest_s, active_s, "
        "gap_s, windows)",
        [(*key, *sums[key]) for key in sorted(sums)],
        "ON CONFLICT (user_id, site, day) DO UPDATE SET "
        "twitches = daily_site.twitches + excluded.twitches, "
        "cramps = daily_site.cramps + excluded.cramps, "
        "rest_s = daily_site.rest_s + excluded.rest_s, "
        "active_s = daily_site.active_s + excluded.active_s, "
        "gap_s = daily_site.gap_s + excluded.gap_s, "
        "windows = daily_site.windows + excluded.windows",
    )


def rebuild_days(db: Backend, user: str, zone: tzinfo) -> None:
    """Re-cut ``user``'s daily sums into ``zone``'s days from the stored site windows."""
    sums: dict[tuple[str, str, str], list[float]] = {}
    rows = db.execute(
        "SELECT site, start_utc, twitches, cramps, rest_s, active_s, gap_s "
        "FROM window_sites WHERE user_id = ?",
        (user,),
    )
    for site, start, twitches, cramps, rest_s, active_s, gap_s in rows:
        acc = sums.setdefault((user, site, day_of(start, zone)), [0, 0, 0.0, 0.0, 0.0, 0])
        acc[0] += twitches
        acc[1] += cramps
        acc[2] += rest_s
        acc[3] += active_s
        acc[4] += gap_s
        acc[5] += 1
    db.execute("DELETE FROM daily_site WHERE user_id = ?", (user,))
    _add_daily(db, sums)
