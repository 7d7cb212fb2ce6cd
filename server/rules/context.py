"""Factors seen around a finding: exercise at the site, caffeine, poor sleep, stress, dehydration,
alcohol, nicotine, medication.

Context is a list of plain phrases ("post-exercise: 1.6 h of activity recorded at the left calf
on Tue 3 Nov"), each with the factor it names, in the person's days. It is only ever shown: no
rule reads it, so it can never hide or lower an alert. How it is shown depends on the advice
level (server/rules/unit.py): beside an advisory or information it reads as a likely trigger,
with one practical suggestion from :data:`SUGGESTIONS`; beside a warning or an urgent alert it
is listed neutrally and never as an explanation. The thresholds are the [context] table of the
rules TOML (:data:`CONTEXT_TOML`, with their reasons).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import numpy as np

from server import wording
from server.rules.facts import Facts
from twitchwatch.contract import Report, ReportKind

CONTEXT_TOML = """\
[context]
# Factors shown beside every finding; they never hide or lower an alert.
# Looked for in the last 14 days.
window_days = 14
# Post-exercise: >= 45 min of voluntary contraction or motion recorded AT THE SITE itself, on a
# twitching day of that site or the day before. Each sensor sees only its own muscle: a calf
# sensor's walk is not the hand's exercise. Exercise the person reports counts too.
exercise_active_s_per_day = 2700
# Caffeine reports carry cups; >= 3 cups (~300 mg) in a day, or a report without a number.
caffeine_cups_per_day = 3.0
# Sleep reports carry hours; a night under 6 h is poor sleep.
poor_sleep_h = 6.0
# Stress reports carry a 0-10 score; >= 7, or a report without a number.
high_stress = 7.0
# Alcohol reports carry drinks; >= 3 in a day, or a report without a number.
alcohol_drinks_per_day = 3.0
"""


@dataclass(frozen=True, slots=True)
class ContextConfig:
    window_days: int
    exercise_active_s_per_day: float
    caffeine_cups_per_day: float
    poor_sleep_h: float
    high_stress: float
    alcohol_drinks_per_day: float


class Factor(StrEnum):
    """What a context phrase names."""

    EXERCISE = "exercise"
    CAFFEINE = "caffeine"
    SLEEP = "sleep"
    STRESS = "stress"
    DEHYDRATION = "dehydration"
    ALCOHOL = "alcohol"
    NICOTINE = "nicotine"
    MEDICATION = "medication"


#: One practical suggestion per factor, from the articles the product grew from (shared/seeds):
#: less caffeine and nicotine, enough sleep, hydration, stretching and rest after exercise,
#: ways to lower stress. Medication is not the person's to change: it is for the prescriber.
SUGGESTIONS: dict[Factor, str] = {
    Factor.EXERCISE: "Stretching, rest and enough to drink after exercise often help.",
    Factor.CAFFEINE: "Cutting down on caffeine (coffee, tea, energy drinks) often helps.",
    Factor.SLEEP: "Regular, sufficient sleep often helps.",
    Factor.STRESS: "Ways to lower stress, such as relaxation or breathing exercises, often help.",
    Factor.DEHYDRATION: "Drinking enough water through the day often helps.",
    Factor.ALCOHOL: "Drinking less alcohol often helps.",
    Factor.NICOTINE: "Cutting down on nicotine often helps.",
    Factor.MEDICATION: "If it began with a new medicine, ask the doctor or pharmacist about it.",
}


@dataclass(frozen=True, slots=True)
class ContextItem:
    day: date  # the latest day it was seen (the person's day)
    factor: Factor
    phrase: str


@dataclass(frozen=True, slots=True)
class Context:
    """The factors around one finding, latest first."""

    items: tuple[ContextItem, ...] = ()

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(item.phrase for item in self.items)

    @property
    def suggestion(self) -> str | None:
        """The suggestion for the factor seen most recently (one, not a list of advice)."""
        return SUGGESTIONS[self.items[0].factor] if self.items else None


class ContextFinder:
    """Computes the context of the last ``[context] window_days`` once, then per set of sites."""

    def __init__(self, facts: Facts) -> None:
        cfg = facts.config.context
        self._facts = facts
        self._memo: dict[tuple[int, ...] | None, Context] = {}
        self._days = min(cfg.window_days, facts.n_days)
        self._period = wording.period(cfg.window_days)
        self._threshold_s = cfg.exercise_active_s_per_day
        # Each site's own activity: a sensor sees its own muscle move, not the whole body.
        high = facts.active_s >= self._threshold_s
        self._high = high
        self._high_or_day_before = high | np.pad(high[:, :-1], ((0, 0), (1, 0)))
        since = facts.as_of - timedelta(days=cfg.window_days)
        recent = [r for r in facts.reports if r.t > since]
        day_of = facts.report_day
        self._reported = tuple(
            item
            for item in (
                _caffeine(recent, day_of, cfg.caffeine_cups_per_day, self._period),
                _sleep(recent, day_of, cfg.poor_sleep_h, self._period),
                _stress(recent, day_of, cfg.high_stress, self._period),
                _alcohol(recent, day_of, cfg.alcohol_drinks_per_day, self._period),
                _plain(recent, day_of, ReportKind.NICOTINE, Factor.NICOTINE, self._period),
                _plain(recent, day_of, ReportKind.DEHYDRATION, Factor.DEHYDRATION, self._period),
                _plain(recent, day_of, ReportKind.EXERCISE, Factor.EXERCISE, self._period),
                _plain(recent, day_of, ReportKind.MEDICATION, Factor.MEDICATION, self._period),
            )
            if item is not None
        )

    def for_sites(self, sites: np.ndarray | None) -> Context:
        """Context for findings about these site indices (None: every site)."""
        key = None if sites is None else tuple(int(i) for i in sites)
        if key not in self._memo:  # persistence and worsening ask for the same site
            self._memo[key] = self._for_sites(sites)
        return self._memo[key]

    def _for_sites(self, sites: np.ndarray | None) -> Context:
        items = list(self._reported)
        exercise = self._post_exercise(sites)
        if exercise is not None:
            items.append(exercise)
        # Latest first: the suggestion follows what was seen most recently; ties in a fixed
        # order (exercise recorded by a sensor before what was reported).
        items.sort(key=lambda item: (-item.day.toordinal(), list(Factor).index(item.factor)))
        return Context(tuple(items))

    def _post_exercise(self, sites: np.ndarray | None) -> ContextItem | None:
        """The latest twitching day of these sites on or after a day of exercise AT that site."""
        facts, days = self._facts, self._days
        rows = np.arange(len(facts.sites)) if sites is None else np.asarray(sites, dtype=np.intp)
        if rows.size == 0:
            return None
        twitching = facts.active[rows, -days:]
        post = twitching & self._high_or_day_before[rows, -days:]
        if not post.any():
            return None
        columns = np.flatnonzero(post.any(axis=0))
        column = facts.n_days - days + int(columns[-1])
        row_in = int(np.flatnonzero(post[:, columns[-1]])[0])
        site = int(rows[row_in])
        if not self._high[site, column]:
            column -= 1  # the activity was the day before the twitching
        hours = facts.active_s[site, column] / 3600.0
        when = facts.day(column)
        phrase = (
            f"post-exercise: {hours:.1f} h of activity recorded at the "
            f"{wording.site_name(facts.sites[site])} on {wording.day(when)}"
        )
        n_post, n_twitching = int(post.any(axis=0).sum()), int(twitching.any(axis=0).sum())
        if n_post > 1:
            minutes = round(self._threshold_s / 60)
            phrase += (
                f" ({n_post} of {n_twitching} twitching days in {self._period} were on or "
                f"after a day with {minutes} min or more at the site)"
            )
        return ContextItem(when, Factor.EXERCISE, phrase)


DayOf = Callable[[Report], date]


def _by_day(reports: Sequence[Report], kind: ReportKind, day_of: DayOf) -> dict[date, list[Report]]:
    days: dict[date, list[Report]] = defaultdict(list)
    for r in reports:
        if r.kind == kind:
            days[day_of(r)].append(r)
    return days


def _more(n_days: int, what: str, period: str) -> str:
    return f" ({n_days} days {what} in {period})" if n_days > 1 else ""


def _amounts(
    reports: Sequence[Report], kind: ReportKind, day_of: DayOf, at_least: float
) -> list[tuple[date, float | None]]:
    """Days whose amounts add up to ``at_least`` or more, or with a report without a number."""
    notable: list[tuple[date, float | None]] = []
    for day, rs in sorted(_by_day(reports, kind, day_of).items()):
        values = [r.value for r in rs if r.value is not None]
        total = sum(values) if values else None
        if total is None or total >= at_least or len(values) < len(rs):
            notable.append((day, total))
    return notable


def _caffeine(
    reports: Sequence[Report], day_of: DayOf, cups: float, period: str
) -> ContextItem | None:
    notable = _amounts(reports, ReportKind.CAFFEINE, day_of, cups)
    if not notable:
        return None
    day, total = notable[-1]
    amount = f"{total:g} cups " if total is not None else ""
    phrase = f"caffeine: {amount}reported on {wording.day(day)}"
    return ContextItem(day, Factor.CAFFEINE, phrase + _more(len(notable), "with caffeine", period))


def _alcohol(
    reports: Sequence[Report], day_of: DayOf, drinks: float, period: str
) -> ContextItem | None:
    notable = _amounts(reports, ReportKind.ALCOHOL, day_of, drinks)
    if not notable:
        return None
    day, total = notable[-1]
    amount = f"{total:g} drinks " if total is not None else ""
    phrase = f"alcohol: {amount}reported on {wording.day(day)}"
    return ContextItem(day, Factor.ALCOHOL, phrase + _more(len(notable), "with alcohol", period))


def _sleep(
    reports: Sequence[Report], day_of: DayOf, poor_h: float, period: str
) -> ContextItem | None:
    short = [
        (day, min(r.value for r in rs if r.value is not None))
        for day, rs in sorted(_by_day(reports, ReportKind.SLEEP, day_of).items())
        if any(r.value is not None and r.value < poor_h for r in rs)
    ]
    if not short:
        return None
    day, hours = short[-1]
    phrase = f"poor sleep: {hours:g} h reported on {wording.day(day)}"
    return ContextItem(day, Factor.SLEEP, phrase + _more(len(short), f"under {poor_h:g} h", period))


def _stress(
    reports: Sequence[Report], day_of: DayOf, high: float, period: str
) -> ContextItem | None:
    notable = [
        (day, max((r.value for r in rs if r.value is not None), default=None))
        for day, rs in sorted(_by_day(reports, ReportKind.STRESS, day_of).items())
        if any(r.value is None or r.value >= high for r in rs)
    ]
    if not notable:
        return None
    day, score = notable[-1]
    amount = f"{score:g}/10 " if score is not None and score >= high else ""
    phrase = f"stress: {amount}reported on {wording.day(day)}"
    return ContextItem(day, Factor.STRESS, phrase + _more(len(notable), "with stress", period))


def _plain(
    reports: Sequence[Report], day_of: DayOf, kind: ReportKind, factor: Factor, period: str
) -> ContextItem | None:
    days = sorted(_by_day(reports, kind, day_of))
    if not days:
        return None
    label = kind.value
    phrase = f"{label} reported on {wording.day(days[-1])}"
    return ContextItem(days[-1], factor, phrase + _more(len(days), f"with {label}", period))
