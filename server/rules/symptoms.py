"""What the rules raised by a reported symptom share: when they raise, ask and close, and their words.

A reported symptom (weakness, wasting, numbness or tingling; speech, swallowing or breathing
difficulty) raises its alert on the day of the report, whatever the sensors show and wherever
it is. It is never closed silently:

- up to ``ask_after_days`` after the last report it RAISEs (a new report keeps it raised);
- then it HOLDs and asks, once (a reminder): does it go on? report it again; or, if a doctor
  has seen it and it is resolved, mark it resolved (``"action": "resolved"`` on the acks topic);
- ``close_after_days`` after the last report it CLEARs, with a message that says what to do if
  it continues. The person's "resolved" closes it sooner; a report after that raises it again.

Nothing here reads the sensor data: a symptom never waits for twitching counts.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import numpy as np

from server import wording
from server.model import Finding, Notice, Verdict
from server.rules.checks import require
from server.rules.context import Context, ContextFinder
from server.rules.facts import Facts
from server.rules.unit import ALL_REGIONS, RuleTable, RuleUnit
from twitchwatch.contract import (
    CONTEXT_REPORTS,
    DEFAULT_TZ,
    Region,
    Report,
    ReportKind,
    Severity,
    format_utc,
    region_of,
)

#: The scope of a symptom reported without a place (it concerns every region).
SCOPE_UNPLACED = "unplaced"

#: How a symptom alert closes, for the words that say what to do if it continues.
_THEN = {
    Severity.WARNING: "please consult a doctor",
    Severity.URGENT: "seek medical attention promptly",
}


@dataclass(frozen=True, slots=True)
class SymptomTable(RuleTable):
    """The timing every symptom rule's table has (a subclass adds its own keys)."""

    ask_after_days: int
    close_after_days: int
    for_s: float

    def __post_init__(self) -> None:
        require(
            self.ask_after_days < self.close_after_days,
            "ask_after_days must be below close_after_days (ask first, close later)",
        )

    @property
    def lookback_days(self) -> int:
        return self.close_after_days


def symptom_state(
    reports: Sequence[Report], as_of: datetime, table: SymptomTable
) -> tuple[Verdict, Notice | None]:
    """RAISE while the last report is recent, then HOLD and ask, then CLEAR (none: CLEAR)."""
    if not reports:
        return Verdict.CLEAR, None
    age = as_of - reports[-1].t
    if age <= timedelta(days=table.ask_after_days):
        return Verdict.RAISE, None
    if age <= timedelta(days=table.close_after_days):
        return Verdict.HOLD, Notice.ASK
    return Verdict.CLEAR, None


def symptom_kinds() -> frozenset[ReportKind]:
    """Report kinds that are symptoms (not context)."""
    return frozenset(ReportKind) - CONTEXT_REPORTS


class ReportedSymptom(RuleUnit):
    """A rule raised by reported symptoms, one alert per scope (a region, or a symptom).

    Subclasses say which reports count (:meth:`scope_of`), what the symptom is called, and
    what the sensors showed around it (:meth:`describe_raise`).
    """

    person_can_resolve = True
    severity: ClassVar[Severity]
    kinds: ClassVar[frozenset[ReportKind]]

    @abc.abstractmethod
    def scopes(self) -> tuple[str, ...]:
        """Every scope the rule answers for (a CLEAR where nothing was reported)."""

    @abc.abstractmethod
    def scope_of(self, report: Report) -> str:
        """The scope a report of one of :attr:`kinds` belongs to."""

    @abc.abstractmethod
    def noun(self, ev: Mapping[str, Any]) -> tuple[str, str]:
        """The symptom in words: ("Weakness", "weakness")."""

    @abc.abstractmethod
    def describe_raise(self, ev: Mapping[str, Any]) -> str:
        """The RAISE message: what was reported, where, when, what the sensors showed."""

    def scope_evidence(self, facts: Facts, scope: str) -> dict[str, Any]:
        """Evidence beyond the reports (the sensors around it); nothing by default."""
        return {}

    def scope_sites(self, facts: Facts, scope: str) -> np.ndarray | None:
        """Site indices whose context is shown beside it (None: every site)."""
        return None

    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        table: SymptomTable = facts.config.table(self.rule)  # type: ignore[assignment]
        since = facts.as_of - timedelta(days=table.close_after_days)
        mine: dict[str, list[Report]] = {}
        for r in facts.reports:  # the whole history: a closing message names the last report
            if r.kind in self.kinds:
                mine.setdefault(self.scope_of(r), []).append(r)
        findings = []
        for scope in self.scopes():
            reports = mine.get(scope, [])
            recent = [r for r in reports if r.t > since]
            verdict, notice = symptom_state(reports, facts.as_of, table)
            evidence: dict[str, Any] = {
                "scope": scope,
                "tz": str(facts.zone.key),
                "reports": [_report(r) for r in recent],
                "last_reported": format_utc(reports[-1].t) if reports else None,
                "kinds": sorted({r.kind.value for r in reports}),
                "ask_after_days": table.ask_after_days,
                "close_after_days": table.close_after_days,
                **self.scope_evidence(facts, scope),
            }
            shown = context.for_sites(self.scope_sites(facts, scope)) if recent else Context()
            findings.append(
                self.finding(
                    scope,
                    verdict,
                    self.severity,
                    evidence,
                    shown,
                    reported=reports[-1].t if reports else None,
                    notice=notice,
                )
            )
        return findings

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        title, lower = self.noun(ev)
        if not ev["last_reported"]:
            return f"No {lower} reported."
        zone = wording_zone(ev)
        last = wording.moment(ev["last_reported"], zone)
        match verdict:
            case Verdict.RAISE:
                return self.describe_raise(ev)
            case Verdict.HOLD:
                return (
                    f"{title} was reported on {last} and not reported again since. If it goes "
                    "on or comes back, please report it again. If a doctor has seen it and it "
                    f"is resolved, mark this alert resolved ({self.rule.value}/{ev['scope']})."
                )
        return (
            f"No new report of {lower} since {last} ({ev['close_after_days']} days), so this "
            f"alert is closed. If it goes on or comes back, report it again and "
            f"{_THEN[self.severity]}."
        )

    def resolved_message(
        self, scope: str, evidence: Mapping[str, Any], when: datetime, zone: tzinfo
    ) -> str:
        _, lower = self.noun({**evidence, "scope": scope})
        return (
            f"Marked resolved on {wording.moment(when, zone)} after seeing a doctor. If the "
            f"{lower} goes on or comes back, report it again and {_THEN[self.severity]}."
        )


def wording_zone(ev: Mapping[str, Any]) -> tzinfo:
    """The person's zone the evidence was written in."""
    return ZoneInfo(ev.get("tz", DEFAULT_TZ))


def region_scopes() -> tuple[str, ...]:
    """Every region, then the scope of reports without a place."""
    return (*(r.value for r in Region), SCOPE_UNPLACED)


def region_scope(report: Report) -> str:
    """A report's region (its site's), or :data:`SCOPE_UNPLACED`."""
    region = None if report.site is None else region_of(report.site)
    return SCOPE_UNPLACED if region is None else region.value


def region_covers(scope: str) -> frozenset[str]:
    """A region scope covers its region; a symptom reported without a place covers them all."""
    return ALL_REGIONS if scope == SCOPE_UNPLACED else frozenset({scope})


def _report(r: Report) -> dict[str, Any]:
    return {"t": format_utc(r.t), "kind": r.kind.value, "site": r.site, "note": r.note}
