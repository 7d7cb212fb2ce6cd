"""Advice a careful doctor would sign: the scenario table, and the worsening rule's false alarms and power.

Part 1 replays every story of support/advice_table.py (the table of issue 12, then the benign
and red-flag stories) through the server's own evaluation steps and prints what the person is
told, against what they should be told.

Part 2 measures the worsening rule as it runs: its test (``server.rules.worsening.rise_test``,
vectorised over people) every day, each person's alert taken through the real lifecycle
(``server.alerts.advance``: pending, then firing once the next day confirms). The people are
simulated with realistic spread, seeded:

- a typical rate on twitching days, log-uniform in 0.3-5 per minute of rest; day-to-day spread
  lognormal with a CV drawn in 0.3-0.8; a share of twitching days drawn in 40-100 % (the other
  days twitch at 0.01/min, below the activity threshold); 3-9 h of rest a day; each person
  leaves the sensor off on a share of days drawn in 0-30 %;
- false alarms: steady people, no trend. Counted over the first 60 days of a new person (the
  test starts once its minimum days are in) and over 60 days in steady state (days 70-129, a
  full baseline behind every test); the goal is <= 2 % of people alarmed per 60 days;
- power: steady for 70 days, then every twitching day's rate x2 (or x4), sustained. Counted as
  firing within those 14 days (goal >= 80 % for x2, >= 99 % for x4), and by the next day's
  confirmation after them;
- the information limit: what a test that knew each person's true typical rate and spread
  would detect with one look at day 14, at the same per-look level. No real test can beat it.

    .venv/bin/python bench/advice.py [--people 1000] [--seed 12] [--skip-table] [--trade-off]

``--trade-off`` prints the price of power: false alarms and power for looser per-day levels and
without the next day's confirmation, over three seeds (what a looser rule would cost).
"""

from __future__ import annotations

import twitchwatch.one_core  # noqa: F401  (one BLAS thread, as the twitchwatch command runs)

# isort: split

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Row, machine, print_table  # noqa: E402
from server.alerts import advance  # noqa: E402
from server.model import AlertRecord, Finding, Verdict  # noqa: E402
from server.rules import RuleConfig, load_rule_config  # noqa: E402
from server.rules.worsening import rise_test  # noqa: E402
from support.advice_table import ROWS, check, told  # noqa: E402
from support.histories import replay  # noqa: E402
from twitchwatch.contract import AlertStatus, Rule, Severity  # noqa: E402

T0 = datetime(2026, 1, 5, 23, 59, 59, tzinfo=UTC)  # the end of day 0; a day's end after it
QUIET_RATE_PER_MIN = 0.01
STEADY_FROM, WINDOW_DAYS, RISE_DAYS = 70, 60, 14
FA_GOAL, POWER_GOALS = 0.02, {2.0: 0.80, 4.0: 0.99}


@dataclass(frozen=True)
class People:
    """Simulated days of n people: (n, n_days) arrays, and each person's parameters."""

    twitches: np.ndarray
    rest_s: np.ndarray
    observed: np.ndarray
    active: np.ndarray
    twitching: np.ndarray  # (n, n_days) bool: a twitching day (the truth, not the threshold)
    sd_log: np.ndarray  # (n,) sd of the log daily factor


