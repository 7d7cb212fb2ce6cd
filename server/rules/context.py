"""Likely benign factors shown beside a finding: post-exercise days, caffeine, poor sleep, stress.

Context is a list of plain phrases ("post-exercise: 1.6 h of activity recorded on 2026-11-20").
It is only ever shown: no rule reads it, so it can never hide or lower an alert. The thresholds
are the [context] table of the rules TOML (:data:`CONTEXT_TOML`, with their reasons).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from server import wording
from server.rules.facts import Facts
from twitchwatch.contract import Report, ReportKind, utc_day

CONTEXT_TOML = """\
[context]
# Likely benign factors shown beside every finding; they never hide or lower an alert.
# Looked for in the last 14 days.
window_days = 14
# Post-exercise: >= 45 min of voluntary contraction or motion (accelerometer) summed over the
# user's sites, on a twitching day or the day before.
exercise_active_s_per_day = 2700
# Caffeine reports carry cups; >= 3 cups (~300 mg) in a day, or a report without a number.
caffeine_cups_per_day = 3.0
# Sleep reports carry hours; a night under 6 h is poor sleep.
poor_sleep_h = 6.0
# Stress reports carry a 0-10 score; >= 7, or a report without a number.
high_stress = 7.0
"""


@dataclass(frozen=True, slots=True)
class ContextConfig:
    window_days: int
    exercise_active_s_per_day: float
    caffeine_cups_per_day: float
    poor_sleep_h: float
    high_stress: float


class ContextFinder:
    """Computes the context of the last ``[context] window_days`` once, then per set of sites."""

    def __init__(self, facts: Facts) -> None:
        cfg = facts.config.context
        self._facts = facts
        self._memo: dict[tuple[int, ...] | None, tuple[str, ...]] = {}
        self._days = min(cfg.window_days, facts.n_days)
        self._period = wording.period(cfg.window_days)
        self._threshold_s = cfg.exercise_active_s_per_day
        # Activity is summed over every site: exercise moves the whole body, and the sensor on
        # the twitching site may not be the one that saw it.
        self._activity_s = facts.active_s.sum(axis=0)
        high = self._activity_s >= self._threshold_s
        self._high = high
        self._high_or_day_before = high | np.concatenate(([False], high[:-1]))
        since = facts.as_of - timedelta(days=cfg.window_days)
        recent = [r for r in facts.reports if r.t > since]
        self._report_phrases = tuple(
            phrase
            for phrase in (
                _caffeine(recent, cfg.caffeine_cups_per_day, self._period),
                _sleep(recent, cfg.poor_sleep_h, self._period),
                _stress(recent, cfg.high_stress, self._period),
                _plain(recent, ReportKind.EXERCISE, "exercise", self._period),
                _plain(recent, ReportKind.MEDICATION, "medication", self._period),
            )
            if phrase
        )

    def for_sites(self, sites: np.ndarray | None) -> tuple[str, ...]:
        """Context for findings about these site indices (None: every site)."""
        key = None if sites is None else tuple(int(i) for i in sites)
        if key not in self._memo:  # persistence and worsening ask for the same site
            self._memo[key] = self._for_sites(sites)
        return self._memo[key]

    def _for_sites(self, sites: np.ndarray | None) -> tuple[str, ...]:
        facts = self._facts
        active = facts.active if sites is None else facts.active[sites]
        twitching = active[:, -self._days :].any(axis=0)
        post = twitching & self._high_or_day_before[-self._days :]
        phrases: list[str] = []
        if post.any():
            column = facts.n_days - self._days + int(np.flatnonzero(post)[-1])
            if not self._high[column]:
                column -= 1  # the activity was the day before the twitching
            hours = self._activity_s[column] / 3600.0
            phrase = f"post-exercise: {hours:.1f} h of activity recorded on {facts.day(column)}"
            if post.sum() > 1:
                minutes = round(self._threshold_s / 60)
                phrase += (
                    f" ({int(post.sum())} of {int(twitching.sum())} twitching days in "
                    f"{self._period} were on or after a day with {minutes} min or more)"
                )
            phrases.append(phrase)
        return (*phrases, *self._report_phrases)


def _by_day(reports: list[Report], kind: ReportKind) -> dict[date, list[Report]]:
    days: dict[date, list[Report]] = defaultdict(list)
    for r in reports:
        if r.kind == kind:
            days[utc_day(r.t)].append(r)
    return days


def _more(n_days: int, what: str, period: str) -> str:
    return f" ({n_days} days {what} in {period})" if n_days > 1 else ""


def _caffeine(reports: list[Report], cups: float, period: str) -> str | None:
    # A day's cups add up over its reports; a report without a number counts as notable.
    notable: list[tuple[date, float | None]] = []
    for day, rs in sorted(_by_day(reports, ReportKind.CAFFEINE).items()):
        values = [r.value for r in rs if r.value is not None]
        total = sum(values) if values else None
        if total is None or total >= cups or len(values) < len(rs):
            notable.append((day, total))
    if not notable:
        return None
    day, total = notable[-1]
    amount = f"{total:g} cups " if total is not None else ""
    return f"caffeine: {amount}reported on {day}" + _more(len(notable), "with caffeine", period)


def _sleep(reports: list[Report], poor_h: float, period: str) -> str | None:
    short = [
        (day, min(r.value for r in rs if r.value is not None))
        for day, rs in sorted(_by_day(reports, ReportKind.SLEEP).items())
        if any(r.value is not None and r.value < poor_h for r in rs)
    ]
    if not short:
        return None
    day, hours = short[-1]
    return f"poor sleep: {hours:g} h reported on {day}" + _more(
        len(short), f"under {poor_h:g} h", period
    )


def _stress(reports: list[Report], high: float, period: str) -> str | None:
    notable = [
        (day, max((r.value for r in rs if r.value is not None), default=None))
        for day, rs in sorted(_by_day(reports, ReportKind.STRESS).items())
        if any(r.value is None or r.value >= high for r in rs)
    ]
    if not notable:
        return None
    day, score = notable[-1]
    amount = f"{score:g}/10 " if score is not None and score >= high else ""
    return f"stress: {amount}reported on {day}" + _more(len(notable), "with stress", period)


def _plain(reports: list[Report], kind: ReportKind, label: str, period: str) -> str | None:
    days = sorted(_by_day(reports, kind))
    if not days:
        return None
    return f"{label} reported on {days[-1]}" + _more(len(days), f"with {label}", period)
