"""What a rule is: one module with its config table, its finding, its words and its title.

A rule lives in ``server/rules/<rule>.py``, named after its :class:`~twitchwatch.contract.Rule`
value. The module defines its TOML table as a frozen dataclass subclassing :class:`RuleTable`
(the defaults and their medical reasons in the unit's ``toml``), a :class:`RuleUnit` subclass
(the finding and its words), and ends with ``RULE = <the unit>()``. The registry
(``registry.py``) finds it by the rule's name; the loader (``config.py``) reads its table,
``evaluate`` asks it for findings, and Home Assistant shows its ``title``. As with a bleak
backend, a new rule is its module plus its member of the contract's ``Rule`` enum.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from server import wording
from server.model import Finding, Notice, Verdict
from server.rules.context import Context
from twitchwatch.contract import ADVICE, Region, Rule, Severity

if TYPE_CHECKING:
    from server.rules.config import RuleConfig
    from server.rules.context import ContextFinder
    from server.rules.facts import Facts

#: The scope of a rule about the whole person rather than a site, a region or a symptom.
SCOPE_ALL = "all"
#: Every region: what an alert about the whole person, or about a symptom reported without a
#: place, covers.
ALL_REGIONS = frozenset(r.value for r in Region)

#: When to see a doctor if a likely trigger is dealt with and the twitching goes on.
_IF_IT_GOES_ON = {
    Severity.INFO: "If it goes on for several weeks or spreads, mention it to a doctor.",
    Severity.ADVISORY: (
        "If the twitching goes on for several weeks after that, or weakness, numbness or "
        "wasting appears, see a doctor."
    ),
}


class RuleTable:
    """A rule's ``[<rule>]`` table of the rules TOML; subclass it as a frozen dataclass.

    Its fields are the table's keys (int, float or tuple[str, ...]; the loader checks types and
    common ranges); ``__post_init__`` checks what only the table knows (``checks.py``).
    """

    __slots__ = ()

    #: How long the rule's RAISE must hold before its alert fires (a field of every table).
    for_s: float

    @property
    def lookback_days(self) -> int:
        """Days of history the rule reads beyond the shared windows (history_days covers it)."""
        return 0

    def check_with(self, config: RuleConfig) -> None:
        """Checks against the other tables, once all are built; RuleConfigError if one fails."""


class RuleUnit(abc.ABC):
    """One rule: what it finds, in which words, under which title, with which thresholds."""

    rule: ClassVar[Rule]
    #: The dataclass of the rule's TOML table.
    table: ClassVar[type[RuleTable]]
    #: The table in the default rules TOML: every key with its default and its reason.
    toml: ClassVar[str]
    #: The name Home Assistant shows for the rule's alerts.
    title: ClassVar[str]
    #: Raised by what the person reports (a symptom): the person may mark it resolved after
    #: seeing a doctor, and it is never closed silently.
    person_can_resolve: ClassVar[bool] = False

    @abc.abstractmethod
    def covers(self, scope: str, evidence: Mapping[str, Any]) -> frozenset[str]:
        """The body regions (Region values) an alert of this rule is about.

        A firing warning or urgent alert folds lesser alerts about any of its regions.
        """

    def resolved_message(
        self, scope: str, evidence: Mapping[str, Any], when: datetime, zone: tzinfo
    ) -> str:
        """What the alert says once the person marked it resolved (person_can_resolve rules)."""
        raise NotImplementedError(f"{self.rule.value} alerts cannot be resolved by hand")

    @abc.abstractmethod
    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        """The rule's finding for every scope it has an answer for at ``facts.as_of``.

        Pure: it reads its arguments only (no clock, no I/O). A scope without a finding means
        "no change" to its alert.
        """

    @abc.abstractmethod
    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        """What was measured and what the rule says about it, from the evidence ``ev`` alone.

        Calm and precise, never a diagnosis: most readers are healthy and anxious.
        """

    def finding(
        self,
        scope: str,
        verdict: Verdict,
        severity: Severity,
        evidence: dict[str, Any],
        context: Context,
        *,
        stage: int = 0,
        reported: datetime | None = None,
        notice: Notice | None = None,
    ) -> Finding:
        """A finding with its message written from its evidence and context.

        Evidence that the sites stopped sending (``facts.silence``) makes it a no-data notice.
        """
        if notice is None and "no_data_sites" in evidence:
            notice = Notice.NO_DATA
        text = self.message(verdict, severity, evidence, context, asks=notice is Notice.ASK)
        return Finding(
            self.rule,
            scope,
            verdict,
            severity,
            text,
            evidence,
            context.phrases,
            stage=stage,
            reported=reported,
            notice=notice,
        )

    def message(
        self,
        verdict: Verdict,
        severity: Severity,
        evidence: Mapping[str, Any],
        context: Context,
        *,
        asks: bool = False,
    ) -> str:
        """The measurement and the rule, the context, then the advice when it raises or asks.

        Beside information or an advisory, the context reads as likely triggers, with one
        practical suggestion and when to see a doctor if it goes on. Beside a warning or an
        urgent alert it is only listed: nothing there is called harmless, nothing explains the
        finding away.
        """
        parts = [self.describe(verdict, severity, evidence)]
        if "no_data_sites" in evidence:
            parts.append(_silence_sentence(evidence))
        if context.items and verdict in (Verdict.RAISE, Verdict.HOLD):
            listed = "; ".join(context.phrases)
            if severity.rank >= Severity.WARNING.rank:
                parts.append(
                    f"Also reported or recorded: {listed}. This does not change the advice."
                )
            else:
                parts.append(f"Possibly related and usually harmless: {listed}.")
                parts.append(context.suggestion or "")
                parts.append(_IF_IT_GOES_ON[severity])
        if verdict is Verdict.RAISE or asks:
            parts.append(ADVICE[severity])
        return " ".join(p for p in parts if p)


def _silence_sentence(ev: Mapping[str, Any]) -> str:
    """'No measurements from the left calf since Tue 3 Nov: …' (see facts.silence)."""
    where = wording.site_names(ev["no_data_sites"])
    since = ev["no_data_since"]
    when = f"since {wording.day(since)}" if since else "for a long time"
    return (
        f"No measurements from the {where} {when} (the sensor does not seem to be worn), so "
        "this alert cannot be updated; it stands until measurements show otherwise."
    )
