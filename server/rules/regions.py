"""Rules 2 and 3, spread and widespread (scope "all"): twitching established in several places.

A region is *involved* when one of its counted sites has established twitching (facts.py); it
stays *lingering* until that site is shown to be quiet, so a sensor taken off keeps its region
in (no data never clears). Raising needs established twitching, clearing needs the lingering
regions or limb groups to fall below the threshold: the gap between the two is the hysteresis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from server.model import Finding, Verdict
from server.rules.context import ContextFinder
from server.rules.facts import Facts, finding, iso_day, region_sites
from twitchwatch.contract import Region, Rule, Severity

SCOPE_ALL = "all"


def spread(facts: Facts, context: ContextFinder) -> Finding:
    """Established twitching in >= ``min_regions`` regions, or in a new region after a baseline."""
    cfg = facts.config.spread
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
        verdict = Verdict.CLEAR if _observed_recently(facts) else Verdict.NO_DATA
    else:
        verdict = Verdict.HOLD
    return finding(
        Rule.SPREAD, SCOPE_ALL, verdict, Severity.WARNING, evidence, context.for_sites(None)
    )


def widespread(facts: Facts, context: ContextFinder) -> Finding:
    """Established twitching in >= ``min_limb_groups`` of the 8 limb groups or >= ``min_regions``."""
    cfg = facts.config.widespread
    groups = _limb_groups(facts, facts.established)
    regions = [r.value for r in region_sites(facts, facts.established)]
    lingering_groups = _limb_groups(facts, facts.lingering)
    lingering_regions = [r.value for r in region_sites(facts, facts.lingering)]
    evidence = {
        "limb_groups": groups,
        "regions": regions,
        "lingering_limb_groups": lingering_groups,
        "lingering_regions": lingering_regions,
        "min_limb_groups": cfg.min_limb_groups,
        "min_regions": cfg.min_regions,
    }
    if len(groups) >= cfg.min_limb_groups or len(regions) >= cfg.min_regions:
        verdict = Verdict.RAISE
    elif len(lingering_groups) < cfg.min_limb_groups and len(lingering_regions) < cfg.min_regions:
        verdict = Verdict.CLEAR if _observed_recently(facts) else Verdict.NO_DATA
    else:
        verdict = Verdict.HOLD
    return finding(
        Rule.WIDESPREAD, SCOPE_ALL, verdict, Severity.WARNING, evidence, context.for_sites(None)
    )


def _observed_recently(facts: Facts) -> bool:
    """Some site was observed in the quiet window: without that, nothing can be cleared."""
    days = facts.config.quiet.window_days
    return bool(facts.observed[:, -days:].any())


def _limb_groups(facts: Facts, mask: np.ndarray) -> list[str]:
    return sorted({g for i in np.flatnonzero(mask) if (g := facts.limb_groups[i]) is not None})


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
