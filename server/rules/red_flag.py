"""Red flags (scope: the symptom): speech, swallowing or breathing difficulty reported.

Urgent, on the day of the report, whatever the counts and whatever the context: the verdict
reads the reports only. Each symptom is its own alert. It is never closed silently, never with
an implied all-clear: two weeks after the last report it asks whether the difficulty goes on,
and it closes only when the person marks it resolved after seeing a doctor, or 30 days after
the last report with a message that says what to do if it continues (symptoms.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server import wording
from server.model import Verdict
from server.rules.symptoms import ReportedSymptom, SymptomTable, wording_zone
from twitchwatch.contract import Region, Report, ReportKind, Rule, Severity

#: The red-flag symptoms; each is its own alert scope.
RED_FLAGS = (ReportKind.SPEECH, ReportKind.SWALLOWING, ReportKind.BREATHING)
_SYMPTOMS = {
    "speech": ("Difficulty speaking", "difficulty speaking"),
    "swallowing": ("Difficulty swallowing", "difficulty swallowing"),
    "breathing": ("Difficulty breathing", "difficulty breathing"),
}
_EMERGENCY = "If breathing is hard right now, call your local emergency number."
#: The muscles each symptom is about: speech and swallowing are bulbar; breathing is the
#: chest's (and the diaphragm's). An urgent alert folds lesser alerts about them.
_COVERS = {
    "speech": frozenset({Region.BULBAR.value}),
    "swallowing": frozenset({Region.BULBAR.value}),
    "breathing": frozenset({Region.THORACIC.value}),
}


@dataclass(frozen=True, slots=True)
class RedFlagConfig(SymptomTable):
    pass


class RedFlag(ReportedSymptom):
    rule = Rule.RED_FLAG
    table = RedFlagConfig
    title = "Reported speech, swallowing or breathing difficulty"
    severity = Severity.URGENT
    kinds = frozenset(RED_FLAGS)
    toml = """\
[red_flag]
# Urgent, whatever the counts and whatever the context: speech, swallowing or breathing
# difficulty reported. It fires at once. Never an implied all-clear: 14 days after the last
# report it asks whether the difficulty goes on (report it again, or mark it resolved after
# seeing a doctor); it closes 30 days after the last report, saying what to do if it goes on.
ask_after_days = 14
close_after_days = 30
for_s = 0
"""

    def scopes(self) -> tuple[str, ...]:
        return tuple(kind.value for kind in RED_FLAGS)

    def scope_of(self, report: Report) -> str:
        return report.kind.value

    def covers(self, scope: str, evidence: Mapping[str, Any]) -> frozenset[str]:
        return _COVERS.get(scope, frozenset())

    def noun(self, ev: Mapping[str, Any]) -> tuple[str, str]:
        return _SYMPTOMS[ev["scope"]]

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        text = super().describe(verdict, severity, ev)
        if ev["scope"] == "breathing" and ev["reports"] and verdict is Verdict.HOLD:
            text += f" {_EMERGENCY}"
        return text

    def describe_raise(self, ev: Mapping[str, Any]) -> str:
        title = _SYMPTOMS[ev["scope"]][0]
        when = wording.moment(ev["last_reported"], wording_zone(ev))
        n = len(ev["reports"])
        again = f" (reported {n} times)" if n > 1 else ""
        text = (
            f"{title} reported on {when}{again}. It should be checked by a doctor whatever the "
            "twitching counts."
        )
        if ev["scope"] == "breathing":
            text += f" {_EMERGENCY}"
        return text


RULE = RedFlag()
