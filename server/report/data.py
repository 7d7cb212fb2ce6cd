"""What a report shows: one user's stored data, read in one transaction and laid out as arrays.

Every per-day judgement (observed, active, established) comes from the rules' own
:func:`server.rules.facts.build_facts`, evaluated at the end of each day of the report as the
server would have evaluated it, so the report and the alerts cannot disagree about a threshold.
Days, dates and times are the person's own: the zone of their profile (UTC without one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

import numpy as np

from server.errors import NoDataError
from server.localdays import day_end, day_start, local_day
from server.model import AlertRecord, History
from server.rules import RuleConfig
from server.rules.facts import build_facts
from server.store import Store
from twitchwatch.contract import (
    AlertEvent,
    AlertState,
    Region,
    Report,
)

#: The start of everything: events before a report's period still say what state an alert is in.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RegionStatus(IntEnum):
    """What one region did on one day, worst first when several sites disagree."""

    NOT_OBSERVED = 0  # no site of the region had enough observed rest
    STILL = 1  # observed, no counted site twitching
    ACTIVE = 2  # a site twitched that day
    ESTABLISHED = 3  # a counted site had established twitching as of that day's end


@dataclass(frozen=True, slots=True)
class ReportData:
    """One user's report period. Arrays are (n_sites, n_days) unless noted, oldest day first."""

    user: str
    source: str  # the database URL, password hidden
    config: RuleConfig
    tz: str  # the person's zone: every day, date and time of the report is in it
    until: datetime  # the data's end: the latest stored event, or the end of --until's day
    days: tuple[date, ...]  # every day from the first to the last day with data
    sites: tuple[str, ...]  # sites with stored days in the period, sorted
    twitches: np.ndarray  # int64
    cramps: np.ndarray  # int64
    rest_s: np.ndarray  # float64, observed rest
    active_s: np.ndarray  # float64, voluntary contraction or motion
    worn: np.ndarray  # bool: the site sent windows with rest or activity that day
    observed: np.ndarray  # bool: enough observed rest to count the day (rules: observed)
    active: np.ndarray  # bool: observed and twitching (rules: active)
    established: np.ndarray  # bool: established twitching as of the day's end (rules)
    regions: np.ndarray  # (n_regions, n_days) RegionStatus values, regions in Region order
    region_observed: np.ndarray  # (n_regions, n_days) bool: a site of the region was observed
    region_active: np.ndarray  # (n_regions, n_days) bool: a site of it twitched that day
    limb_groups: np.ndarray  # (n_days,) int: limb groups with established twitching
    reports: tuple[Report, ...]  # in the period, by time
    events: tuple[AlertEvent, ...]  # alert transitions in the period, by time
    alerts: tuple[AlertState, ...]  # every alert's state at ``until``
    #: Windows of the person's devices refused for good, ``(reason, count)`` sorted (all time).
    refused: tuple[tuple[str, int], ...] = ()

    @property
    def n_days(self) -> int:
        return len(self.days)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def rate_per_min(self) -> np.ndarray:
        """Twitches per minute of observed rest; NaN where the day is not observed (not zero)."""
        return np.divide(
            self.twitches * 60.0,
            self.rest_s,
            out=np.full(self.rest_s.shape, np.nan),
            where=self.observed,
        )

    @property
    def days_worn(self) -> int:
        """Days on which any sensor was worn (rest or activity recorded)."""
        return int(self.worn.any(axis=0).sum())


def load_report_data(
    store: Store,
    user: str,
    config: RuleConfig,
    *,
    days: int | None = None,
    until: date | None = None,
) -> ReportData:
    """Read ``user``'s last ``days`` days up to ``until`` (default: the latest stored data).

    Raises
    ------
    NoDataError
        The store holds no data for ``user``, or none in the period.
    """
    n_days = days or config.history_days
    with store.reading() as tx:
        latest, _ = tx.user_state(user)
        if latest is None:
            raise NoDataError(user, store.url)
        tz = tx.profile_tz(user)
        zone = ZoneInfo(tz)
        end = latest if until is None or day_end(until, zone) >= latest else day_end(until, zone)
        last_day = local_day(end, zone)
        first_day = last_day - timedelta(days=n_days - 1)
        # Whole days: the last day's evaluation may come after its last window.
        period_end = day_end(last_day, zone)
        # The rules look back history_days from each day: the first day needs that much before it.
        since_day = first_day - timedelta(days=config.history_days)
        history = tx.load_history(user, since_day, period_end)
        records = tx.load_alerts(user) if end >= latest else None
        all_events = tx.alert_events(user, _EPOCH, period_end)
        refused = tuple(sorted(tx.refused_windows(user).items()))
    in_period = [d for d in history.days if d.day >= first_day]
    reports = tuple(r for r in history.reports if local_day(r.t, zone) >= first_day)
    data_days = {d.day for d in in_period} | {local_day(r.t, zone) for r in reports}
    if not data_days:
        raise NoDataError(user, store.url, (first_day, last_day))
    axis = _days_between(min(data_days), max(data_days))
    sites = tuple(sorted({d.site for d in in_period}))
    start = day_start(axis[0], zone)
    return ReportData(
        user=user,
        source=store.url,
        config=config,
        tz=tz,
        until=end,
        days=axis,
        sites=sites,
        **_grids(history, axis, sites),
        **_judgements(history, axis, sites, config),
        reports=reports,
        events=tuple(e for e in all_events if e.t >= start),
        alerts=_states(records, all_events),
        refused=refused,
    )


