"""Weakness (scope: region): weakness or wasting (atrophy) reported, wherever it is.

A warning on the day of the report, whatever the sensors show: weakness is a reason to see a
doctor whatever the counts, and a region without a sensor is not a region without twitching.
The message says what was reported, where and when, and what the sensors recorded in that
region (twitching, none, or no sensor there). One alert per region; a report without a place
has its own scope (``unplaced``) and concerns every region. It asks after two weeks without a
new report and closes after 30 days or when the person marks it resolved (symptoms.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from server import wording
from server.rules.checks import require
from server.rules.facts import Facts
from server.rules.symptoms import (
    SCOPE_UNPLACED,
    ReportedSymptom,
    SymptomTable,
    region_covers,
    region_scope,
    region_scopes,
    symptom_kinds,
    wording_zone,
)
from twitchwatch.contract import Report, ReportKind, Rule, Severity


@dataclass(frozen=True, slots=True)
class WeaknessConfig(SymptomTable):
    kinds: tuple[str, ...]
    sensor_days: int

    def __post_init__(self) -> None:
        SymptomTable.__post_init__(self)
        allowed = {k.value for k in symptom_kinds()}
        bad = [k for k in self.kinds if k not in allowed]
        require(
            not bad and bool(self.kinds), f"weakness.kinds must be symptoms from {sorted(allowed)}"
        )


class Weakness(ReportedSymptom):
    rule = Rule.WEAKNESS
    table = WeaknessConfig
    title = "Reported weakness or wasting"
    severity = Severity.WARNING
    kinds = frozenset({ReportKind.WEAKNESS, ReportKind.ATROPHY})
    toml = """\
[weakness]
# Warning on the day weakness or wasting (atrophy) is reported, wherever it is and whatever the
# sensors show: weakness is a reason to see a doctor whatever the counts (the seeds list it
# first), and a place without a sensor is not a place without twitching.
kinds = ["weakness", "atrophy"]
# The message says what the sensors recorded in that region over the last 4 weeks.
sensor_days = 28
# Never closed silently: 14 days after the last report it asks whether it goes on (report it
# again, or mark it resolved after seeing a doctor); it closes 30 days after the last report,
# saying what to do if it continues. It fires at once.
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
        kinds = set(ev.get("kinds", [])) or {ReportKind.WEAKNESS.value}
        if kinds == {ReportKind.ATROPHY.value}:
            return "Wasting", "wasting"
        if ReportKind.ATROPHY.value in kinds:
            return "Weakness and wasting", "weakness or wasting"
        return "Weakness", "weakness"

    def scope_sites(self, facts: Facts, scope: str) -> np.ndarray | None:
        return None if scope == SCOPE_UNPLACED else _members(facts, scope)

    def scope_evidence(self, facts: Facts, scope: str) -> dict[str, Any]:
        return sensor_evidence(facts, scope, facts.config.weakness.sensor_days)

    def describe_raise(self, ev: Mapping[str, Any]) -> str:
        return (
            f"{reported_sentence(ev, self.noun(ev)[0])} {sensors_sentence(ev)} Weakness or "
            "wasting is a reason to see a doctor, whatever the twitching counts."
        )


def _members(facts: Facts, scope: str) -> np.ndarray:
    return np.array([i for i, r in enumerate(facts.regions) if r == scope], dtype=np.intp)


def sensor_evidence(facts: Facts, scope: str, days: int) -> dict[str, Any]:
    """What the sensors recorded where a symptom was reported, over the last ``days`` days."""
    members = np.arange(len(facts.sites)) if scope == SCOPE_UNPLACED else _members(facts, scope)
    stats = facts.window(days)
    return {
        "sensor_days": days,
        "sites": [
            {
                "site": facts.sites[int(i)],
                "observed_days": int(stats.observed[i]),
                "active_days": int(stats.active[i]),
            }
            for i in members
        ],
    }


def reported_sentence(ev: Mapping[str, Any], title: str) -> str:
    """'Weakness reported on Tue 3 Nov at 20:00 at the right hand (the neck and arms).'"""
    last = ev["reports"][-1]
    when = wording.moment(last["t"], wording_zone(ev))
    where = f" at the {wording.site_name(last['site'])}" if last["site"] else " (no place given)"
    region = "" if ev["scope"] == SCOPE_UNPLACED else f" ({wording.region_name(ev['scope'])})"
    n = len(ev["reports"])
    again = f", reported {n} times since {wording.day(ev['reports'][0]['t'][:10])}" if n > 1 else ""
    return f"{title} reported on {when}{where}{region}{again}."


def sensors_sentence(ev: Mapping[str, Any]) -> str:
    """Whether twitching was recorded where the symptom is: yes, no, or no sensor there."""
    sites, span = ev["sites"], wording.period(ev["sensor_days"])
    region = "the body" if ev["scope"] == SCOPE_UNPLACED else wording.region_name(ev["scope"])
    worn = [s for s in sites if s["observed_days"] > 0]
    if not sites:
        return f"No sensor is worn in {region}, so twitching there was not measured."
    if not worn:
        return (
            f"The sensors in {region} were not worn long enough in {span} to tell whether it "
            "twitches there."
        )
    twitching = [s for s in worn if s["active_days"] > 0]
    if twitching:
        top = max(twitching, key=lambda s: (s["active_days"], -s["observed_days"]))
        return (
            f"Twitching was recorded at the {wording.site_name(top['site'])} on "
            f"{top['active_days']} of the {top['observed_days']} days it was observed in {span}."
        )
    names = wording.site_names([s["site"] for s in worn])
    return f"No twitching was recorded at the {names} in {span}."


RULE = Weakness()
