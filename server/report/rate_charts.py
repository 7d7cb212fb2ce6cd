"""The report's twitch-rate charts: a heatmap of sites by day, and each site's days and weeks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from server import wording
from server.report.chart_parts import (
    category_rows,
    date_axis,
    day_centres,
    new_figure,
    no_data_background,
    panels,
    x_limits,
)
from server.report.data import ReportData
from server.report.figure_style import FONT_SIZE, NO_DATA_STYLE, OKABE_ITO, THRESHOLD_COLOR
from server.report.formats import minutes

#: A week's median is drawn from this many observed days: one or two days are not a week.
MIN_DAYS_PER_WEEK = 3


def rate_heatmap(data: ReportData) -> Figure:
    """Sites x days, colour = twitches per minute of observed rest; no-data days hatched."""
    rate = data.rate_per_min
    threshold = data.config.observation.active_rate_per_min
    fig = new_figure(1.25 + 0.32 * len(data.sites))
    ax = fig.add_subplot()
    no_data_background(ax)
    observed = rate[np.isfinite(rate)]
    vmax = max(float(observed.max()) if observed.size else 0.0, 2 * threshold)
    # A square-root scale: the activity threshold (0.2/min) and a calf at 20/min both stay legible.
    image = ax.imshow(
        np.ma.masked_invalid(rate),
        aspect="auto",
        interpolation="nearest",
        cmap=colormaps["cividis"].with_extremes(bad=(0, 0, 0, 0)),
        norm=PowerNorm(0.5, vmin=0.0, vmax=vmax),
        extent=(*x_limits(data.days), len(data.sites) - 0.5, -0.5),
    )
    _site_rows(ax, data.sites)
    date_axis(ax, data.days)
    bar = fig.colorbar(image, ax=ax, pad=0.01, fraction=0.04)
    bar.set_label("per minute of rest", fontsize=FONT_SIZE)
    bar.set_ticks(sorted({*bar.get_ticks(), threshold}))
    bar.ax.tick_params(labelsize=FONT_SIZE)
    bar.ax.axhline(threshold, color="white", linewidth=2.5)
    bar.ax.axhline(threshold, color=THRESHOLD_COLOR, linewidth=1.2, linestyle="--")
    fig.legend(
        handles=[
            _no_data_patch(data),
            Line2D(
                [], [], color=THRESHOLD_COLOR, linestyle="--", label=_threshold_label(threshold)
            ),
        ],
        loc="outside lower left",
        ncols=2,
        frameon=False,
    )
    return fig


def rate_lines(data: ReportData) -> Figure:
    """One panel per site: each observed day's rate, the weekly median, the activity threshold."""
    rate = data.rate_per_min
    threshold = data.config.observation.active_rate_per_min
    x = day_centres(data.days)
    fig = new_figure(0.9 + 1.15 * len(data.sites))
    axes = panels(fig, len(data.sites))
    for ax, site, site_rate in zip(axes, data.sites, rate, strict=True):
        for start, stop in _runs(~np.isfinite(site_rate)):
            ax.axvspan(x[start] - 0.5, x[stop - 1] + 0.5, zorder=0, **NO_DATA_STYLE)
        ok = np.isfinite(site_rate)
        ax.scatter(x[ok], site_rate[ok], s=7, color=OKABE_ITO[0], alpha=0.55, linewidths=0)
        for first, last, median in _weekly_medians(data.days, site_rate):
            ax.hlines(median, x[first] - 0.5, x[last] + 0.5, color=OKABE_ITO[5], linewidth=2)
        ax.axhline(threshold, color=THRESHOLD_COLOR, linestyle="--", linewidth=0.9)
        top = max(np.nanmax(site_rate) * 1.1 if ok.any() else 0.0, 3 * threshold)
        ax.set_ylim(-0.04 * top, top)  # below 0: a day at zero shows above the axis line
        ax.set_title(wording.site_name(site), loc="left", fontsize=FONT_SIZE, pad=2)
        date_axis(ax, data.days)
    fig.supylabel("twitches per minute of rest", fontsize=FONT_SIZE)
    fig.legend(
        handles=[
            Line2D([], [], marker="o", linestyle="", color=OKABE_ITO[0], markersize=3, label="day"),
            Line2D(
                [],
                [],
                color=OKABE_ITO[5],
                linewidth=2,
                label=f"weekly median (weeks with {MIN_DAYS_PER_WEEK}+ days of data)",
            ),
            Line2D(
                [], [], color=THRESHOLD_COLOR, linestyle="--", label=_threshold_label(threshold)
            ),
            _no_data_patch(data),
        ],
        loc="outside lower left",
        ncols=2,
        frameon=False,
    )
    return fig


def _site_rows(ax: Axes, sites: Sequence[str]) -> None:
    category_rows(ax, [wording.site_name(s) for s in sites])


def _no_data_patch(data: ReportData) -> Patch:
    return Patch(**NO_DATA_STYLE, label=f"no data: under {minutes(data)} min of rest that day")


def _threshold_label(threshold: float) -> str:
    return f"activity threshold ({threshold:g} per minute)"


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open (start, stop) index ranges where a 1-D boolean mask is True."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def _weekly_medians(days: Sequence[date], rate: np.ndarray) -> list[tuple[int, int, float]]:
    """(first, last day index, median rate) of each Monday-to-Sunday week with observed days."""
    mondays = np.array([(d - timedelta(days=d.weekday())).toordinal() for d in days])
    out = []
    for monday in np.unique(mondays):
        index = np.flatnonzero(mondays == monday)
        week = rate[index]
        if np.isfinite(week).sum() >= MIN_DAYS_PER_WEEK:
            out.append((int(index[0]), int(index[-1]), float(np.nanmedian(week))))
    return out
