"""Rule 4, worsening (scope: site): a site's rate rose significantly and substantially.

The last ``period_days`` against the ``period_days`` before, each as twitches over minutes of
observed rest, compared as two Poisson rates with the conditional binomial test: given
``k1 + k2`` twitches, ``k1`` is Binomial(k1 + k2, t1 / (t1 + t2)) when the rates are equal.
One-sided (a rise), p from ``binom.sf`` for every site at once; this equals
``scipy.stats.binomtest(k1, k1 + k2, t1 / (t1 + t2), alternative="greater").pvalue``.

The rate ratio must also reach ``min_rate_ratio``: with thousands of twitches a trivial rise is
significant, and day-to-day variation is larger than Poisson. Only a site that was already
twitching can worsen: its twitching must have been established ([established] activity
thresholds) by the start of the recent period. Otherwise the onset of twitching at a quiet site
would look like a rise; persistence and spread deal with onset. A falling rate is not
reassurance either: the rule clears ("no longer rising"), it never reports improvement.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from server.model import Finding, Verdict
from server.rules.context import ContextFinder
from server.rules.facts import Facts, finding
from twitchwatch.contract import Rule, Severity, split_site


def rate_test(
    k1: np.ndarray, t1: np.ndarray, k2: np.ndarray, t2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided test that rate 1 exceeds rate 2, for arrays of counts and exposures.

    Parameters
    ----------
    k1, k2 : (n,) int arrays
        Counts of the recent and of the earlier period.
    t1, t2 : (n,) float arrays
        Exposures (minutes of observed rest), > 0 where the test is to be read.

    Returns
    -------
    p_value : (n,) float
        P(K1 >= k1) under equal rates; 1 where there is nothing to test.
    ratio : (n,) float
        (k1 / t1) / (k2 / t2); inf when only the recent period has twitches, 1 when neither has.
    """
    n = k1 + k2
    exposure = t1 + t2
    share = np.divide(t1, exposure, out=np.full(t1.shape, 0.5), where=exposure > 0)
    p_value = np.where(n > 0, binom.sf(k1 - 1, n, share), 1.0)
    r1 = np.divide(k1, t1, out=np.zeros(t1.shape), where=t1 > 0)
    r2 = np.divide(k2, t2, out=np.zeros(t2.shape), where=t2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(r2 > 0, r1 / np.where(r2 > 0, r2, 1.0), np.where(r1 > 0, np.inf, 1.0))
    return p_value, ratio


def worsening(facts: Facts, context: ContextFinder) -> list[Finding]:
    """One finding per site of the history."""
    cfg = facts.config.worsening
    days = cfg.period_days
    counts = np.where(facts.observed, facts.twitches, 0)
    rest_min = np.where(facts.observed, facts.rest_s, 0.0) / 60.0
    recent, earlier = slice(-days, None), slice(-2 * days, -days)
    k1, k2 = counts[:, recent].sum(axis=1), counts[:, earlier].sum(axis=1)
    t1, t2 = rest_min[:, recent].sum(axis=1), rest_min[:, earlier].sum(axis=1)
    n1, n2 = facts.observed[:, recent].sum(axis=1), facts.observed[:, earlier].sum(axis=1)
    p_value, ratio = rate_test(k1, t1, k2, t2)
    est = facts.config.established
    before = facts.window(est.window_days, end=days)  # the weeks up to the recent period
    was_twitching = (
        (before.active >= est.min_active_days)
        & (before.fraction >= est.min_active_fraction)
        & (before.span_days >= est.min_span_days)
    )
    min_rest_min = cfg.min_rest_s / 60.0
    enough = (
        (n1 >= cfg.min_observed_days)
        & (n2 >= cfg.min_observed_days)
        & (t1 >= min_rest_min)
        & (t2 >= min_rest_min)
    )
    raised = enough & (p_value < cfg.alpha) & (ratio >= cfg.min_rate_ratio) & was_twitching
    cleared = enough & ((ratio <= cfg.clear_max_rate_ratio) | (p_value > cfg.clear_alpha))
    findings = []
    for i, site in enumerate(facts.sites):
        if raised[i]:
            verdict = Verdict.RAISE
        elif not enough[i]:
            verdict = Verdict.NO_DATA
        elif cleared[i]:
            verdict = Verdict.CLEAR
        else:
            verdict = Verdict.HOLD
        evidence = {
            "site": site,
            "period_days": days,
            "recent": _period(k1[i], t1[i], n1[i]),
            "earlier": _period(k2[i], t2[i], n2[i]),
            "established_before": bool(was_twitching[i]),
            "rate_ratio": round(float(ratio[i]), 3) if np.isfinite(ratio[i]) else None,
            "p_value": float(f"{p_value[i]:.3g}"),
            "alpha": cfg.alpha,
            "min_rate_ratio": cfg.min_rate_ratio,
            "min_observed_days": cfg.min_observed_days,
            "min_rest_h": round(cfg.min_rest_s / 3600, 2),
        }
        info = split_site(site)[1] in facts.config.persistence.info_places
        severity = Severity.INFO if info else Severity.ADVISORY
        findings.append(
            finding(
                Rule.WORSENING, site, verdict, severity, evidence, context.for_sites(np.array([i]))
            )
        )
    return findings


def _period(k: int, t_min: float, n: int) -> dict[str, float | int | None]:
    return {
        "twitches": int(k),
        "rest_h": round(float(t_min) / 60, 1),
        "observed_days": int(n),
        "rate_per_min": round(float(k / t_min), 3) if t_min > 0 else None,
    }
