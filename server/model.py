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
from zoneinfo import ZoneInfo

from twitchwatch.contract import DEFAULT_TZ, AlertState, AlertStatus, Report, Rule, Severity


@dataclass(frozen=True, slots=True)
class DaySite:
    """One site of one user on one of their days: the sum of every stored window of that day.

    The day is the person's calendar day in the zone of their profile (UTC without one).
    """

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
    tz: str = DEFAULT_TZ  # the IANA zone the days are cut in and dates are shown in

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


class Verdict(StrEnum):
    """A rule's answer for one scope. Hysteresis lives in the gap between RAISE and CLEAR."""

    RAISE = "raise"  # the raise condition holds
    HOLD = "hold"  # neither raise nor clear: keep whatever state the alert is in
    CLEAR = "clear"  # the (weaker) clear condition holds
    NO_DATA = "no_data"  # not enough observation to say: never clears, never weakens


class Notice(StrEnum):
    """What a finding asks the lifecycle to say once while its alert stands."""

    ASK = "ask"  # a reported symptom not reported again: does it go on? (a reminder)
    NO_DATA = "no_data"  # the alert's sites have sent no measurements for a week


@dataclass(frozen=True, slots=True)
class Finding:
    """What one rule concluded about one scope at one evaluation time."""

    rule: Rule
    scope: str
    verdict: Verdict
    severity: Severity  # the severity a RAISE asks for
    message: str  # what was measured, the rule, the advice; never a diagnosis
    evidence: Mapping[str, Any] = field(default_factory=dict)
    context: tuple[str, ...] = ()  # factors reported or recorded around it (caffeine, sleep…)
    #: Within one severity, how far it has gone (spread: limb groups, regions, widespread): a
    #: higher stage re-notifies as an escalation does.
    stage: int = 0
    #: For an alert raised by what the person reported: the newest report behind it. An alert
    #: the person marked resolved is raised again only by a report after that.
    reported: datetime | None = None
    #: Something the lifecycle says once, in the finding's message: a question about a symptom
    #: not reported again, or that the measurements stopped.
    notice: Notice | None = None


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
    stage: int = 0  # within its severity, how far it has gone (Finding.stage)
    folded_into: str | None = None  # "<rule>/<scope>" of the warning or urgent alert covering it
    resolved_by_person: bool = False  # closed by the person's "resolved" ack
    asked: datetime | None = None  # when the person was asked whether a symptom goes on
    no_data_noticed: datetime | None = None  # when "no measurements since…" was said

    @property
    def key(self) -> str:
        """``"<rule>/<scope>"``, as ``folded_into`` names an alert."""
        return f"{self.rule.value}/{self.scope}"

    @property
    def is_open(self) -> bool:
        return self.status is not AlertStatus.RESOLVED

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
            folded_into=self.folded_into,
        )
