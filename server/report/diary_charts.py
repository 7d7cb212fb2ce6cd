"""The report's charts of the days besides twitching: cramps, what the person reported, time worn."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from server import wording
from server.report.chart_parts import category_rows, date_axis, day_centres, new_figure, panels
from server.report.data import ReportData
from server.report.figure_style import BAR_WIDTH, FONT_SIZE, OKABE_ITO, THRESHOLD_COLOR
from server.report.formats import minutes
from twitchwatch.contract import CONTEXT_REPORTS, ReportKind


def cramp_bars(data: ReportData) -> Figure:
    """Cramps per day, stacked by site."""
    x = day_centres(data.days)
    fig = new_figure(2.4)
    ax = fig.add_subplot()
    bottom = np.zeros(data.n_days)
    handles = []
    for k, (site, counts) in enumerate(zip(data.sites, data.cramps, strict=True)):
        if not counts.any():
            continue
        color = OKABE_ITO[k % len(OKABE_ITO)]
        _bars(ax, x, counts, bottom, color)
        bottom += counts
        handles.append(Patch(color=color, label=wording.site_name(site)))
    ax.set_ylabel("cramps per day", fontsize=FONT_SIZE)
    ax.set_ylim(0, max(bottom.max(), 1) * 1.15)
    ax.yaxis.get_major_locator().set_params(integer=True)
    date_axis(ax, data.days)
    fig.legend(handles=handles, loc="outside lower left", ncols=4, frameon=False)
    return fig


def report_timeline(data: ReportData) -> Figure:
    """What the person reported, one row per kind (symptoms above context), by time."""
    kinds = [k for k in ReportKind if any(r.kind is k for r in data.reports)]
    fig = new_figure(0.9 + 0.3 * len(kinds))
    ax = fig.add_subplot()
    for row, kind in enumerate(kinds):
        # The person's wall-clock time, on the same axis as their days.
        local = [r.t.astimezone(data.zone).replace(tzinfo=None) for r in data.reports]
        times = date2num([t for t, r in zip(local, data.reports, strict=True) if r.kind is kind])
        style = _CONTEXT_STYLE if kind in CONTEXT_REPORTS else _SYMPTOM_STYLE
        ax.scatter(times, np.full(len(times), row), zorder=2, **style)
    category_rows(ax, [k.value for k in kinds])
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    date_axis(ax, data.days)
    shown = {kind in CONTEXT_REPORTS for kind in kinds}
    fig.legend(
        handles=[
            Line2D([], [], linestyle="", label=label, marker=style["marker"], color=style["color"])
            for label, style, context in (
                ("symptom", _SYMPTOM_STYLE, False),
                ("context", _CONTEXT_STYLE, True),
            )
            if context in shown
        ],
        loc="outside lower left",
        ncols=2,
        frameon=False,
    )
    return fig


_SYMPTOM_STYLE = {"marker": "D", "s": 26, "color": OKABE_ITO[5]}
_CONTEXT_STYLE = {"marker": "o", "s": 18, "color": OKABE_ITO[0]}


def worn_bars(data: ReportData) -> Figure:
    """One panel per site: hours of observed rest and of activity each day (gaps not counted)."""
    min_rest_h = data.config.observation.min_rest_s_per_day / 3600
    x = day_centres(data.days)
    fig = new_figure(0.9 + 1.0 * len(data.sites))
    axes = panels(fig, len(data.sites))
    top = float((data.rest_s + data.active_s).max(initial=0.0)) / 3600
    for ax, site, rest_s, active_s in zip(
        axes, data.sites, data.rest_s, data.active_s, strict=True
    ):
        _bars(ax, x, rest_s / 3600, 0.0, OKABE_ITO[0])
        _bars(ax, x, active_s / 3600, rest_s / 3600, OKABE_ITO[1])
        ax.axhline(min_rest_h, color=THRESHOLD_COLOR, linestyle="--", linewidth=0.9)
        ax.set_ylim(0, max(top * 1.1, 2 * min_rest_h))
        ax.set_title(wording.site_name(site), loc="left", fontsize=FONT_SIZE, pad=2)
        date_axis(ax, data.days)
    fig.supylabel("hours per day", fontsize=FONT_SIZE)
    fig.legend(
        handles=[
            Patch(color=OKABE_ITO[0], label="observed rest"),
            Patch(color=OKABE_ITO[1], label="activity (not counted)"),
            Line2D(
                [],
                [],
                color=THRESHOLD_COLOR,
                linestyle="--",
                label=f"a day counts from {minutes(data)} min of rest",
            ),
        ],
        loc="outside lower left",
        ncols=3,
        frameon=False,
    )
    return fig


def _bars(
    ax: Axes, x: np.ndarray, height: np.ndarray, bottom: np.ndarray | float, color: str
) -> None:
    """Day bars as one PolyCollection: a Rectangle artist per bar (ax.bar) draws 10x slower."""
    keep = height > 0
    left, right = x[keep] - BAR_WIDTH / 2, x[keep] + BAR_WIDTH / 2
    low = np.broadcast_to(bottom, x.shape)[keep]
    high = low + height[keep]
    corners = np.stack(
        [
            np.stack(pair, axis=-1)
            for pair in ((left, low), (left, high), (right, high), (right, low))
        ],
        axis=1,
    )
    ax.add_collection(PolyCollection(corners, facecolors=color, linewidths=0))