def simulate(
    rng: np.random.Generator,
    n: int,
    n_days: int,
    config: RuleConfig,
    rise_from: int | None = None,
    factor: float = 1.0,
) -> People:
    """People as the module docstring draws them; twitching days x ``factor`` from ``rise_from``."""
    cv = rng.uniform(0.3, 0.8, n)
    sd_log = np.sqrt(np.log1p(cv**2))
    share_twitching = rng.uniform(0.4, 1.0, n)
    typical = np.exp(rng.uniform(np.log(0.3), np.log(5.0), n))
    unworn = rng.uniform(0.0, 0.3, n)
    rest_s = rng.uniform(3 * 3600, 9 * 3600, (n, n_days))
    worn = rng.random((n, n_days)) >= unworn[:, None]
    twitching = rng.random((n, n_days)) < share_twitching[:, None]
    spread = rng.lognormal(-(sd_log[:, None] ** 2) / 2, sd_log[:, None], (n, n_days))
    rate = np.where(twitching, typical[:, None] * spread, QUIET_RATE_PER_MIN)
    if rise_from is not None:
        rate[:, rise_from:] = np.where(
            twitching[:, rise_from:], rate[:, rise_from:] * factor, rate[:, rise_from:]
        )
    rest_s = np.where(worn, rest_s, 0.0)
    twitches = rng.poisson(rate * rest_s / 60.0)
    obs = config.observation
    observed = rest_s >= obs.min_rest_s_per_day
    per_min = np.divide(twitches * 60.0, rest_s, out=np.zeros(rest_s.shape), where=observed)
    active = observed & (per_min >= obs.active_rate_per_min)
    return People(twitches, rest_s, observed, active, twitching, sd_log)


def first_firing(people: People, days: range, config: RuleConfig) -> np.ndarray:
    """The day each person's worsening alert first fires (-1: never), evaluating ``days``.

    Each day: the rule's test on everything up to that day (its last ``history_days``), then
    each person's alert through the real lifecycle with a finding of that verdict.
    """
    n = people.twitches.shape[0]
    fired = np.full(n, -1)
    records: list[AlertRecord | None] = [None] * n
    for day in days:
        start = max(day + 1 - config.history_days, 0)
        part = slice(start, day + 1)
        test = rise_test(
            people.twitches[:, part],
            people.rest_s[:, part],
            people.observed[:, part],
            people.active[:, part],
            config.worsening,
        )
        now = T0 + timedelta(days=day)
        for i, verdict in enumerate(test.verdicts()):
            if fired[i] >= 0 or (verdict is not Verdict.RAISE and records[i] is None):
                continue
            finding = Finding(Rule.WORSENING, "left_calf", verdict, Severity.ADVISORY, "")
            records[i], _ = advance("bench", records[i], finding, now, config)
            record = records[i]
            if record is not None and record.status is AlertStatus.FIRING:
                fired[i] = day
    return fired


def information_limit(people: People, factor: float, alpha: float, rise_from: int) -> float:
    """Power of one look at day 14 by a test knowing each person's typical rate and spread."""
    from scipy.stats import norm

    window = slice(rise_from, rise_from + RISE_DAYS)
    n_days = (people.twitching[:, window] & people.observed[:, window]).sum(axis=1)
    z = np.log(factor) / people.sd_log * np.sqrt(n_days)
    return float(norm.sf(norm.isf(alpha) - z).mean())


def table(config: RuleConfig) -> list[Row]:
    print("\nWhat each person is told (support/advice_table.py), against what they should be:")
    rows = []
    for row in ROWS:
        problems = check(row, config)
        people = row.build()
        first = replay(people[0], config)
        said = [
            f"{e.alert.severity.value} {e.alert.rule.value}/{e.alert.scope} {e.transition.value}"
            f" day {d}"
            for d, e in told(first)
        ]
        shown = "; ".join(said[:4]) + (f"; ... ({len(said)} in all)" if len(said) > 4 else "")
        mark = "ok" if not problems else "PROBLEM"
        source = "issue" if row.issue else "story"
        print(f"\n[{mark}] {row.name} ({source}): {row.lived}")
        print(f"    should: {', '.join(t.describe() for t in row.told) or 'nothing else'}", end="")
        print(f"; never {', '.join(r.value for r in row.never)}" if row.never else "")
        print(f"    told ({people[0].user}{' and others' if len(people) > 1 else ''}): "
              f"{shown or 'nothing'}")  # fmt: skip
        for problem in problems:
            print(f"    PROBLEM: {problem}")
        rows.append(Row(f"table: {row.name}", "holds" if not problems else "breaks", "holds",
                        not problems))  # fmt: skip
    return rows


