"""Synthetic histories for the rules: seeded per-day counts, wear time and reports, and a replay.

A :class:`HistoryBuilder` lays out what one user wore, day by day (the person's own days, in
their zone): twitch counts are Poisson around a rate per minute of rest, times a day-to-day
factor (lognormal, as real counts vary more than Poisson), over a seeded amount of rest and
activity. Named scenarios below are the stories the tests (and the benches) replay, e.g.::

    run = replay(spreading(), load_rule_config(None))    # calf, then hand, then tongue
    run.transitions(Rule.SPREAD)                          # [pending, firing, escalated, ...]

``replay`` drives the server's own evaluation steps (``server.evaluate.run_steps``) with the
server's clock: the end of each of the person's days, as the server's day-by-day catch-up and
its wall-clock tick evaluate them, handing each step only the rows up to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Self
from zoneinfo import ZoneInfo

import numpy as np

from server.alerts import acknowledge, resolve
from server.evaluate import run_steps
from server.localdays import day_end, local_day
from server.model import AlertRecord, DaySite, Finding, History
from server.rules import RuleConfig
from twitchwatch.contract import DEFAULT_TZ, AlertEvent, Report, ReportKind, Rule, Transition

START = date(2026, 9, 7)
DAY_S = 86_400.0

Rate = float | Callable[[int], float]


@dataclass(frozen=True)
class Scenario:
    """A user's whole synthetic history; ``history(as_of)`` is what the store would hand over."""

    user: str
    start: date
    n_days: int
    days: tuple[DaySite, ...]
    reports: tuple[Report, ...]
    tz: str = DEFAULT_TZ  # the person's zone: their days and the times of their reports

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def day(self, index: int) -> date:
        return self.start + timedelta(days=index)

    def day_index(self, t: datetime) -> int:
        """The index of the person's day a moment falls on."""
        return (local_day(t, self.zone) - self.start).days

    def as_of(self, index: int) -> datetime:
        """The evaluation time of day ``index``: its last second, in the person's zone."""
        return day_end(self.day(index), self.zone)

    def history(self, as_of: datetime | None = None) -> History:
        if as_of is None:
            return History(self.user, self.days, self.reports, self.tz)
        last = local_day(as_of, self.zone)
        return History(
            self.user,
            tuple(d for d in self.days if d.day <= last),
            tuple(r for r in self.reports if r.t <= as_of),
            self.tz,
        )


