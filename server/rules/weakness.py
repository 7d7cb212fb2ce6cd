"""Weakness (scope: region): weakness or wasting reported where twitching is established.

Twitching together with weakness or atrophy is a reason to have it checked: a warning that fires
at once. A report without a site counts for every region. It depends on report times only for
clearing: it clears when weakness has not been reported again for ``window_days``, never
because sensor data is missing, and never because twitching settled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from server.model import Finding, Verdict
from server.rules.checks import require
from server.rules.context import ContextFinder
from server.rules.facts import Facts, region_sites
from server.rules.unit import RuleTable, RuleUnit
from server.wording import period, region_name, site_name
from twitchwatch.contract import (
    CONTEXT_REPORTS,
    Region,
    Report,
    ReportKind,
    Rule,
    Severity,
    format_utc,
    region_of,
)


@dataclass(frozen=True, slots=True)
class WeaknessConfig(RuleTable):
    kinds: tuple[str, ...]
    window_days: int
    for_s: float

    def __post_init__(self) -> None:
        allowed = {k.value for k in ReportKind} - {k.value for k in CONTEXT_REPORTS}
        bad = [k for k in self.kinds if k not in allowed]
        require(
            not bad and bool(self.kinds), f"weakness.kinds must be symptoms from {sorted(allowed)}"
        )

    @property
    def report_kinds(self) -> frozenset[ReportKind]:
        return frozenset(ReportKind(k) for k in self.kinds)

    @property
    def lookback_days(self) -> int:
        return self.window_days


class Weakness(RuleUnit):
    rule = Rule.WEAKNESS
    table = WeaknessConfig
    title = "Weakness with twitching"
    toml = """\
[weakness]
# Warning: the person reported weakness or atrophy in the last 30 days in a region where
# twitching is established (a report without a site counts for every such region). It clears
# only after 30 days without such a report: reported symptoms never clear because sensor data
# is missing, and twitching settling does not clear them either. It fires at once.
kinds = ["weakness", "atrophy"]
window_days = 30
for_s = 0
"""

    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        """One finding per region: RAISE when weakness or atrophy was reported where twitching is
        established; a report without a site counts for every region."""
        cfg: WeaknessConfig = facts.config.weakness
        since = facts.as_of - timedelta(days=cfg.window_days)
        kinds = cfg.report_kinds
        reports = [r for r in facts.reports if r.kind in kinds and r.t > since]
        established = region_sites(facts, facts.established)
        stats = facts.window(facts.config.established.window_days)
        findings = []
        for region in Region:
            mine = [r for r in reports if r.site is None or region_of(r.site) == region]
            sites = established.get(region, [])
            if not mine:
                verdict = Verdict.CLEAR
            elif sites:
                verdict = Verdict.RAISE
            else:
                verdict = Verdict.HOLD  # reported, but no twitching established there (now)
            top = max(sites, key=lambda i: (stats.active[i], -i)) if sites else None
            evidence: dict[str, Any] = {
                "region": region.value,
                "reports": [_report(r) for r in mine],
                "sites": [facts.sites[i] for i in sites],
                "active_days": int(stats.active[top]) if top is not None else 0,
                "observed_days": int(stats.observed[top]) if top is not None else 0,
                "established_days": facts.config.established.window_days,
                "window_days": cfg.window_days,
            }
            members = np.array(
                [i for i, r in enumerate(facts.regions) if r == region], dtype=np.intp
            )
            findings.append(
                self.finding(
                    region.value, verdict, Severity.WARNING, evidence, context.for_sites(members)
                )
            )
        return findings

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        region = region_name(ev["region"])
        reports = ev["reports"]
        if not reports:
            return f"No weakness or wasting reported for {region} in {period(ev['window_days'])}."
        last = reports[-1]
        what = "Wasting" if last["kind"] == "atrophy" else "Weakness"
        where = f" at the {site_name(last['site'])}" if last["site"] else ""
        reported = f"{what} reported on {last['t'][:10]}{where}"
        match verdict:
            case Verdict.RAISE:
                return (
                    f"{reported}, in {region}, where twitching was recorded on "
                    f"{ev['active_days']} of the {ev['observed_days']} days it was observed in "
                    f"{period(ev['established_days'])}. Twitching together with weakness or wasting "
                    "is a reason to have it checked."
                )
            case Verdict.CLEAR:
                return (
                    f"No weakness or wasting reported for {region} in {period(ev['window_days'])}."
                )
        return f"{reported}; twitching is not established in {region} at the moment."


def _report(r: Report) -> dict[str, Any]:
    return {"t": format_utc(r.t), "kind": r.kind.value, "site": r.site}


RULE = Weakness()
