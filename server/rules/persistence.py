"""Persistence (scope: site): twitching on most observed days for three weeks or more.

Persistence alone is normal in benign twitching, so this is an advisory (info at the places of
``[persistence] info_places``, eyelids by default). It clears only when the site is quiet, which
needs observed days: a sensor that is no longer worn leaves the alert as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from server.model import Finding, Verdict
from server.rules.checks import check_places, within
from server.rules.context import ContextFinder
from server.rules.facts import Facts, iso_day, silence
from server.rules.unit import RuleTable, RuleUnit
from server.wording import days, period, rate, site_name
from twitchwatch.contract import Rule, Severity, region_of, split_site

if TYPE_CHECKING:
    from server.rules.config import RuleConfig


@dataclass(frozen=True, slots=True)
class PersistenceConfig(RuleTable):
    window_days: int
    min_observed_days: int
    min_active_fraction: float
    min_span_days: int
    info_places: tuple[str, ...]
    for_s: float

    def __post_init__(self) -> None:
        check_places("persistence", "info_places", self.info_places)
        within("persistence", self, "window_days", "min_observed_days", "min_span_days")

    @property
    def lookback_days(self) -> int:
        return self.window_days

    def check_with(self, config: RuleConfig) -> None:
        config.quiet.check_hysteresis(self.min_active_fraction)


class Persistence(RuleUnit):
    rule = Rule.PERSISTENCE
    table = PersistenceConfig
    title = "Persistent twitching"
    toml = """\
[persistence]
# Persistence alone is normal in benign twitching (it persists in ~98 % of benign cases,
# Blexrud 1993): a site active on >= 60 % of >= 10 observed days in the last 28, the active
# days spanning >= 21 days (3 weeks), is an advisory. Clear: the site is quiet ([quiet]).
window_days = 28
min_observed_days = 10
min_active_fraction = 0.6
min_span_days = 21
# Twitching at these places is the least concerning: info, not advisory.
info_places = ["eyelid"]
# The next daily evaluation must confirm it before it fires (1 day).
for_s = 86400
"""

    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        """One finding per site of the history."""
        cfg: PersistenceConfig = facts.config.persistence
        quiet_cfg = facts.config.quiet
        stats = facts.window(cfg.window_days)
        recent = facts.window(quiet_cfg.window_days)
        raised = (
            (stats.observed >= cfg.min_observed_days)
            & (stats.fraction >= cfg.min_active_fraction)
            & (stats.span_days >= cfg.min_span_days)
            & ~facts.quiet  # the last two weeks outweigh the four: settled twitching does not raise
        )
        span = stats.span_days
        findings = []
        for i, site in enumerate(facts.sites):
            if raised[i]:
                verdict = Verdict.RAISE
            elif facts.quiet[i]:
                verdict = Verdict.CLEAR
            elif stats.observed[i] < cfg.min_observed_days:
                verdict = Verdict.NO_DATA
            else:
                verdict = Verdict.HOLD
            rates = facts.rates_per_min(i, cfg.window_days)
            evidence = {
                "site": site,
                "window_days": cfg.window_days,
                "observed_days": int(stats.observed[i]),
                "active_days": int(stats.active[i]),
                "span_days": int(span[i]),
                "first_active": iso_day(facts, int(stats.first_active[i])),
                "last_active": iso_day(facts, int(stats.last_active[i])),
                "median_rate_per_min": round(float(np.median(rates)), 3) if rates.size else None,
                "recent_days": quiet_cfg.window_days,
                "recent_observed_days": int(recent.observed[i]),
                "recent_active_days": int(recent.active[i]),
                "min_rest_min": round(facts.config.observation.min_rest_s_per_day / 60),
            }
            if verdict is not Verdict.CLEAR:
                evidence.update(silence(facts, [i]))
            info = split_site(site)[1] in cfg.info_places
            severity = Severity.INFO if info else Severity.ADVISORY
            sites = np.array([i])
            findings.append(
                self.finding(site, verdict, severity, evidence, context.for_sites(sites))
            )
        return findings

    def covers(self, scope: str, evidence: Mapping[str, Any]) -> frozenset[str]:
        region = region_of(scope)
        return frozenset() if region is None else frozenset({region.value})

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        site, window = site_name(ev["site"]), period(ev["window_days"])
        counted = (
            f"Twitching recorded at the {site} on {ev['active_days']} of the {ev['observed_days']} "
            f"days it was observed in {window} (median {rate(ev['median_rate_per_min'])} per minute "
            "of rest)."
        )
        match verdict:
            case Verdict.RAISE if severity is Severity.INFO:
                return counted + " Twitching there is common and usually settles by itself."
            case Verdict.RAISE:
                return counted + " Twitching that persists is common and usually benign."
            case Verdict.CLEAR:
                return (
                    f"Twitching at the {site} was recorded on {ev['recent_active_days']} of the "
                    f"{ev['recent_observed_days']} days it was observed in "
                    f"{period(ev['recent_days'])}: it has settled."
                )
            case Verdict.NO_DATA:
                return (
                    f"The {site} was observed on {days(ev['observed_days'])} in {window} (a day needs "
                    f"{ev['min_rest_min']} minutes of rest): not enough to tell whether twitching persists."
                )
        return counted


RULE = Persistence()
