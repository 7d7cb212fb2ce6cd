"""What a logged-in person sees, read from the store: today's windows, the weeks of daily rates,
alerts with their history, reports. Plain data for the templates; nothing here writes.

Every function runs one read-only transaction (:meth:`Store.reading`) and is called on the web
view's database thread. Per-day judgements (a day observed or not, twitching or not) come from
the report's data (``server/report/data.py``), which takes them from the rules themselves, so the
page, the doctor's report and the alerts agree on what "no data" means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import numpy as np

from server import wording
from server.errors import NoDataError
from server.model import History
from server.report.data import load_report_data
from server.rules import RULES, RuleConfig
from server.store import Store, TodayRow
from twitchwatch.contract import (
    ADVICE,
    AlertEvent,
    AlertState,
    AlertStatus,
    Report,
    region_of,
)

#: An hour of today shows a rate once it has this much observed rest; less is "no data".
HOUR_MIN_REST_S = 300.0
#: How far back the alert history and the report list go.
HISTORY_DAYS = 90
#: A site's headline rate is its median over the measured days of this many recent days.
RECENT_DAYS = 14


@dataclass(frozen=True, slots=True)
class HourCell:
    start: datetime  # local
    twitches: int
    rest_s: float
    rate: float | None  # per minute of rest; None: not enough rest observed


@dataclass(frozen=True, slots=True)
class TodaySite:
    site: str
    label: str
    twitches: int
    cramps: int
    rest_s: float
    active_s: float
    windows: int
    hours: tuple[HourCell, ...]
    counts_as_day: bool  # enough rest for the rules to count the day

    @property
    def rate(self) -> float | None:
        return self.twitches * 60.0 / self.rest_s if self.rest_s >= 60.0 else None


@dataclass(frozen=True, slots=True)
class Today:
    day: date
    sites: tuple[TodaySite, ...]
    last_window: datetime | None  # local end of the latest window
    min_rest_min: float


@dataclass(frozen=True, slots=True)
class SiteWeeks:
    site: str
    label: str
    rate: tuple[float | None, ...]  # per day of Weeks.days; None: no data (not zero)
    twitching: tuple[bool, ...]
    cramps: tuple[int, ...]
    observed_days: int
    twitching_days: int
    median_rate: float | None  # over the measured days of the last RECENT_DAYS days

    @property
    def cramps_total(self) -> int:
        return sum(self.cramps)

    def cramp_days(self, days: tuple[date, ...]) -> list[tuple[date, int]]:
        return [(d, n) for d, n in zip(days, self.cramps, strict=True) if n]


@dataclass(frozen=True, slots=True)
class Weeks:
    days: tuple[date, ...]  # oldest first, ending today
    sites: tuple[SiteWeeks, ...]
    threshold: float  # twitches per minute from which a day counts as twitching
    min_rest_min: float  # observed rest a day needs to count


@dataclass(frozen=True, slots=True)
class AlertItem:
    state: AlertState
    title: str
    scope_label: str
    events: tuple[AlertEvent, ...]  # oldest first
    since_local: datetime
    can_resolve: bool  # raised by a reported symptom: the person may mark it resolved
    covered_by: str | None = None  # the warning or urgent alert it is folded into, in words

    @property
    def folded(self) -> bool:
        return self.state.folded_into is not None

    @property
    def key(self) -> str:
        return f"{self.state.rule.value}/{self.state.scope}"

    @property
    def current(self) -> bool:
        return self.state.state is not AlertStatus.RESOLVED

    @property
    def advice(self) -> str | None:
        """The advice of its level when the alert fires and its message does not say it yet."""
        advice = ADVICE[self.state.severity]
        if self.state.state is not AlertStatus.FIRING or advice in self.state.message:
            return None
        return advice


def site_label(site: str) -> str:
    return wording.site_name(site)


def scope_label(scope: str) -> str:
    """A site scope in words ("left calf"), a region's lay name, else the scope as it is."""
    if region_of(scope) is not None:
        return wording.site_name(scope)
    return wording.region_name(scope) if scope != "all" else "whole body"


def read_today(store: Store, user: str, zone: tzinfo, now: datetime, config: RuleConfig) -> Today:
    """``user``'s windows of today (in ``zone``) up to ``now``, per site and hour."""
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    with store.reading() as tx:
        rows = tx.window_sites(user, start, end)
    by_site: dict[str, list[TodayRow]] = {}
    for row in rows:
        by_site.setdefault(row.site, []).append(row)
    min_rest_s = config.observation.min_rest_s_per_day
    hours = _hour_starts(start, end)
    sites = tuple(
        _today_site(site, by_site[site], hours, zone, min_rest_s) for site in sorted(by_site)
    )
    last = max((r.end for r in rows), default=None)
    return Today(day, sites, None if last is None else last.astimezone(zone), min_rest_s / 60)


def _hour_starts(start: datetime, end: datetime) -> list[datetime]:
    """Each hour's start from local midnight to the next (23 or 25 on a clock-change day)."""
    starts, t = [], start.astimezone(UTC)
    while t < end:
        starts.append(t)
        t += timedelta(hours=1)
    return starts


