"""What every rule reads: one user's days as (sites x days) arrays, and per-site activity flags.

The arrays are built once per evaluation; each rule is then a few vectorised reductions over
trailing windows of them. Days are the person's own (the zone of their profile, UTC without
one); column ``-1`` is the evaluation day (the local day of ``as_of``, partial days included: a
day counts as soon as it holds enough observed rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from server.localdays import local_day
from server.model import History
from twitchwatch.contract import Region, Report, limb_group_of, region_of, split_site

if TYPE_CHECKING:
    from server.rules.config import RuleConfig


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Per-site counts over the last ``days`` days. Day indices are grid columns, -1 for none."""

    days: int
    observed: np.ndarray  # (n_sites,) observed days
    active: np.ndarray  # (n_sites,) active (twitching) days
    first_active: np.ndarray  # (n_sites,) column of the first active day in the window
    last_active: np.ndarray  # (n_sites,) column of the last one

    @property
    def fraction(self) -> np.ndarray:
        """Active days / observed days, 0 without observed days."""
        return np.divide(
            self.active, self.observed, out=np.zeros(self.active.shape), where=self.observed > 0
        )

    @property
    def span_days(self) -> np.ndarray:
        """Days from the first to the last active day, both included; 0 without active days."""
        return np.where(self.active > 0, self.last_active - self.first_active + 1, 0)


@dataclass(frozen=True, slots=True)
class Facts:
    """One user's evidence at ``as_of``: arrays are (n_sites, n_days), oldest day first."""

    user: str
    as_of: datetime
    config: RuleConfig
    zone: ZoneInfo  # the person's: days, dates and times in messages follow it
    first_day: date
    sites: tuple[str, ...]
    twitches: np.ndarray  # int64
    rest_s: np.ndarray  # float64, observed rest
    active_s: np.ndarray  # float64, voluntary contraction or motion
    observed: np.ndarray  # bool: rest_s >= min_rest_s_per_day
    active: np.ndarray  # bool: observed and rate >= active_rate_per_min
    reports: tuple[Report, ...]  # as_of - history_days < t <= as_of, by time
    regions: tuple[Region | None, ...]  # per site; None outside the taxonomy
    limb_groups: tuple[str | None, ...]  # per site: "left_leg_foot", None for non-limb sites
    counted: np.ndarray  # (n_sites,) bool: may make a region involved (not an ignored place)
    quiet: np.ndarray  # (n_sites,) bool: twitching has settled ([quiet]) - positive evidence
    established: np.ndarray  # (n_sites,) bool: established twitching, counted sites only
    lingering: np.ndarray  # (n_sites,) bool: counted, twitched in the history, not quiet

    @property
    def n_days(self) -> int:
        return self.twitches.shape[1]

    def day(self, column: int) -> date:
        """The date of a grid column (negative columns count from the evaluation day)."""
        return self.first_day + timedelta(days=int(column) % self.n_days)

    def window(self, days: int, *, end: int = 0) -> WindowStats:
        """Stats over ``days`` days ending ``end`` days before the evaluation day."""
        return window_stats(self.observed, self.active, days, end=end)

    def report_day(self, report: Report) -> date:
        """The person's day a report was made on."""
        return local_day(report.t, self.zone)

    def last_observed(self, sites: np.ndarray | list[int]) -> int:
        """Grid column of the last day any of these sites was observed; -1 for none."""
        seen = self.observed[sites].any(axis=0) if len(sites) else np.zeros(self.n_days, bool)
        return int(np.flatnonzero(seen)[-1]) if seen.any() else -1

    def rates_per_min(self, site: int, days: int) -> np.ndarray:
        """The observed days' rates of one site over the last ``days`` days."""
        sl = slice(max(self.n_days - days, 0), self.n_days)
        mask = self.observed[site, sl]
        return self.twitches[site, sl][mask] / (self.rest_s[site, sl][mask] / 60.0)


def window_stats(
    observed: np.ndarray, active: np.ndarray, days: int, *, end: int = 0
) -> WindowStats:
    """Per-site stats of (n_sites, n_days) masks over ``days`` columns ending ``end`` before the last."""
    stop = observed.shape[1] - end
    start = max(stop - days, 0)
    window = active[:, start:stop]
    any_active = window.any(axis=1)
    first = np.where(any_active, start + window.argmax(axis=1), -1)
    last = np.where(any_active, stop - 1 - window[:, ::-1].argmax(axis=1), -1)
    return WindowStats(
        days=days,
        observed=observed[:, start:stop].sum(axis=1),
        active=window.sum(axis=1),
        first_active=first,
        last_active=last,
    )


