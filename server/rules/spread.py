"""Spread (scope "all"): twitching that spreads to other muscle groups, one evolving alert per person.

"Spreads to other muscle groups" is a reason to be checked (the seeds); how far it went sets the
advice, in stages of one alert that escalates rather than a new alert per site:

1. a new limb group (side x upper arm, forearm/hand, thigh, lower leg/foot): its twitching is
   established after it stayed still through a baseline while another group twitched ->
   *advisory*, naming both;
2. a new body region after such a baseline, or established twitching in >= 2 regions ->
   *warning*;
3. widespread: >= 5 of the 8 limb groups (Howard & Murray 1992) or >= 3 regions -> *warning*,
   re-notified as an escalation.

A group or region is *involved* while one of its counted sites has established twitching
(facts.py); it stays *lingering* until that site is shown to be quiet, so a sensor taken off
keeps it in (no data never clears). Raising needs established twitching; clearing needs the
lingering groups and regions to fall below two each: the gap is the hysteresis. A sensor put on
for the first time, or twitching that began everywhere at once, is not spread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from server.model import Finding, Verdict
from server.rules.checks import require
from server.rules.context import ContextFinder
from server.rules.facts import Facts, iso_day, observed_recently, region_sites, silence
from server.rules.unit import SCOPE_ALL, RuleTable, RuleUnit
from server.wording import day, limb_group_name, region_name, region_names, site_names
from twitchwatch.contract import Rule, Severity

#: The stages of the one spread alert, in the order it escalates through them.
STAGE_LIMB_GROUP, STAGE_REGIONS, STAGE_WIDESPREAD = 1, 2, 3


@dataclass(frozen=True, slots=True)
class SpreadConfig(RuleTable):
    min_regions: int
    baseline_min_observed_days: int
    widespread_limb_groups: int
    widespread_regions: int
    for_s: float

    def __post_init__(self) -> None:
        require(self.widespread_limb_groups <= 8, "spread.widespread_limb_groups must be <= 8")
        require(self.widespread_regions <= 4, "spread.widespread_regions must be <= 4 (4 regions)")
        require(
            2 <= self.min_regions <= self.widespread_regions,
            "spread.min_regions must be >= 2 and <= widespread_regions",
        )


class Spread(RuleUnit):
    rule = Rule.SPREAD
    table = SpreadConfig
    title = "Twitching spreading to other muscle groups"
    toml = """\