def _today_site(
    site: str, rows: list[TodayRow], hours: list[datetime], zone: tzinfo, min_rest_s: float
) -> TodaySite:
    cells = []
    for i, hour in enumerate(hours):
        upto = hours[i + 1] if i + 1 < len(hours) else hour + timedelta(hours=1)
        mine = [r for r in rows if hour <= r.start < upto]
        rest = sum(r.rest_s for r in mine)
        twitches = sum(r.twitches for r in mine)
        rate = twitches * 60.0 / rest if rest >= HOUR_MIN_REST_S else None
        cells.append(HourCell(hour.astimezone(zone), twitches, rest, rate))
    rest_s = sum(r.rest_s for r in rows)
    return TodaySite(
        site,
        site_label(site),
        sum(r.twitches for r in rows),
        sum(r.cramps for r in rows),
        rest_s,
        sum(r.active_s for r in rows),
        len(rows),
        tuple(cells),
        rest_s >= min_rest_s,
    )


def read_weeks(
    store: Store, user: str, today: date, config: RuleConfig, days: int = HISTORY_DAYS
) -> Weeks | None:
    """The last ``days`` days up to ``today``, per site, from the first day with data if that
    is later (days before anything was ever worn are not "days without data"); None when
    nothing is stored yet."""
    try:
        data = load_report_data(store, user, config, days=days)
    except NoDataError:
        return None
    first = min(max(today - timedelta(days=days - 1), data.days[0]), today)
    axis = tuple(first + timedelta(days=i) for i in range((today - first).days + 1))
    column = {d: i for i, d in enumerate(data.days)}
    rate = data.rate_per_min
    sites = []
    for j, site in enumerate(data.sites):
        rates: list[float | None] = []
        twitching, cramps = [], []
        for d in axis:
            i = column.get(d)
            observed = i is not None and bool(data.observed[j, i])
            rates.append(float(rate[j, i]) if observed and i is not None else None)
            twitching.append(i is not None and bool(data.active[j, i]))
            cramps.append(int(data.cramps[j, i]) if i is not None else 0)
        seen = [r for r in rates if r is not None]
        recent = [r for r in rates[-RECENT_DAYS:] if r is not None]
        sites.append(
            SiteWeeks(
                site,
                site_label(site),
                tuple(rates),
                tuple(twitching),
                tuple(cramps),
                len(seen),
                sum(twitching),
                float(np.median(recent)) if recent else None,
            )
        )
    obs = config.observation
    return Weeks(axis, tuple(sites), obs.active_rate_per_min, obs.min_rest_s_per_day / 60)


def read_alerts(store: Store, user: str, zone: tzinfo, now: datetime) -> list[AlertItem]:
    """Every alert of ``user`` with its transitions of the last HISTORY_DAYS days; current
    ones first, the most severe first."""
    since = now - timedelta(days=HISTORY_DAYS)
    with store.reading() as tx:
        records = tx.load_alerts(user)
        events = tx.alert_events(user, since, now + timedelta(days=1))
    by_alert: dict[tuple[str, str], list[AlertEvent]] = {}
    for event in events:
        by_alert.setdefault((event.alert.rule.value, event.alert.scope), []).append(event)
    states = [r.state() for r in records]
    names = {
        f"{s.rule.value}/{s.scope}": f"{RULES[s.rule].title} ({scope_label(s.scope)})"
        for s in states
    }
    items = [
        AlertItem(
            state,
            RULES[state.rule].title,
            scope_label(state.scope),
            tuple(by_alert.get((state.rule.value, state.scope), [])),
            state.since.astimezone(zone),
            RULES[state.rule].person_can_resolve,
            None if state.folded_into is None else names.get(state.folded_into, state.folded_into),
        )
        for state in states
    ]
    # Current first, then what is not folded under another, the most severe, the newest first.
    items.sort(
        key=lambda a: (not a.current, a.folded, -a.state.severity.rank, -a.state.since.timestamp())
    )
    return items


def read_reports(store: Store, user: str, now: datetime) -> list[Report]:
    """``user``'s reports of the last HISTORY_DAYS days, newest first."""
    with store.reading() as tx:
        reports = tx.reports_between(
            user, now - timedelta(days=HISTORY_DAYS), now + timedelta(days=1)
        )
    return reports[::-1]


def read_history(
    store: Store, user: str, zone: tzinfo, now: datetime, config: RuleConfig
) -> History:
    """What the rules read of ``user`` at ``now``: the trailing ``history_days`` and reports."""
    since_day = now.astimezone(zone).date() - timedelta(days=config.history_days)
    with store.reading() as tx:
        return tx.load_history(user, since_day, now)


def profile_tz(store: Store, user: str) -> str:
    """The zone the server cuts ``user``'s days in (UTC until a profile sets one)."""
    with store.reading() as tx:
        return tx.profile_tz(user)


def read_sites(store: Store, user: str) -> list[str]:
    with store.reading() as tx:
        return tx.sites(user)


def report_settled(store: Store, user: str, report: Report) -> bool:
    """Is ``report`` stored, and the person's data evaluated since?"""
    with store.reading() as tx:
        stored = tx.has_report(user, report)
        _, dirty = tx.user_state(user)
    return stored and not dirty


def alert_state(store: Store, user: str, rule_scope: tuple[str, str]) -> AlertState | None:
    with store.reading() as tx:
        for record in tx.load_alerts(user):
            if (record.rule.value, record.scope) == rule_scope:
                return record.state()
    return None
