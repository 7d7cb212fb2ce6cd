"""Spread (scope "all"): twitching established in two or more body regions, or in a new one.

A region is *involved* when one of its counted sites has established twitching (facts.py); it
stays *lingering* until that site is shown to be quiet, so a sensor taken off keeps its region
in (no data never clears). Raising needs established twitching in ``min_regions`` regions, or
in a region that stayed still through a baseline while another twitched; clearing needs the
lingering regions to fall below ``min_regions``: the gap between the two is the hysteresis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from server.model import Finding, Verdict
from server.rules.context import ContextFinder
from server.rules.facts import Facts, iso_day, observed_recently, region_sites
from server.rules.unit import SCOPE_ALL, RuleTable, RuleUnit
from server.wording import region_name, region_names, site_names
from twitchwatch.contract import Region, Rule, Severity


@dataclass(frozen=True, slots=True)
class SpreadConfig(RuleTable):
    min_regions: int
    baseline_min_observed_days: int
    for_s: float


class Spread(RuleUnit):
    rule = Rule.SPREAD
    table = SpreadConfig
    title = "Twitching in several regions"
    toml = """\
[spread]
# Warning: established twitching in >= 2 regions, or in a region that stayed still on
# >= 14 observed days while another region was already twitching (a genuinely new region,
# not a sensor put on for the first time). Clear: at most one region has twitching that is
# not quiet, and no new region is recent enough to raise.
min_regions = 2
baseline_min_observed_days = 14
for_s = 86400
"""

    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        """Established twitching in >= ``min_regions`` regions, or in a new region after a baseline."""
        cfg: SpreadConfig = facts.config.spread
        established = region_sites(facts, facts.established)
        lingering = region_sites(facts, facts.lingering)
        regions = sorted(
            (_region_evidence(facts, region, sites) for region, sites in established.items()),
            key=lambda r: (r["first_active"], r["region"]),
        )
        new_region = _new_region(facts, established)
        evidence: dict[str, Any] = {
            "path": None,
            "regions": regions,
            "order": [r["region"] for r in regions],
            "lingering_regions": [r.value for r in lingering],
            "new_region": new_region,
            "min_regions": cfg.min_regions,
        }
        if len(established) >= cfg.min_regions:
            verdict, evidence["path"] = Verdict.RAISE, "regions"
        elif new_region is not None:
            verdict, evidence["path"] = Verdict.RAISE, "new_region"
        elif len(lingering) < cfg.min_regions:
            verdict = Verdict.CLEAR if observed_recently(facts) else Verdict.NO_DATA
        else:
            verdict = Verdict.HOLD
        return [
            self.finding(SCOPE_ALL, verdict, Severity.WARNING, evidence, context.for_sites(None))
        ]

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        regions = ev["regions"]
        match verdict:
            case Verdict.RAISE if ev["path"] == "new_region":
                new = ev["new_region"]
                return (
                    f"Twitching started in a new body region, {region_name(new['region'])} "
                    f"({site_names(new['sites'])}, since {new['first_active']}), after it had been "
                    f"observed there without twitching on {new['baseline_observed_days']} days while "
                    "other regions twitched. Twitching that spreads to new regions is a reason to "
                    "have it checked."
                )
            case Verdict.RAISE:
                return (
                    f"Twitching established in {len(regions)} body regions, in the order it began: "
                    f"{_region_list(regions)}. Twitching in more than one region is a reason to "
                    "have it checked."
                )
            case Verdict.CLEAR:
                return "Twitching is no longer recorded in more than one body region."
            case Verdict.NO_DATA:
                return "No sensor was observed long enough recently to compare body regions."
        lingering = ev["lingering_regions"]
        return (
            f"Twitching recorded in {len(lingering)} body regions ({region_names(lingering)}) has not "
            f"settled in all of them; it is established in {len(regions)} at the moment."
        )


def _region_list(regions: Sequence[Mapping[str, Any]]) -> str:
    """In the order twitching began: "the lower back and legs (left calf, since …), then …"."""
    return ", then ".join(
        f"{region_name(r['region'])} ({site_names(r['sites'])}, since {r['first_active']})"
        for r in regions
    )


def _first_active(facts: Facts, sites: list[int]) -> int:
    """Column of the first active day of any of these sites in the history."""
    return int(facts.active[sites].any(axis=0).argmax())


def _region_evidence(facts: Facts, region: Region, sites: list[int]) -> dict[str, Any]:
    return {
        "region": region.value,
        "sites": [facts.sites[i] for i in sites],
        "first_active": iso_day(facts, _first_active(facts, sites)),
    }


def _new_region(facts: Facts, established: dict[Region, list[int]]) -> dict[str, Any] | None:
    """The latest established region that began after a still baseline while others twitched.

    Its counted sites must have been observed without twitching on >= ``baseline_min_observed_days``
    days before its first active day, and the other regions must have been active on
    >= ``[established] min_active_days`` days by then: a sensor put on for the first time, or
    twitching that began everywhere at once, is not a new region.
    """
    cfg = facts.config
    counted = facts.counted
    best: dict[str, Any] | None = None
    for region, established_sites in established.items():
        members = [i for i in np.flatnonzero(counted) if facts.regions[i] == region]
        others = [i for i in np.flatnonzero(counted) if facts.regions[i] != region]
        onset = _first_active(facts, members)
        baseline = int(facts.observed[members, :onset].any(axis=0).sum())
        others_active = int(facts.active[others, :onset].any(axis=0).sum()) if others else 0
        if (
            baseline >= cfg.spread.baseline_min_observed_days
            and others_active >= cfg.established.min_active_days
            and (best is None or facts.day(onset).isoformat() > best["first_active"])
        ):
            best = {
                "region": region.value,
                "sites": [facts.sites[i] for i in established_sites],
                "first_active": iso_day(facts, onset),
                "baseline_observed_days": baseline,
                "other_active_days": others_active,
            }
    return best


RULE = Spread()