[spread]
# One alert per person that escalates as twitching spreads (established twitching, [established]):
# - advisory: a new limb group (side x upper arm, forearm/hand, thigh, lower leg/foot) that
#   stayed still on >= 14 observed days while another group was already twitching;
# - warning: a new region after such a baseline, or >= 2 regions;
# - warning, re-notified: widespread, >= 5 of the 8 limb groups (Howard & Murray 1992) or
#   >= 3 regions.
# A sensor put on for the first time has no baseline, so it is not a new group or region.
# Clear: fewer than 2 limb groups and fewer than 2 regions have twitching that is not quiet.
min_regions = 2
baseline_min_observed_days = 14
widespread_limb_groups = 5
widespread_regions = 3
for_s = 86400
"""

    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        """The spread alert's stage at ``facts.as_of``, or whether it cleared."""
        cfg: SpreadConfig = facts.config.spread
        established = region_sites(facts, facts.established)
        lingering = region_sites(facts, facts.lingering)
        groups = _limb_groups(facts, facts.established)
        lingering_groups = _limb_groups(facts, facts.lingering)
        regions = sorted(
            (_group_evidence(facts, r.value, sites) for r, sites in established.items()),
            key=lambda r: (r["first_active"], r["name"]),
        )
        new_region = _newest(facts, {r.value: s for r, s in established.items()}, facts.regions)
        new_group = _newest(facts, groups, facts.limb_groups)
        evidence: dict[str, Any] = {
            "stage": 0,
            "path": None,
            "regions": regions,
            "order": [r["name"] for r in regions],
            "limb_groups": sorted(groups),
            "lingering_regions": [r.value for r in lingering],
            "lingering_limb_groups": sorted(lingering_groups),
            "new_region": new_region,
            "new_limb_group": new_group,
            "widespread_limb_groups": cfg.widespread_limb_groups,
            "widespread_regions": cfg.widespread_regions,
        }
        if len(groups) >= cfg.widespread_limb_groups or len(established) >= cfg.widespread_regions:
            evidence["stage"], evidence["path"] = STAGE_WIDESPREAD, "widespread"
        elif len(established) >= cfg.min_regions:
            evidence["stage"], evidence["path"] = STAGE_REGIONS, "regions"
        elif new_region is not None:
            evidence["stage"], evidence["path"] = STAGE_REGIONS, "new_region"
        elif new_group is not None:
            evidence["stage"], evidence["path"] = STAGE_LIMB_GROUP, "limb_group"
        if evidence["stage"]:
            verdict = Verdict.RAISE
        elif len(lingering) < cfg.min_regions and len(lingering_groups) < 2:
            verdict = Verdict.CLEAR if observed_recently(facts) else Verdict.NO_DATA
        else:
            verdict = Verdict.HOLD
        if verdict is not Verdict.CLEAR:
            evidence.update(silence(facts, np.flatnonzero(facts.lingering)))
        stage = evidence["stage"]
        severity = Severity.ADVISORY if stage == STAGE_LIMB_GROUP else Severity.WARNING
        return [
            self.finding(
                SCOPE_ALL, verdict, severity, evidence, context.for_sites(None), stage=stage
            )
        ]

    def covers(self, scope: str, evidence: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(evidence.get("order", [])) | frozenset(
            evidence.get("lingering_regions", [])
        )

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        match verdict:
            case Verdict.RAISE if ev["path"] == "widespread":
                return _widespread(ev)
            case Verdict.RAISE if ev["path"] == "new_region":
                new = ev["new_region"]
                return (
                    f"Twitching started in a new body region, {region_name(new['name'])} "
                    f"({site_names(new['sites'])}, since {day(new['first_active'])}), after it "
                    f"had been observed there without twitching on {new['baseline_observed_days']} "
                    "days while other regions twitched. Twitching that spreads to new regions "
                    "is a reason to have it checked."
                )
            case Verdict.RAISE if ev["path"] == "regions":
                regions = ev["regions"]
                return (
                    f"Twitching established in {len(regions)} body regions, in the order it "
                    f"began: {_listed(regions, region_name)}. Twitching in more than one region "
                    "is a reason to have it checked."
                )
            case Verdict.RAISE:
                new = ev["new_limb_group"]
                return (
                    f"Twitching spread to another muscle group: the {limb_group_name(new['name'])} "
                    f"({site_names(new['sites'])}) has twitched since {day(new['first_active'])}, "
                    f"after it had been observed without twitching on "
                    f"{new['baseline_observed_days']} days while the "
                    f"{_others(ev, new['name'])} twitched. Twitching that spreads to other "
                    "muscle groups is a reason to have it checked."
                )
            case Verdict.CLEAR:
                return "Twitching is no longer recorded in more than one muscle group."
            case Verdict.NO_DATA:
                return "No sensor was observed long enough recently to compare muscle groups."
        lingering = ev["lingering_regions"]
        return (
            f"Twitching recorded in {len(ev['lingering_limb_groups'])} limb groups and "
            f"{len(lingering)} body regions ({region_names(lingering) or 'none'}) has not settled "
            f"everywhere; it is established in {len(ev['limb_groups'])} limb groups at the moment."
        )


def _widespread(ev: Mapping[str, Any]) -> str:
    groups, regions = ev["limb_groups"], ev["order"]
    parts = []
    if len(groups) >= ev["widespread_limb_groups"]:
        names = "; ".join(limb_group_name(g) for g in groups)
        parts.append(f"{len(groups)} of the 8 limb muscle groups ({names})")
    if len(regions) >= ev["widespread_regions"]:
        parts.append(f"{len(regions)} body regions ({region_names(regions)})")
    return (
        f"Twitching is now widespread: established in {' and in '.join(parts)}. Twitching in "
        "many parts of the body is a reason to have it checked."
    )


def _others(ev: Mapping[str, Any], new: str) -> str:
    """The limb groups that twitched before the new one, or the regions if none is a limb."""
    groups = [g for g in ev["lingering_limb_groups"] if g != new]
    if groups:
        return " and ".join(limb_group_name(g) for g in groups)
    return region_names(ev["lingering_regions"]) or "other muscles"


def _listed(groups: Sequence[Mapping[str, Any]], name: Callable[[str], str]) -> str:
    """In the order twitching began: "the lower back and legs (left calf, since …), then …"."""
    return ", then ".join(
        f"{name(g['name'])} ({site_names(g['sites'])}, since {day(g['first_active'])})"
        for g in groups
    )


def _limb_groups(facts: Facts, mask: np.ndarray) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i in np.flatnonzero(mask):
        group = facts.limb_groups[i]
        if group is not None:
            groups.setdefault(group, []).append(int(i))
    return groups


def _first_active(facts: Facts, sites: list[int]) -> int:
    """Column of the first active day of any of these sites in the history."""
    return int(facts.active[sites].any(axis=0).argmax())


def _group_evidence(facts: Facts, name: str, sites: list[int]) -> dict[str, Any]:
    return {
        "name": name,
        "sites": [facts.sites[i] for i in sites],
        "first_active": iso_day(facts, _first_active(facts, sites)),
    }


def _newest(
    facts: Facts, established: Mapping[str, list[int]], labels: Sequence[object]
) -> dict[str, Any] | None:
    """The latest established group (region or limb group) that began after a still baseline
    while others twitched.

    Its counted sites (``labels[i]`` is a site's group) must have been observed without
    twitching on >= ``baseline_min_observed_days`` days before its first active day, and the
    counted sites of other groups must have been active on >= ``[established]
    min_active_days`` days by then.
    """
    cfg = facts.config
    counted = np.flatnonzero(facts.counted)
    best: dict[str, Any] | None = None
    for name, established_sites in established.items():
        members = [int(i) for i in counted if _label(labels[i]) == name]
        others = [int(i) for i in counted if _label(labels[i]) not in (name, None)]
        onset = _first_active(facts, members)
        baseline = int(facts.observed[members, :onset].any(axis=0).sum())
        others_active = int(facts.active[others, :onset].any(axis=0).sum()) if others else 0
        if (
            baseline >= cfg.spread.baseline_min_observed_days
            and others_active >= cfg.established.min_active_days
            and (best is None or facts.day(onset).isoformat() > best["first_active"])
        ):
            best = {
                "name": name,
                "sites": [facts.sites[i] for i in established_sites],
                "first_active": iso_day(facts, onset),
                "baseline_observed_days": baseline,
                "other_active_days": others_active,
            }
    return best


def _label(label: object) -> str | None:
    """A region (an enum) or a limb group (a string) as the string groups are keyed by."""
    return None if label is None else str(getattr(label, "value", label))


RULE = Spread()
