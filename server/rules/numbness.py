"""Numbness (scope: region): numbness or tingling reported, wherever it is.

The articles the product grew from list numbness and tingling beside weakness as a reason to
see a doctor: a warning on the day of the report, whatever the sensors show, with what the
sensors recorded in that region. One alert per region (``unplaced`` without a place); it asks
and closes like every reported symptom (symptoms.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from server.rules.facts import Facts
from server.rules.symptoms import (
    SCOPE_UNPLACED,
    ReportedSymptom,
    SymptomTable,
    region_covers,
    region_scope,
    region_scopes,
)
from server.rules.weakness import reported_sentence, sensor_evidence, sensors_sentence
from twitchwatch.contract import Report, ReportKind, Rule, Severity


@dataclass(frozen=True, slots=True)
class NumbnessConfig(SymptomTable):
    sensor_days: int


class Numbness(ReportedSymptom):
    rule = Rule.NUMBNESS
    table = NumbnessConfig
    title = "Reported numbness or tingling"
    severity = Severity.WARNING
    kinds = frozenset({ReportKind.NUMBNESS})
    toml = """\
[numbness]
# Warning on the day numbness or tingling is reported, wherever it is and whatever the sensors
# show: the seeds list it beside weakness as a reason to be checked. The message says what the
# sensors recorded in that region over the last 4 weeks.
sensor_days = 28
# Asks after 14 days without a new report, closes after 30 (or when marked resolved).
ask_after_days = 14
close_after_days = 30
for_s = 0
"""

    def scopes(self) -> tuple[str, ...]:
        return region_scopes()

    def scope_of(self, report: Report) -> str:
        return region_scope(report)

    def covers(self, scope: str, evidence: Mapping[str, Any]) -> frozenset[str]:
        return region_covers(scope)

    def noun(self, ev: Mapping[str, Any]) -> tuple[str, str]:
        return "Numbness or tingling", "numbness or tingling"

    def scope_sites(self, facts: Facts, scope: str) -> np.ndarray | None:
        if scope == SCOPE_UNPLACED:
            return None
        return np.array([i for i, r in enumerate(facts.regions) if r == scope], dtype=np.intp)

    def scope_evidence(self, facts: Facts, scope: str) -> dict[str, Any]:
        return sensor_evidence(facts, scope, facts.config.numbness.sensor_days)

    def describe_raise(self, ev: Mapping[str, Any]) -> str:
        return (
            f"{reported_sentence(ev, 'Numbness or tingling')} {sensors_sentence(ev)} Numbness "
            "or tingling is a reason to see a doctor, whatever the twitching counts."
        )


RULE = Numbness()
