"""Red flags (scope: the symptom): speech, swallowing or breathing difficulty reported.

Urgent, whatever the counts and whatever the context: the verdict reads the reports only. Each
symptom is its own alert; it clears ``window_days`` after its last report, never because sensor
data is missing, and reporting it again raises it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from server.model import Finding, Verdict
from server.rules.context import ContextFinder
from server.rules.facts import Facts
from server.rules.unit import RuleTable, RuleUnit
from server.wording import period
from twitchwatch.contract import ReportKind, Rule, Severity, format_utc

#: The red-flag symptoms; each is its own alert scope.
RED_FLAGS = (ReportKind.SPEECH, ReportKind.SWALLOWING, ReportKind.BREATHING)
_SYMPTOMS = {
    "speech": ("Difficulty speaking", "difficulty speaking"),
    "swallowing": ("Difficulty swallowing", "difficulty swallowing"),
    "breathing": ("Difficulty breathing", "difficulty breathing"),
}


@dataclass(frozen=True, slots=True)
class RedFlagConfig(RuleTable):
    window_days: int
    for_s: float

    @property
    def lookback_days(self) -> int:
        return self.window_days


class RedFlag(RuleUnit):
    rule = Rule.RED_FLAG
    table = RedFlagConfig
    title = "Reported symptom"
    toml = """\
[red_flag]
# Urgent, whatever the counts and whatever the context: speech, swallowing or breathing
# difficulty reported in the last 14 days. Clears 14 days after the last report; reporting
# again raises it again. It fires at once.
window_days = 14
for_s = 0
"""
    # Context is shown beside a red flag like anywhere else, but never as its explanation.
    context_lead = "Also recorded, though it does not explain this symptom"

    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        """One finding per red-flag symptom: RAISE (urgent) when reported in the window, else CLEAR."""
        cfg: RedFlagConfig = facts.config.red_flag
        days = cfg.window_days
        since = facts.as_of - timedelta(days=days)
        findings = []
        for kind in RED_FLAGS:
            mine = [r for r in facts.reports if r.kind == kind and r.t > since]
            evidence = {
                "symptom": kind.value,
                "reports": [format_utc(r.t) for r in mine],
                "last_reported": format_utc(mine[-1].t) if mine else None,
                "window_days": days,
            }
            verdict = Verdict.RAISE if mine else Verdict.CLEAR
            # Context is shown beside a red flag like anywhere else; the verdict never reads it.
            findings.append(
                self.finding(
                    kind.value, verdict, Severity.URGENT, evidence, context.for_sites(None)
                )
            )
        return findings

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        title, lower = _SYMPTOMS[ev["symptom"]]
        if verdict is Verdict.RAISE:
            text = (
                f"{title} reported on {ev['last_reported'][:10]}. It should be checked by a doctor "
                "whatever the twitching counts."
            )
            if ev["symptom"] == "breathing":
                text += " If breathing is hard right now, call your local emergency number."
            return text
        return f"No {lower} reported in {period(ev['window_days'])}."


RULE = RedFlag()