class HistoryBuilder:
    """Builds a :class:`Scenario`; later calls for the same (site, day) replace earlier ones."""

    def __init__(
        self,
        n_days: int,
        *,
        user: str = "ada",
        start: date = START,
        seed: int = 0,
        tz: str = DEFAULT_TZ,
    ):
        self.n_days, self.user, self.start, self.tz = n_days, user, start, tz
        self._rng = np.random.default_rng(seed)
        self._rows: dict[tuple[int, str], DaySite] = {}
        self._reports: list[Report] = []

    def wear(
        self,
        site: str,
        first: int = 0,
        last: int | None = None,
        *,
        rate_per_min: Rate = 0.0,
        twitch_days: Iterable[int] | None = None,
        quiet_rate_per_min: float = 0.01,
        rest_h: float = 6.0,
        active_h: float = 0.15,
        variability: float = 0.25,
    ) -> Self:
        """Wear ``site`` on days ``first`` .. ``last - 1``.

        ``rate_per_min`` (a number or a function of the day index) applies on ``twitch_days``
        (default: every day); other days twitch at ``quiet_rate_per_min``, well below the
        activity threshold. ``variability`` is the sd of the log of the day-to-day factor.
        """
        last = self.n_days if last is None else last
        on = None if twitch_days is None else set(twitch_days)
        for i in range(first, last):
            twitching = on is None or i in on
            rate = (
                (rate_per_min(i) if callable(rate_per_min) else rate_per_min)
                if twitching
                else quiet_rate_per_min
            )
            rest_s = rest_h * 3600 * self._rng.uniform(0.85, 1.15)
            active_s = active_h * 3600 * self._rng.uniform(0.8, 1.2)
            factor = self._rng.lognormal(-(variability**2) / 2, variability) if variability else 1.0
            twitches = int(self._rng.poisson(rate * rest_s / 60 * factor))
            self._put(i, site, twitches, rest_s, active_s)
        return self

    def barely_worn(
        self, site: str, first: int, last: int, *, rest_min: float = 10.0, twitches: int = 0
    ) -> Self:
        """Rows with too little rest to count: NO DATA, even though they hold no twitch."""
        for i in range(first, last):
            self._put(i, site, twitches, rest_min * 60, 600.0)
        return self

    def unworn(self, site: str, first: int, last: int) -> Self:
        """No rows at all: the sensor stayed in its drawer."""
        for i in range(first, last):
            self._rows.pop((i, site), None)
        return self

    def activity(self, day: int, hours: float, site: str | None = None) -> Self:
        """Set the voluntary/motion time of a worn site on ``day`` (a run, a gym session)."""
        key = next(k for k in sorted(self._rows) if k[0] == day and (site is None or k[1] == site))
        row = self._rows[key]
        self._put(day, row.site, row.twitches, row.rest_s, hours * 3600)
        return self

    def report(
        self,
        day: int,
        kind: ReportKind,
        *,
        site: str | None = None,
        value: float | None = None,
        note: str | None = None,
        hour: int = 20,
    ) -> Self:
        """A report at ``hour`` o'clock of day ``day``, the person's local time."""
        local = datetime.combine(self.start + timedelta(days=day), time(hour), ZoneInfo(self.tz))
        self._reports.append(Report(local.astimezone(ZoneInfo("UTC")), kind, site, value, note))
        return self

    def build(self) -> Scenario:
        days = tuple(self._rows[k] for k in sorted(self._rows, key=lambda k: (k[0], k[1])))
        return Scenario(
            self.user,
            self.start,
            self.n_days,
            days,
            tuple(sorted(self._reports, key=lambda r: r.t)),
            self.tz,
        )

    def _put(self, i: int, site: str, twitches: int, rest_s: float, active_s: float) -> None:
        gap_s = max(DAY_S - rest_s - active_s, 0.0)
        windows = int((rest_s + active_s) // 60) + 1
        day = self.start + timedelta(days=i)
        self._rows[(i, site)] = DaySite(day, site, twitches, 0, rest_s, active_s, gap_s, windows)


# --- named scenarios -----------------------------------------------------------------------------


def benign_calf(weeks: int = 6, *, seed: int = 1) -> Scenario:
    """A left calf twitching ~1.5/min every day; a long run on Saturdays, coffee most days."""
    n = weeks * 7
    b = HistoryBuilder(n, seed=seed).wear("left_calf", rate_per_min=1.5)
    for i in range(5, n, 7):
        b.activity(i, 1.6)
    for i in range(0, n, 3):
        b.report(i, ReportKind.CAFFEINE, value=2)
    return b.build()


def eyelid_only(weeks: int = 6, *, seed: int = 2) -> Scenario:
    """Both eyelids twitch for weeks; nothing else does."""
    n = weeks * 7
    b = HistoryBuilder(n, seed=seed)
    return b.wear("left_eyelid", rate_per_min=1.0).wear("right_eyelid", rate_per_min=0.6).build()


def spreading(*, seed: int = 3) -> Scenario:
    """Calf from day 0, then the right hand from day 28, then the tongue from day 56.

    The hand and tongue sensors are worn (and still) from day 0, so each new region has a
    baseline; every site keeps twitching once it started.
    """
    b = HistoryBuilder(100, seed=seed)
    b.wear("left_calf", rate_per_min=1.5)
    b.wear("right_hand", rate_per_min=0.8, twitch_days=range(28, 100))
    b.wear("tongue", rate_per_min=0.6, twitch_days=range(56, 100))
    return b.build()


def limbs(*, seed: int = 4) -> Scenario:
    """Five limb groups twitching (both calves and thighs, the left hand): two regions only."""
    b = HistoryBuilder(42, seed=seed)
    for site in ("left_calf", "right_calf", "left_thigh", "right_thigh", "left_hand"):
        b.wear(site, rate_per_min=1.0)
    return b.build()


def worsening_calf(*, factor: float = 2.0, seed: int = 5) -> Scenario:
    """A calf at 1/min for four weeks, then ``factor`` times that for three."""
    b = HistoryBuilder(49, seed=seed)
    return b.wear("left_calf", rate_per_min=lambda i: 1.0 if i < 28 else factor).build()


def red_flag_only(symptom: ReportKind = ReportKind.SWALLOWING, *, day: int = 3) -> Scenario:
    """No sensor data at all, one red-flag report."""
    return HistoryBuilder(21).report(day, symptom, note="hard to swallow bread").build()


# --- replay --------------------------------------------------------------------------------------

AlertKey = tuple[Rule, str]


@dataclass
class Replay:
    """What a day-by-day replay produced: the final records, every event, each day's findings."""

    records: dict[AlertKey, AlertRecord] = field(default_factory=dict)
    events: list[AlertEvent] = field(default_factory=list)
    findings: dict[int, dict[AlertKey, Finding]] = field(default_factory=dict)
    event_days: list[int] = field(default_factory=list)

    def events_for(self, rule: Rule, scope: str | None = None) -> list[AlertEvent]:
        return [
            e
            for e in self.events
            if e.alert.rule is rule and (scope is None or e.alert.scope == scope)
        ]

    def transitions(self, rule: Rule, scope: str | None = None) -> list[Transition]:
        return [e.transition for e in self.events_for(rule, scope)]

    def add(self, day: int, events: Sequence[AlertEvent]) -> None:
        self.events += events
        self.event_days += [day] * len(events)

    def notified(self) -> list[AlertEvent]:
        """The events a person is told of (not pending, not folded, not their own acks)."""
        return [e for e in self.events if e.notify]

    def first_day(self, rule: Rule, scope: str, transition: Transition) -> int | None:
        for day, e in zip(self.event_days, self.events, strict=True):
            if e.alert.rule is rule and e.alert.scope == scope and e.transition is transition:
                return day
        return None


def replay(
    scenario: Scenario,
    config: RuleConfig,
    *,
    days: Iterable[int] | None = None,
    acks: dict[int, list[AlertKey]] | None = None,
    resolves: dict[int, list[AlertKey]] | None = None,
    twice: bool = False,
) -> Replay:
    """Evaluate every day of ``scenario`` (or ``days``) and take every alert through its
    lifecycle, with the server's own steps (``run_steps``) at the end of each day.

    ``acks`` acknowledges, ``resolves`` marks resolved (after seeing a doctor), alerts on a day
    before that day's evaluation. With ``twice`` every evaluation is repeated at the same time
    (a restart); the repeat must change nothing.
    """
    run = Replay()
    for i in range(scenario.n_days) if days is None else days:
        as_of = scenario.as_of(i)
        for key in (acks or {}).get(i, []):
            if key in run.records:
                run.records[key], events = acknowledge(run.records[key], as_of)
                run.add(i, events)
        for key in (resolves or {}).get(i, []):
            if key in run.records:
                run.records[key], events = resolve(run.records[key], as_of, scenario.zone)
                run.add(i, events)
        history = scenario.history(as_of)

        def keep(at: datetime, found: Sequence[Finding], day: int = i) -> None:
            run.findings[day] = {(f.rule, f.scope): f for f in found}

        changed, events = run_steps(scenario.user, history, run.records, [as_of], config, keep)
        run.records.update(changed)
        run.add(i, events)
        if twice:
            again, repeated = run_steps(scenario.user, history, run.records, [as_of], config)
            if again or repeated:
                raise AssertionError(f"re-evaluation on day {i} changed {again} {repeated}")
    return run
