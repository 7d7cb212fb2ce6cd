"""Worsening (scope: site): a site's rate rose significantly and substantially.

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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from server.model import Finding, Verdict
from server.rules.checks import require, within
from server.rules.context import ContextFinder
from server.rules.facts import Facts
from server.rules.unit import RuleTable, RuleUnit
from server.wording import period, rate, site_name
from twitchwatch.contract import Rule, Severity, split_site


@dataclass(frozen=True, slots=True)
class WorseningConfig(RuleTable):
    period_days: int
    alpha: float
    min_rate_ratio: float
    min_observed_days: int
    min_rest_s: float
    clear_max_rate_ratio: float
    clear_alpha: float
    for_s: float

    def __post_init__(self) -> None:
        require(
            0 < self.alpha < 1 and 0 < self.clear_alpha < 1, "worsening alphas must be in (0, 1)"
        )
        require(self.min_rate_ratio > 1, "worsening.min_rate_ratio must be > 1 (a rise)")
        within("worsening", self, "period_days", "min_observed_days")
        require(
            self.clear_alpha > self.alpha and self.clear_max_rate_ratio < self.min_rate_ratio,
            "worsening clear thresholds must be weaker than the raise thresholds "
            "(clear_alpha > alpha, clear_max_rate_ratio < min_rate_ratio)",
        )

    @property
    def lookback_days(self) -> int:
        return 2 * self.period_days  # the recent period and the one before


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
    # Imported here: Home Assistant's bridge imports the rules for their titles, and scipy.stats
    # would add most of a second to `twitchwatch alerts`.
    from scipy.stats import binom

    n = k1 + k2
    exposure = t1 + t2
    share = np.divide(t1, exposure, out=np.full(t1.shape, 0.5), where=exposure > 0)
    p_value = np.where(n > 0, binom.sf(k1 - 1, n, share), 1.0)
    r1 = np.divide(k1, t1, out=np.zeros(t1.shape), where=t1 > 0)
    r2 = np.divide(k2, t2, out=np.zeros(t2.shape), where=t2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(r2 > 0, r1 / np.where(r2 > 0, r2, 1.0), np.where(r1 > 0, np.inf, 1.0))
    return p_value, ratio


class Worsening(RuleUnit):
    rule = Rule.WORSENING
    table = WorseningConfig
    title = "Twitching becoming more frequent"
    toml = """\
[worsening]
# Advisory: a site's rate in the last 14 days against the 14 before, the counts and minutes of
# observed rest tested as two Poisson rates (conditional binomial test, one-sided).
period_days = 14
# Significant at 1 %, and a rise of >= 1.5x: with thousands of counts a trivial rise is
# "significant", so an effect size is required too.
alpha = 0.01
min_rate_ratio = 1.5
# Worsening is about a site that was already twitching: its twitching must have been
# established ([established] activity thresholds) by the start of the last 14 days. The onset
# of new twitching at a quiet site is not a rise of its rate; persistence and spread see it.
# Each period needs >= 5 observed days and >= 5 h of observed rest, else NO DATA: 5 h at the
# activity threshold is ~60 twitches, enough for the test to see a 1.5x rise.
min_observed_days = 5
min_rest_s = 18000
# Clear (hysteresis): the rise has faded, to a ratio <= 1.1 or no longer significant even at
# 20 %. Twitch counts vary more from day to day than a Poisson process; the ratio guards that.
clear_max_rate_ratio = 1.1
clear_alpha = 0.2
for_s = 86400
"""

    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        """One finding per site of the history."""
        cfg: WorseningConfig = facts.config.worsening
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
                self.finding(site, verdict, severity, evidence, context.for_sites(np.array([i])))
            )
        return findings

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        site, days = site_name(ev["site"]), ev["period_days"]
        recent, earlier = ev["recent"], ev["earlier"]
        compared = (
            f"{rate(recent['rate_per_min'])} per minute of rest in {period(days)} against "
            f"{rate(earlier['rate_per_min'])} in the {days} days before"
        )
        match verdict:
            case Verdict.RAISE:
                return (
                    f"The twitching rate at the {site} rose: {compared} "
                    f"({recent['rest_h']:g} h and {earlier['rest_h']:g} h of rest observed). "
                    f"A rise this large is unlikely to be chance (one-sided test, {significance(ev['p_value'])})."
                )
            case Verdict.CLEAR:
                return f"The twitching rate at the {site} is no longer rising: {compared}."
            case Verdict.NO_DATA:
                return (
                    f"Not enough observed rest at the {site} to compare {period(days)} with the "
                    f"{days} days before ({recent['rest_h']:g} h and {earlier['rest_h']:g} h; each "
                    f"needs {ev['min_rest_h']:g} h on {ev['min_observed_days']} days)."
                )
        return f"The twitching rate at the {site}: {compared}."


def significance(p: float) -> str:
    """A p-value as the message states it."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _period(k: int, t_min: float, n: int) -> dict[str, float | int | None]:
    return {
        "twitches": int(k),
        "rest_h": round(float(t_min) / 60, 1),
        "observed_days": int(n),
        "rate_per_min": round(float(k / t_min), 3) if t_min > 0 else None,
    }


RULE = Worsening()
