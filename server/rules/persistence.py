"""Rule 1, persistence (scope: site): twitching on most observed days for three weeks or more.

Persistence alone is normal in benign twitching, so this is an advisory (info at the places of
``[persistence] info_places``, eyelids by default). It clears only when the site is quiet, which
needs observed days: a sensor that is no longer worn leaves the alert as it is.
"""

from __future__ import annotations

import numpy as np

from server.model import Finding, Verdict
from server.rules.context import ContextFinder
from server.rules.facts import Facts, finding, iso_day
from twitchwatch.contract import Rule, Severity, split_site


def persistence(facts: Facts, context: ContextFinder) -> list[Finding]:
    """One finding per site of the history."""
    cfg, quiet_cfg = facts.config.persistence, facts.config.quiet
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
        info = split_site(site)[1] in cfg.info_places
        severity = Severity.INFO if info else Severity.ADVISORY
        sites = np.array([i])
        findings.append(
            finding(Rule.PERSISTENCE, site, verdict, severity, evidence, context.for_sites(sites))
        )
    return findings
