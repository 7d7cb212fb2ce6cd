"""The server's plain data: what the store hands the rules, what the rules decide, what alerts keep.

The store builds these from SQL rows; the rules and the alert lifecycle are pure functions over
them, so weeks of history replay without a broker or a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from twitchwatch.contract import AlertState, AlertStatus, Report, Rule, Severity


@dataclass(frozen=True, slots=True)
class DaySite:
    """One site of one user on one UTC day: the sum of every stored window of that day."""

    day: date
    site: str
    twitches: int
    cramps: int
    rest_s: float  # observed rest: the only time twitches could be counted
    active_s: float  # voluntary contraction or motion
    gap_s: float  # not observed (the rest of the day was not even reported)
    windows: int


@dataclass(frozen=True, slots=True)
class History:
    """What the rules see of one user, up to the evaluation time."""

    user: str
    days: tuple[DaySite, ...]  # sorted by (day, site)
    reports: tuple[Report, ...]  # sorted by time


class Verdict(StrEnum):
    """A rule's answer for one scope. Hysteresis lives in the gap between RAISE and CLEAR."""

    RAISE = "raise"  # the raise condition holds
    HOLD = "hold"  # neither raise nor clear: keep whatever state the alert is in
    CLEAR = "clear"  # the (weaker) clear condition holds
    NO_DATA = "no_data"  # not enough observation to say: never clears, never weakens


@dataclass(frozen=True, slots=True)
class Finding:
    """What one rule concluded about one scope at one evaluation time."""

    rule: Rule
    scope: str
    verdict: Verdict
    severity: Severity  # the severity a RAISE asks for
    message: str  # what was measured, the rule, the advice; never a diagnosis
    evidence: Mapping[str, Any] = field(default_factory=dict)
    context: tuple[str, ...] = ()  # likely benign factors (post-exercise, caffeine, poor sleep…)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert as stored: identity (user, rule, scope), lifecycle state and notification bookkeeping."""

    user: str
    rule: Rule
    scope: str
    severity: Severity
    status: AlertStatus
    since: datetime  # entered this status
    pending_since: datetime | None  # the raise condition has held since (None: it does not)
    last_notified: datetime | None  # last firing/escalation/reminder event
    acknowledged: bool
    version: int  # +1 per change that is published
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    context: tuple[str, ...] = ()

    def state(self) -> AlertState:
        """The retained payload's content."""
        return AlertState(
            rule=self.rule,
            scope=self.scope,
            severity=self.severity,
            state=self.status,
            since=self.since,
            message=self.message,
            evidence=self.evidence,
            context=self.context,
            acknowledged=self.acknowledged,
            version=self.version,
        )