def _days_between(first: date, last: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


def _grids(
    history: History, axis: tuple[date, ...], sites: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """The stored daily sums as (n_sites, n_days) arrays; zero where nothing was stored."""
    shape = (len(sites), len(axis))
    column = {day: i for i, day in enumerate(axis)}
    row = {site: i for i, site in enumerate(sites)}
    rows = [d for d in history.days if d.day in column]
    at = (
        np.fromiter((row[d.site] for d in rows), dtype=np.intp, count=len(rows)),
        np.fromiter((column[d.day] for d in rows), dtype=np.intp, count=len(rows)),
    )
    grids = {
        "twitches": np.zeros(shape, np.int64),
        "cramps": np.zeros(shape, np.int64),
        "rest_s": np.zeros(shape),
        "active_s": np.zeros(shape),
    }
    for name, grid in grids.items():
        values = np.fromiter((getattr(d, name) for d in rows), dtype=grid.dtype, count=len(rows))
        np.add.at(grid, at, values)
    grids["worn"] = (grids["rest_s"] + grids["active_s"]) > 0
    return grids


def _judgements(
    history: History, axis: tuple[date, ...], sites: tuple[str, ...], config: RuleConfig
) -> dict[str, np.ndarray]:
    """Observed, active and established per site and day, and each day's regions and limb groups.

    The rules run at every day's end over the history up to it, exactly as the server's daily
    evaluation does, and the report keeps their answers for that day.
    """
    shape = (len(sites), len(axis))
    observed, active, established = (np.zeros(shape, bool) for _ in range(3))
    regions = np.zeros((len(Region), len(axis)), np.int8)
    region_observed = np.zeros(regions.shape, bool)
    region_active = np.zeros(regions.shape, bool)
    limb_groups = np.zeros(len(axis), np.int64)
    row = {site: i for i, site in enumerate(sites)}
    region_row = {region: i for i, region in enumerate(Region)}
    for column, day in enumerate(axis):
        facts = build_facts(history, day_end(day, history.zone), config)
        for i, site in enumerate(facts.sites):
            region = facts.regions[i]
            j = row.get(site)
            if j is not None:
                observed[j, column] = facts.observed[i, -1]
                active[j, column] = facts.active[i, -1]
                established[j, column] = facts.established[i]
            if region is None:
                continue
            r = region_row[region]
            region_observed[r, column] |= facts.observed[i, -1]
            region_active[r, column] |= facts.active[i, -1]
            # Eyelid twitching is shown as twitching, but only counted sites become established
            # (the rules' ignore_places), as the alerts see it.
            if facts.established[i]:
                status = RegionStatus.ESTABLISHED
            elif facts.active[i, -1]:
                status = RegionStatus.ACTIVE
            elif facts.observed[i, -1]:
                status = RegionStatus.STILL
            else:
                continue
            regions[r, column] = max(regions[r, column], status)
        limb_groups[column] = len(
            {facts.limb_groups[i] for i in np.flatnonzero(facts.established)} - {None}
        )
    return {
        "observed": observed,
        "active": active,
        "established": established,
        "regions": regions,
        "region_observed": region_observed,
        "region_active": region_active,
        "limb_groups": limb_groups,
    }


def _states(records: list[AlertRecord] | None, events: list[AlertEvent]) -> tuple[AlertState, ...]:
    """Every alert's state: as stored, or (for a report that ends earlier) its last event's."""
    if records is not None:
        return tuple(r.state() for r in records)
    last: dict[tuple[str, str], AlertState] = {}
    for event in events:  # oldest first: the last one wins
        last[(event.alert.rule.value, event.alert.scope)] = event.alert
    return tuple(last[key] for key in sorted(last))
