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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from server.model import Finding, Verdict
from twitchwatch.contract import ADVICE, Rule, Severity

if TYPE_CHECKING:
    from server.rules.config import RuleConfig
    from server.rules.context import ContextFinder
    from server.rules.facts import Facts

#: The scope of a rule about the whole person rather than a site, a region or a symptom.
SCOPE_ALL = "all"


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
    #: Introduces the context shown beside a RAISE or HOLD (likely benign factors).
    context_lead: ClassVar[str] = "Possibly related and usually harmless"

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
        context: tuple[str, ...],
    ) -> Finding:
        """A finding with its message written from its evidence and context."""
        text = self.message(verdict, severity, evidence, context)
        return Finding(self.rule, scope, verdict, severity, text, evidence, context)

    def message(
        self,
        verdict: Verdict,
        severity: Severity,
        evidence: Mapping[str, Any],
        context: Sequence[str],
    ) -> str:
        """The measurement and the rule, the context, then the advice when it raises."""
        parts = [self.describe(verdict, severity, evidence)]
        if context and verdict in (Verdict.RAISE, Verdict.HOLD):
            parts.append(f"{self.context_lead}: {'; '.join(context)}.")
        if verdict is Verdict.RAISE:
            parts.append(ADVICE[severity])
        return " ".join(parts)
