"""Rules 5 and 6: what the person reports. Weakness with twitching (scope: region) and red flags.

Both depend on report times only for clearing: a reported symptom clears when it has not been
reported again for the rule's window, never because sensor data is missing, and never because
twitching settled. Red flags ignore the counts altogether.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from server.model import Finding, Verdict
from server.rules.context import ContextFinder
from server.rules.facts import Facts, finding, region_sites
from twitchwatch.contract import Region, Report, ReportKind, Rule, Severity, format_utc, region_of

#: The red-flag symptoms; each is its own alert scope.
RED_FLAGS = (ReportKind.SPEECH, ReportKind.SWALLOWING, ReportKind.BREATHING)


def weakness(facts: Facts, context: ContextFinder) -> list[Finding]:
    """One finding per region: RAISE when weakness or atrophy was reported where twitching is
    established; a report without a site counts for every region."""
    cfg = facts.config.weakness
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
        members = np.array([i for i, r in enumerate(facts.regions) if r == region], dtype=np.intp)
        findings.append(
            finding(
                Rule.WEAKNESS,
                region.value,
                verdict,
                Severity.WARNING,
                evidence,
                context.for_sites(members),
            )
        )
    return findings


def red_flag(facts: Facts, context: ContextFinder) -> list[Finding]:
    """One finding per red-flag symptom: RAISE (urgent) when reported in the window, else CLEAR."""
    days = facts.config.red_flag.window_days
    since = facts.as_of - timedelta(days=days)
    findings = []
    for kind in RED_FLAGS:
        mine = [r for r in facts.reports if r.kind == kind and r.t > since]
        evidence = {
            "symptom": kind.value,
            "reports": [format_utc(r.t) for r in mine],
            "last_reported": format_utc(mine[-1].t) if mine else None,
            "window_days": days,
        }
        verdict = Verdict.RAISE if mine else Verdict.CLEAR
        # Context is shown beside a red flag like anywhere else; the verdict never reads it.
        findings.append(
            finding(
                Rule.RED_FLAG,
                kind.value,
                verdict,
                Severity.URGENT,
                evidence,
                context.for_sites(None),
            )
        )
    return findings


def _report(r: Report) -> dict[str, Any]:
    return {"t": format_utc(r.t), "kind": r.kind.value, "site": r.site}