def worsening(config: RuleConfig, n: int, seed: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    rows = []
    started = time.perf_counter()
    steady = simulate(rng, n, STEADY_FROM + WINDOW_DAYS, config)
    new_person = first_firing(steady, range(0, WINDOW_DAYS), config)
    in_steady_state = first_firing(steady, range(STEADY_FROM, STEADY_FROM + WINDOW_DAYS), config)
    for label, fired in (("first 60 days", new_person), ("60 days, steady state", in_steady_state)):
        rate = float((fired >= 0).mean())
        rows.append(
            Row(
                f"false alarms per person, {label}",
                f"{rate:.1%} ({int((fired >= 0).sum())}/{n})",
                f"<= {FA_GOAL:.0%}",
                rate <= FA_GOAL,
            )
        )
    for factor, goal in POWER_GOALS.items():
        rising = simulate(rng, n, STEADY_FROM + RISE_DAYS + 1, config, STEADY_FROM, factor)
        fired = first_firing(rising, range(STEADY_FROM, STEADY_FROM + RISE_DAYS + 1), config)
        within = float(((fired >= 0) & (fired < STEADY_FROM + RISE_DAYS)).mean())
        confirmed = float((fired >= 0).mean())
        limit = information_limit(rising, factor, config.worsening.alpha, STEADY_FROM)
        name = f"power, x{factor:g} sustained 14 days"
        rows.append(
            Row(f"{name}: fired within them", f"{within:.1%}", f">= {goal:.0%}", within >= goal)
        )
        rows.append(Row(f"{name}: by the next day", f"{confirmed:.1%}"))
        rows.append(Row(f"{name}: information limit", f"{limit:.1%}"))
    rows.append(Row("worsening simulation time", f"{time.perf_counter() - started:.1f} s"))
    return rows


TRADE_OFF = ((0.001, True), (0.002, True), (0.003, True), (0.005, True), (0.001, False),
             (0.002, False))  # fmt: skip


def trade_off(config: RuleConfig, n: int, seeds: tuple[int, ...]) -> None:
    """False alarms (steady state) and power for other levels, worst and best over ``seeds``."""
    import dataclasses

    print(f"\nThe price of power ({n} people, seeds {', '.join(map(str, seeds))}; min-max):")
    print(
        f"{'level':>7} {'confirmed':>9}  {'false alarms':>14}  {'power x2':>13}  {'power x4':>13}"
    )
    for alpha, confirmed in TRADE_OFF:
        w = dataclasses.replace(
            config.worsening, alpha=alpha, for_s=config.worsening.for_s if confirmed else 0.0
        )
        cfg = dataclasses.replace(config, worsening=w)
        runs = [worsening(cfg, n, seed) for seed in seeds]
        # rows: FA first 60 d, FA steady, then per factor: within, next day, limit
        cols = [[float(r[i].value.split("%")[0]) for r in runs] for i in (1, 2, 5)]
        print(f"{alpha:>7g} {'yes' if confirmed else 'no':>9}  "
              + "  ".join(f"{min(c):5.1f}-{max(c):5.1f} %" for c in cols))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000, help="simulated people per run")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--skip-table", action="store_true", help="only the worsening figures")
    parser.add_argument(
        "--trade-off", action="store_true", help="also false alarms and power at other levels"
    )
    args = parser.parse_args()
    config = load_rule_config(None)
    print(machine(f"numpy {np.__version__}"))
    rows = [] if args.skip_table else table(config)
    print(f"\nWorsening: {args.people} simulated people per run, seed {args.seed} ...")
    rows += worsening(config, args.people, args.seed)
    print_table(rows, value_width=22)
    if args.trade_off:
        trade_off(config, args.people, (args.seed, args.seed + 1, args.seed + 2))


if __name__ == "__main__":
    main()