def build_facts(history: History, as_of: datetime, config: RuleConfig) -> Facts:
    """Lay out the history's last ``config.history_days`` days up to ``as_of`` as arrays.

    Rows after ``as_of``'s day and reports after ``as_of`` are ignored, so a replay may hand in a
    whole history.
    """
    zone = history.zone
    last_day = local_day(as_of, zone)
    n_days = config.history_days
    first_day = last_day - timedelta(days=n_days - 1)
    rows = [d for d in history.days if first_day <= d.day <= last_day]
    sites = tuple(sorted({d.site for d in rows}))
    index = {site: i for i, site in enumerate(sites)}
    n = len(rows)
    at = (
        np.fromiter((index[d.site] for d in rows), dtype=np.intp, count=n),
        np.fromiter(((d.day - first_day).days for d in rows), dtype=np.intp, count=n),
    )
    shape = (len(sites), n_days)
    twitches, rest_s, active_s = np.zeros(shape, np.int64), np.zeros(shape), np.zeros(shape)
    # add.at: two rows for one (site, day) add up, as two windows of one day would.
    np.add.at(twitches, at, np.fromiter((d.twitches for d in rows), dtype=np.int64, count=n))
    np.add.at(rest_s, at, np.fromiter((d.rest_s for d in rows), dtype=float, count=n))
    np.add.at(active_s, at, np.fromiter((d.active_s for d in rows), dtype=float, count=n))

    obs = config.observation
    observed = rest_s >= obs.min_rest_s_per_day
    rate = np.divide(twitches * 60.0, rest_s, out=np.zeros(shape), where=observed)
    active = observed & (rate >= obs.active_rate_per_min)

    since = as_of - timedelta(days=n_days)
    reports = tuple(r for r in history.reports if since < r.t <= as_of)
    regions = tuple(region_of(s) for s in sites)
    ignored = set(config.established.ignore_places)
    counted = np.array(
        [
            r is not None and split_site(s)[1] not in ignored
            for s, r in zip(sites, regions, strict=True)
        ],
        dtype=bool,
    )
    q, est = config.quiet, config.established
    recent = window_stats(observed, active, q.window_days)
    quiet = (recent.observed >= q.min_observed_days) & (recent.fraction <= q.max_active_fraction)
    stats = window_stats(observed, active, est.window_days)
    established = (
        counted
        & ~quiet
        & (stats.active >= est.min_active_days)
        & (stats.fraction >= est.min_active_fraction)
        & (stats.span_days >= est.min_span_days)
    )
    return Facts(
        user=history.user,
        as_of=as_of,
        config=config,
        zone=zone,
        first_day=first_day,
        sites=sites,
        twitches=twitches,
        rest_s=rest_s,
        active_s=active_s,
        observed=observed,
        active=active,
        reports=reports,
        regions=regions,
        limb_groups=tuple(limb_group_of(s) for s in sites),
        counted=counted,
        quiet=quiet,
        established=established,
        # Twitched at some point of the history and not shown to have settled: a sensor taken
        # off keeps its region involved (no data never clears).
        lingering=counted & ~quiet & active.any(axis=1),
    )


def region_sites(facts: Facts, mask: np.ndarray) -> dict[Region, list[int]]:
    """Site indices under ``mask`` grouped by region, regions in contract order."""
    grouped: dict[Region, list[int]] = {}
    for region in Region:
        members = [i for i in np.flatnonzero(mask) if facts.regions[i] == region]
        if members:
            grouped[region] = [int(i) for i in members]
    return grouped


def observed_recently(facts: Facts) -> bool:
    """Some site was observed in the quiet window: without that, nothing can be cleared."""
    days = facts.config.quiet.window_days
    return bool(facts.observed[:, -days:].any())


def iso_day(facts: Facts, column: int) -> str | None:
    """A grid column as ``YYYY-MM-DD``, None for -1 (no such day)."""
    return None if column < 0 else facts.day(column).isoformat()


def silence(facts: Facts, sites: np.ndarray | list[int]) -> dict[str, object]:
    """Evidence that these sites stopped sending measurements: ``{}`` while they send.

    Once none of them was observed for ``[observation] no_data_notice_days`` days, a standing
    alert about them says so ("no measurements since…") instead of silently standing.
    """
    if len(sites) == 0:
        return {}
    days = facts.config.observation.no_data_notice_days
    last = facts.last_observed(sites)
    if last >= 0 and facts.n_days - 1 - last < days:
        return {}
    since = iso_day(facts, last) if last >= 0 else None
    return {
        "no_data_sites": [facts.sites[int(i)] for i in sites],
        "no_data_since": since,
        "no_data_days": days,
    }
