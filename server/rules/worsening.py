"""Worsening (scope: site): a site's twitching became clearly more frequent, beyond its own ups and downs.

Twitch counts vary far more from day to day than a Poisson process: a pooled rate test over two
fortnights calls ordinary spread "significant" (it gave 9 of 10 steady people a worsening
advisory in 60 days). So the test works on per-day rates and lets each site's own day-to-day
spread set the bar:

- a day's rate is its twitches per minute of observed rest (rest is the exposure); only the
  site's *twitching* days (active: [observation] active_rate_per_min) are compared, on a log
  scale, where day-to-day spread is multiplicative (lognormal: a CV of 0.3-0.8 is typical);
- the last ``recent_days`` against the ``baseline_days`` before them, with a pooled two-sample
  t-test, one-sided: the spread is estimated from the site's own days, so a site that varies a
  lot needs a larger rise (this is the overdispersion: the variance is not the mean);
- both sides need enough observed and twitching days (fewer is NO DATA, never a clear), the
  typical rate must have risen by ``min_rate_ratio`` (an effect size, not only a test), and
  the next day's evaluation must confirm it (``for_s``) before the advisory fires.

``bench/advice.py`` simulates steady and rising histories through this function and the alert
lifecycle and prints the false-alarm rate and the power. Only a site that was already twitching
can worsen (``min_baseline_active_days``): the onset of twitching at a quiet site is not a rise;
persistence and spread see it. A falling rate is not reassurance: the rule clears ("no longer
rising"), it never reports improvement. Messages say the rise in words, never a p-value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from server.model import Finding, Verdict
from server.rules.checks import require
from server.rules.context import ContextFinder
from server.rules.facts import Facts, silence
from server.rules.unit import RuleTable, RuleUnit
from server.wording import days, period, rate, site_name, times_as_many
from twitchwatch.contract import Rule, Severity, region_of, split_site

#: Added to a day's count before its log is taken, so that a count of 0 stays finite (only
#: twitching days are compared, whose counts are far larger).
_HALF_COUNT = 0.5


@dataclass(frozen=True, slots=True)
class WorseningConfig(RuleTable):
    recent_days: int
    baseline_days: int
    alpha: float
    min_rate_ratio: float
    min_recent_observed_days: int
    min_baseline_observed_days: int
    min_recent_active_days: int
    min_baseline_active_days: int
    clear_max_rate_ratio: float
    clear_alpha: float
    for_s: float

    def __post_init__(self) -> None:
        require(
            0 < self.alpha < 1 and 0 < self.clear_alpha < 1, "worsening alphas must be in (0, 1)"
        )
        require(self.min_rate_ratio > 1, "worsening.min_rate_ratio must be > 1 (a rise)")
        require(
            self.min_recent_active_days >= 2 and self.min_baseline_active_days >= 2,
            "worsening needs >= 2 twitching days on each side to measure their spread",
        )
        require(
            self.min_recent_observed_days <= self.recent_days
            and self.min_recent_active_days <= self.min_recent_observed_days
            and self.min_baseline_observed_days <= self.baseline_days
            and self.min_baseline_active_days <= self.min_baseline_observed_days,
            "worsening day minimums must fit their periods (active <= observed <= period)",
        )
        require(
            self.clear_alpha > self.alpha and self.clear_max_rate_ratio < self.min_rate_ratio,
            "worsening clear thresholds must be weaker than the raise thresholds "
            "(clear_alpha > alpha, clear_max_rate_ratio < min_rate_ratio)",
        )

    @property
    def lookback_days(self) -> int:
        return self.recent_days + self.baseline_days


@dataclass(frozen=True, slots=True)
class RiseTest:
    """The test for every row of (n_rows, n_days) day arrays; each field is (n_rows,)."""

    recent_observed: np.ndarray
    baseline_observed: np.ndarray
    recent_active: np.ndarray
    baseline_active: np.ndarray
    recent_rate: np.ndarray  # typical (geometric mean) rate of the twitching days, per min
    baseline_rate: np.ndarray
    ratio: np.ndarray  # recent_rate / baseline_rate (1 where either side has no twitching day)
    p_value: np.ndarray  # one-sided; 1 where there is not enough to test
    enough: np.ndarray  # bool: both sides have their minimum observed and twitching days
    raised: np.ndarray  # bool: the raise condition
    cleared: np.ndarray  # bool: the (weaker) clear condition

    def verdicts(self) -> list[Verdict]:
        return [
            Verdict.RAISE
            if r
            else Verdict.NO_DATA
            if not e
            else Verdict.CLEAR
            if c
            else Verdict.HOLD
            for r, e, c in zip(self.raised, self.enough, self.cleared, strict=True)
        ]


def rise_test(
    twitches: np.ndarray,
    rest_s: np.ndarray,
    observed: np.ndarray,
    active: np.ndarray,
    cfg: WorseningConfig,
) -> RiseTest:
    """Has each row's twitching-day rate risen over its last ``cfg.recent_days``?

    Parameters
    ----------
    twitches : (n_rows, n_days) int array
        Twitches per day; the last column is the evaluation day.
    rest_s : (n_rows, n_days) float array
        Seconds of observed rest per day (the exposure).
    observed, active : (n_rows, n_days) bool arrays
        Days with enough rest to count, and those of them that twitched.
    cfg : WorseningConfig

    Returns
    -------
    RiseTest
        Per row: day counts, typical rates, their ratio, the one-sided p-value of a pooled
        t-test on the log rates of twitching days, and the raise and clear conditions.
    """
    # Imported here: Home Assistant's bridge imports the rules for their titles, and scipy.stats
    # would add most of a second to `twitchwatch alerts`.
    from scipy.stats import t as student_t

    n_days = twitches.shape[1]
    recent = slice(max(n_days - cfg.recent_days, 0), n_days)
    baseline = slice(max(n_days - cfg.recent_days - cfg.baseline_days, 0), recent.start)
    rest_min = np.where(observed, rest_s, 1.0) / 60.0
    log_rate = np.log((twitches + _HALF_COUNT) / rest_min)

    def side(part: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        mask = active[:, part]
        n = mask.sum(axis=1)
        mean = np.where(mask, log_rate[:, part], 0.0).sum(axis=1) / np.maximum(n, 1)
        squares = np.where(mask, (log_rate[:, part] - mean[:, None]) ** 2, 0.0).sum(axis=1)
        return observed[:, part].sum(axis=1), n, mean, squares

    obs1, n1, mean1, ss1 = side(recent)
    obs2, n2, mean2, ss2 = side(baseline)
    enough = (
        (obs1 >= cfg.min_recent_observed_days)
        & (obs2 >= cfg.min_baseline_observed_days)
        & (n1 >= cfg.min_recent_active_days)
        & (n2 >= cfg.min_baseline_active_days)
    )
    df = np.maximum(n1 + n2 - 2, 1)
    pooled_var = (ss1 + ss2) / df
    se = np.sqrt(pooled_var * (1 / np.maximum(n1, 1) + 1 / np.maximum(n2, 1)))
    diff = mean1 - mean2
    with np.errstate(divide="ignore", invalid="ignore"):
        t_stat = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.sign(diff) * np.inf)
    p_value = np.where(enough, student_t.sf(t_stat, df), 1.0)
    both = (n1 > 0) & (n2 > 0)
    ratio = np.where(both, np.exp(np.where(both, diff, 0.0)), 1.0)
    raised = enough & (p_value < cfg.alpha) & (ratio >= cfg.min_rate_ratio)
    cleared = enough & ((ratio <= cfg.clear_max_rate_ratio) | (p_value > cfg.clear_alpha))
    return RiseTest(
        recent_observed=obs1,
        baseline_observed=obs2,
        recent_active=n1,
        baseline_active=n2,
        recent_rate=np.where(n1 > 0, np.exp(mean1), np.nan),
        baseline_rate=np.where(n2 > 0, np.exp(mean2), np.nan),
        ratio=ratio,
        p_value=p_value,
        enough=enough,
        raised=raised,
        cleared=cleared,
    )


class Worsening(RuleUnit):
    rule = Rule.WORSENING
    table = WorseningConfig
    title = "Twitching becoming more frequent"
    toml = """\
