"""The report's figures: matplotlib's object API (no pyplot, no GUI), one Figure per chart.

Each chart function builds a :class:`~matplotlib.figure.Figure` (tests inspect its artists);
:func:`render_figures` turns them into PNG bytes.

Deterministic: a fixed size and dpi, and no software or time stamp in the PNG, so the same data
gives the same bytes. Colours are colour-blind safe: cividis for quantities, the Okabe-Ito
palette for categories. "No data" is always the same light grey hatching, never a colour of
the scale, so an unworn day cannot be read as a quiet one.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import ListedColormap, PowerNorm
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DayLocator, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from server import wording
from server.report.data import RegionStatus, ReportData
from twitchwatch.contract import CONTEXT_REPORTS, Region, ReportKind

DPI = 150
WIDTH_IN = 7.2  # the text width of an A4 page with 15 mm margins
FONT_SIZE = 8
#: Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",
)
NO_DATA_STYLE = {"facecolor": "#ececec", "edgecolor": "#b4b4b4", "hatch": "////", "linewidth": 0}
THRESHOLD_COLOR = "#444444"
BAR_WIDTH = 0.8  # of a day
#: A week's median is drawn from this many observed days: one or two days are not a week.
MIN_DAYS_PER_WEEK = 3


def render_figures(data: ReportData) -> dict[str, bytes]:
    """Every figure the data allows as PNG, by file name, in page order.

    A chart without anything to show is left out: no sites (only reports), no cramps, no reports.
    """
    figures: dict[str, Figure] = {}
    if data.sites:
        figures["rates_heatmap.png"] = rate_heatmap(data)
        figures["rates_by_site.png"] = rate_lines(data)
        figures["regions.png"] = region_strip(data)
    if data.cramps.any():
        figures["cramps.png"] = cramp_bars(data)
    if data.reports:
        figures["symptoms.png"] = report_timeline(data)
    if data.sites:
        figures["worn.png"] = worn_bars(data)
    return {name: to_png(fig) for name, fig in figures.items()}


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes at :data:`DPI`, with no software or time stamp in them."""
    with io.BytesIO() as buffer:
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()


# --- the figures ---------------------------------------------------------------------------------


def rate_heatmap(data: ReportData) -> Figure:
    """Sites x days, colour = twitches per minute of observed rest; no-data days hatched."""
    rate = data.rate_per_min
    threshold = data.config.observation.active_rate_per_min
    fig = _figure(1.25 + 0.32 * len(data.sites))
    ax = fig.add_subplot()
    _no_data_background(ax)
    observed = rate[np.isfinite(rate)]
    vmax = max(float(observed.max()) if observed.size else 0.0, 2 * threshold)
    # A square-root scale: the activity threshold (0.2/min) and a calf at 20/min both stay legible.
    image = ax.imshow(
        np.ma.masked_invalid(rate),
        aspect="auto",
        interpolation="nearest",
        cmap=colormaps["cividis"].with_extremes(bad=(0, 0, 0, 0)),
        norm=PowerNorm(0.5, vmin=0.0, vmax=vmax),
        extent=(*_x_limits(data.days), len(data.sites) - 0.5, -0.5),
    )
    _site_rows(ax, data.sites)
    _date_axis(ax, data.days)
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
    fig = _figure(0.9 + 1.15 * len(data.sites))
    axes = _panels(fig, len(data.sites))
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
        _date_axis(ax, data.days)
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


#: Region states, lightest to darkest; NOT_OBSERVED is left transparent over the hatching.
_REGION_COLORS = {
    RegionStatus.STILL: "#f2eecb",
    RegionStatus.ACTIVE: colormaps["cividis"](0.6),
    RegionStatus.ESTABLISHED: colormaps["cividis"](0.05),
}
_REGION_LABELS = {
    RegionStatus.STILL: "observed, no twitching",
    RegionStatus.ACTIVE: "twitching that day",
    RegionStatus.ESTABLISHED: "established twitching",
}


def region_strip(data: ReportData) -> Figure:
    """Regions x days (not observed / still / twitching / established), limb groups beneath."""
    widespread = data.config.spread.widespread_limb_groups
    fig = _figure(2.9)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    _no_data_background(top)
    status = np.ma.masked_equal(data.regions, RegionStatus.NOT_OBSERVED)
    colors = ListedColormap([_REGION_COLORS[s] for s in sorted(_REGION_COLORS)])
    top.imshow(
        status,
        aspect="auto",
        interpolation="nearest",
        cmap=colors.with_extremes(bad=(0, 0, 0, 0)),
        vmin=RegionStatus.STILL - 0.5,
        vmax=RegionStatus.ESTABLISHED + 0.5,
        extent=(*_x_limits(data.days), len(Region) - 0.5, -0.5),
    )
    _category_rows(top, [region_label(r) for r in Region])
    x = day_centres(data.days)
    bottom.step(x, data.limb_groups, where="mid", color=OKABE_ITO[0], linewidth=1.5)
    bottom.axhline(widespread, color=THRESHOLD_COLOR, linestyle="--", linewidth=0.9)
    bottom.set_ylim(-0.3, 8.3)
    bottom.set_yticks(range(0, 9, 2))
    bottom.set_title(
        "Limb groups (of 8) with established twitching", loc="left", fontsize=FONT_SIZE, pad=2
    )
    _date_axis(bottom, data.days)
    fig.legend(
        handles=[
            *(Patch(color=_REGION_COLORS[s], label=_REGION_LABELS[s]) for s in _REGION_COLORS),
            Patch(**NO_DATA_STYLE, label="not observed"),
            Line2D(
                [],
                [],
                color=THRESHOLD_COLOR,
                linestyle="--",
                label=f"widespread: {widespread} of 8 limb groups",
            ),
        ],
        loc="outside lower left",
        ncols=3,
        frameon=False,
    )
    return fig


