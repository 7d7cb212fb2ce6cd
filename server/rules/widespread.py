"""Widespread (scope "all"): twitching established in many parts of the body.

Five of the eight limb muscle groups (side x upper arm, forearm/hand, thigh, lower leg/foot;
Howard & Murray 1992) or three body regions raise a warning. As for spread, a group or region
stays *lingering* until its sites are shown to be quiet (no data never clears), and the alert
clears only when the lingering groups and regions fall below both thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from server.model import Finding, Verdict
from server.rules.checks import require
from server.rules.context import ContextFinder
from server.rules.facts import Facts, observed_recently, region_sites
from server.rules.unit import SCOPE_ALL, RuleTable, RuleUnit
from server.wording import limb_group_name, region_names
from twitchwatch.contract import Rule, Severity


@dataclass(frozen=True, slots=True)
class WidespreadConfig(RuleTable):
    min_limb_groups: int
    min_regions: int
    for_s: float

    def __post_init__(self) -> None:
        require(self.min_limb_groups <= 8, "widespread.min_limb_groups must be <= 8 (8 groups)")
        require(self.min_regions <= 4, "widespread.min_regions must be <= 4 (4 regions)")


class Widespread(RuleUnit):
    rule = Rule.WIDESPREAD
    table = WidespreadConfig
    title = "Widespread twitching"
    toml = """\
[widespread]
# Warning: established twitching in >= 5 of the 8 limb muscle groups (side x upper arm,
# forearm/hand, thigh, lower leg/foot; Howard & Murray 1992) or in >= 3 regions.
# Clear: fewer groups and regions have twitching that is not quiet.
min_limb_groups = 5
min_regions = 3
for_s = 86400
"""

    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        """Established twitching in >= ``min_limb_groups`` of the 8 limb groups or >= ``min_regions``."""
        cfg: WidespreadConfig = facts.config.widespread
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
        elif (
            len(lingering_groups) < cfg.min_limb_groups and len(lingering_regions) < cfg.min_regions
        ):
            verdict = Verdict.CLEAR if observed_recently(facts) else Verdict.NO_DATA
        else:
            verdict = Verdict.HOLD
        return [
            self.finding(SCOPE_ALL, verdict, Severity.WARNING, evidence, context.for_sites(None))
        ]

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        groups, regions = ev["limb_groups"], ev["regions"]
        match verdict:
            case Verdict.RAISE:
                parts = []
                if len(groups) >= ev["min_limb_groups"]:
                    names = "; ".join(limb_group_name(g) for g in groups)
                    parts.append(f"{len(groups)} of the 8 limb muscle groups ({names})")
                if len(regions) >= ev["min_regions"]:
                    parts.append(f"{len(regions)} body regions ({region_names(regions)})")
                return (
                    f"Twitching established in {' and in '.join(parts)}. Twitching in many parts of "
                    "the body is a reason to have it checked."
                )
            case Verdict.CLEAR:
                return "Twitching is no longer recorded in many parts of the body."
            case Verdict.NO_DATA:
                return "No sensor was observed long enough recently to tell how widespread twitching is."
        return (
            f"Twitching established in {len(groups)} limb muscle groups and {len(regions)} body "
            "regions."
        )


def _limb_groups(facts: Facts, mask: np.ndarray) -> list[str]:
    return sorted({g for i in np.flatnonzero(mask) if (g := facts.limb_groups[i]) is not None})


RULE = Widespread()