[worsening]
# Advisory: the typical rate of a site's twitching days (twitches per minute of observed rest,
# compared on a log scale) in the last 14 days is clearly above the 8 weeks before. A pooled
# t-test on those days' log rates, one-sided, lets the site's own day-to-day spread set the
# bar (counts vary far more than Poisson; a lognormal CV of 0.3-0.8 is typical).
recent_days = 14
baseline_days = 56
# 0.1 % one-sided, because the test runs every day: bench/advice.py measures the resulting
# false alarms per person over 60 days of steady twitching. And a rise of >= 1.5x: a trivial
# rise must not count however steady it is.
alpha = 0.001
min_rate_ratio = 1.5
# Enough days on both sides, else NO DATA (never a clear): >= 7 observed days and 3 twitching
# days in the last 14, >= 28 observed and 10 twitching days in the 8 weeks before. Four weeks
# of baseline, because a site's spread is only known after weeks (two good or bad weeks at
# the start read as a trend), and "already twitching": the onset of twitching at a quiet
# site is not a rise of its rate; persistence and spread see it.
min_recent_observed_days = 7
min_baseline_observed_days = 28
min_recent_active_days = 3
min_baseline_active_days = 10
# Clear (hysteresis): the rise has faded, to <= 1.2x or no longer clear even at 20 %.
clear_max_rate_ratio = 1.2
clear_alpha = 0.2
# The next day's evaluation must confirm it before it fires (1 day).
for_s = 86400
"""

    def findings(self, facts: Facts, context: ContextFinder) -> list[Finding]:
        """One finding per site of the history."""
        cfg: WorseningConfig = facts.config.worsening
        test = rise_test(facts.twitches, facts.rest_s, facts.observed, facts.active, cfg)
        findings = []
        for i, (site, verdict) in enumerate(zip(facts.sites, test.verdicts(), strict=True)):
            evidence: dict[str, Any] = {
                "site": site,
                "recent_days": cfg.recent_days,
                "baseline_days": cfg.baseline_days,
                "recent": _side(test, i, recent=True),
                "baseline": _side(test, i, recent=False),
                "rate_ratio": round(float(test.ratio[i]), 3),
                "p_value": float(f"{test.p_value[i]:.3g}"),  # for a doctor; never in words
                "min_rate_ratio": cfg.min_rate_ratio,
                "min_days": [
                    cfg.min_recent_observed_days,
                    cfg.min_recent_active_days,
                    cfg.min_baseline_observed_days,
                    cfg.min_baseline_active_days,
                ],
            }
            if verdict is not Verdict.CLEAR:
                evidence.update(silence(facts, [i]))
            info = split_site(site)[1] in facts.config.persistence.info_places
            severity = Severity.INFO if info else Severity.ADVISORY
            findings.append(
                self.finding(site, verdict, severity, evidence, context.for_sites(np.array([i])))
            )
        return findings

    def covers(self, scope: str, evidence: Mapping[str, Any]) -> frozenset[str]:
        region = region_of(scope)
        return frozenset() if region is None else frozenset({region.value})

    def describe(self, verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
        site = site_name(ev["site"])
        recent, baseline = ev["recent"], ev["baseline"]
        weeks = period(ev["recent_days"])
        before = f"the {ev['baseline_days'] // 7} weeks before"
        compared = (
            f"typically {rate(recent['rate_per_min'])} per minute of rest on the "
            f"{days(recent['active_days'])} it twitched in {weeks}, against "
            f"{rate(baseline['rate_per_min'])} on {days(baseline['active_days'])} in {before}"
        )
        match verdict:
            case Verdict.RAISE:
                return (
                    f"Twitching at the {site} has become more frequent: "
                    f"{times_as_many(ev['rate_ratio'])} per minute of rest as in {before} "
                    f"({compared}). A rise this large and this steady is more than the "
                    "site's usual ups and downs."
                )
            case Verdict.CLEAR:
                return f"Twitching at the {site} is no longer becoming more frequent ({compared})."
            case Verdict.NO_DATA:
                need_obs, need_active, base_obs, base_active = ev["min_days"]
                return (
                    f"Not enough measured days at the {site} to compare {weeks} with {before} "
                    f"(each needs days with enough rest: {need_obs} with {need_active} twitching "
                    f"days, and {base_obs} with {base_active} before)."
                )
        return f"Twitching at the {site}: {compared}."


def _side(test: RiseTest, i: int, *, recent: bool) -> dict[str, Any]:
    observed = test.recent_observed if recent else test.baseline_observed
    active = test.recent_active if recent else test.baseline_active
    typical = test.recent_rate if recent else test.baseline_rate
    return {
        "observed_days": int(observed[i]),
        "active_days": int(active[i]),
        "rate_per_min": None if np.isnan(typical[i]) else round(float(typical[i]), 3),
    }


RULE = Worsening()