def cramp_bars(data: ReportData) -> Figure:
    """Cramps per day, stacked by site."""
    x = day_centres(data.days)
    fig = _figure(2.4)
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
    _date_axis(ax, data.days)
    fig.legend(handles=handles, loc="outside lower left", ncols=4, frameon=False)
    return fig


def report_timeline(data: ReportData) -> Figure:
    """What the person reported, one row per kind (symptoms above context), by time."""
    kinds = [k for k in ReportKind if any(r.kind is k for r in data.reports)]
    fig = _figure(0.9 + 0.3 * len(kinds))
    ax = fig.add_subplot()
    for row, kind in enumerate(kinds):
        # The person's wall-clock time, on the same axis as their days.
        local = [r.t.astimezone(data.zone).replace(tzinfo=None) for r in data.reports]
        times = date2num([t for t, r in zip(local, data.reports, strict=True) if r.kind is kind])
        style = _CONTEXT_STYLE if kind in CONTEXT_REPORTS else _SYMPTOM_STYLE
        ax.scatter(times, np.full(len(times), row), zorder=2, **style)
    _category_rows(ax, [k.value for k in kinds])
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    _date_axis(ax, data.days)
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
    fig = _figure(0.9 + 1.0 * len(data.sites))
    axes = _panels(fig, len(data.sites))
    top = float((data.rest_s + data.active_s).max(initial=0.0)) / 3600
    for ax, site, rest_s, active_s in zip(
        axes, data.sites, data.rest_s, data.active_s, strict=True
    ):
        _bars(ax, x, rest_s / 3600, 0.0, OKABE_ITO[0])
        _bars(ax, x, active_s / 3600, rest_s / 3600, OKABE_ITO[1])
        ax.axhline(min_rest_h, color=THRESHOLD_COLOR, linestyle="--", linewidth=0.9)
        ax.set_ylim(0, max(top * 1.1, 2 * min_rest_h))
        ax.set_title(wording.site_name(site), loc="left", fontsize=FONT_SIZE, pad=2)
        _date_axis(ax, data.days)
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
                label=f"a day counts from {_minutes(data)} min of rest",
            ),
        ],
        loc="outside lower left",
        ncols=3,
        frameon=False,
    )
    return fig


# --- shared pieces -------------------------------------------------------------------------------


def region_label(region: Region) -> str:
    """``"Lumbosacral: lower back and legs"``: the criteria's name, then lay words."""
    return f"{region.value.capitalize()}: {wording.region_name(region).removeprefix('the ')}"


def _figure(height_in: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
    fig.set_layout_engine("constrained", h_pad=0.04, w_pad=0.04)
    return fig


def _panels(fig: Figure, n: int) -> list[Axes]:
    """``n`` >= 1 stacked panels sharing the date axis."""
    axes = list(fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0])
    for ax in axes:
        ax.tick_params(labelsize=FONT_SIZE)
    return axes


def day_centres(days: Sequence[date]) -> np.ndarray:
    """Where each day is drawn: noon, so that its cell spans its own midnight to the next and a
    report at 20:00 falls inside the day it was made on."""
    return date2num(days) + 0.5


def _x_limits(days: Sequence[date]) -> tuple[float, float]:
    return float(date2num(days[0])), float(date2num(days[-1])) + 1.0


#: Tick labels that name their month ("15 Sep", "01 Oct"), the year once at the axis' end.
_DATE_FORMATS = ["%Y", "%b %Y", "%d %b", "%H:%M", "%H:%M", "%S.%f"]
_OFFSET_FORMATS = ["", "", "%Y", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d"]


def _date_axis(ax: Axes, days: Sequence[date]) -> None:
    # A few days would get hourly ticks: whole days are what every chart here counts in.
    locator = DayLocator() if len(days) < 4 else AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(
        ConciseDateFormatter(
            locator,
            formats=_DATE_FORMATS,
            zero_formats=_DATE_FORMATS,
            offset_formats=_OFFSET_FORMATS,
        )
    )
    ax.set_xlim(*_x_limits(days))
    ax.tick_params(labelsize=FONT_SIZE)


def _site_rows(ax: Axes, sites: Sequence[str]) -> None:
    _category_rows(ax, [wording.site_name(s) for s in sites])


def _category_rows(ax: Axes, labels: Sequence[str]) -> None:
    """One labelled row per category, top to bottom, separated by thin white lines."""
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.set_yticks(np.arange(len(labels) + 1) - 0.5, minor=True)
    ax.tick_params(axis="y", which="minor", length=0)
    ax.grid(axis="y", which="minor", color="white", linewidth=1.5)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.tick_params(labelsize=FONT_SIZE)


def _no_data_background(ax: Axes) -> None:
    """Hatching behind an image whose masked cells are transparent: they read as "no data"."""
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, zorder=0, **NO_DATA_STYLE))


def _no_data_patch(data: ReportData) -> Patch:
    return Patch(**NO_DATA_STYLE, label=f"no data: under {_minutes(data)} min of rest that day")


def _minutes(data: ReportData) -> str:
    return f"{data.config.observation.min_rest_s_per_day / 60:g}"


def _threshold_label(threshold: float) -> str:
    return f"activity threshold ({threshold:g} per minute)"


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
