"""The report's sections of what the sensors measured: twitch rates, regions, cramps, time worn."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import numpy as np

from server import wording
from server.report.data import RegionStatus, ReportData
from server.report.formats import minutes, num, region_label
from server.report.markup import NO_SENSOR_DATA, figure, section, table
from twitchwatch.contract import Region, limb_group_of


def rates_section(data: ReportData, figures: Mapping[str, bytes]) -> str:
    """Twitches per minute of observed rest, per site and day."""
    if not data.sites:
        return section("rates", "Twitch rate per site", NO_SENSOR_DATA)
    threshold = data.config.observation.active_rate_per_min
    return section(
        "rates",
        "Twitch rate per site",
        "<p>Twitches per minute of observed rest, per site and day. Hatched grey days had "
        f"less than {minutes(data)} minutes of observed rest: they are <em>no data</em>, not "
        f"zero. A day counts as twitching from {threshold:g} twitches per minute (dashed "
        "line).</p>",
        figure(figures, "rates_heatmap.png", "Twitch rate heatmap, sites by day"),
        figure(
            figures,
            "rates_by_site.png",
            "Daily twitch rate per site with the weekly median and the activity threshold",
        ),
    )


def regions_section(data: ReportData, figures: Mapping[str, bytes]) -> str:
    """Body regions by day and the limb groups with established twitching."""
    if not data.sites:
        return section("regions", "Body regions and limb groups", NO_SENSOR_DATA)
    est = data.config.established
    ignored = ", ".join(est.ignore_places)
    rows = []
    for i, region in enumerate(Region):
        established = np.flatnonzero(data.regions[i] == RegionStatus.ESTABLISHED)
        rows.append(
            [
                escape(region_label(region)),
                num(int(data.region_observed[i].sum())),
                num(int(data.region_active[i].sum())),
                escape(data.days[established[0]].isoformat()) if established.size else "–",
            ]
        )
    groups = sorted(
        {g for i in np.flatnonzero(data.established[:, -1]) if (g := limb_group_of(data.sites[i]))}
    )
    group_text = "; ".join(wording.limb_group_name(g) for g in groups) or "none"
    return section(
        "regions",
        "Body regions and limb groups",
        "<p>Regions as in the Awaji criteria. A region is <em>established</em> on a day when "
        f"one of its sites twitched on at least {est.min_active_days} days and on at least "
        f"{est.min_active_fraction:.0%} of its observed days in the {est.window_days} days up "
        f"to it, over at least {est.min_span_days} days"
        + (
            f"; twitching of the {escape(ignored)} is shown but does not make its region "
            "established"
            if ignored
            else ""
        )
        + ".</p>",
        figure(figures, "regions.png", "Regions by day and limb groups with established twitching"),
        table(
            ["Region", "Days observed", "Days twitching", "First day established"],
            rows,
            numeric=(1, 2),
        ),
        f"<p>Limb groups with established twitching on {data.days[-1].isoformat()}: "
        f"{len(groups)} of 8 ({escape(group_text)}).</p>",
    )


def cramps_section(data: ReportData, figures: Mapping[str, bytes]) -> str:
    """Cramps per day and per site."""
    if not data.cramps.any():
        return section("cramps", "Cramps", "<p>No cramps were recorded in this period.</p>")
    rows = [
        [escape(wording.site_name(site)), num(int(c.sum())), num(int((c > 0).sum()))]
        for site, c in zip(data.sites, data.cramps, strict=True)
        if c.any()
    ]
    return section(
        "cramps",
        "Cramps",
        figure(figures, "cramps.png", "Cramps per day, by site"),
        table(["Site", "Cramps", "Days with cramps"], rows, numeric=(1, 2)),
    )


def worn_section(data: ReportData, figures: Mapping[str, bytes]) -> str:
    """Hours worn per site and day, and the windows refused for good."""
    # Windows refused for good are time the sensor measured that counts nowhere: said here.
    refused = "".join(
        f'<p class="refused">{escape(wording.refused_windows(n, reason))}</p>'
        for reason, n in data.refused
    )
    if not data.sites:
        return section("worn", "Time worn", NO_SENSOR_DATA + refused)
    return section(
        "worn",
        "Time worn",
        "<p>Hours per site and day with the sensor worn: observed rest (when twitches are "
        "counted) and activity (voluntary contraction or movement, not counted). Time without "
        f"a usable signal is not shown. A day counts for a site from {minutes(data)} minutes "
        "of observed rest.</p>",
        figure(figures, "worn.png", "Hours of observed rest and activity per site and day"),
        refused,
    )
