"""What every chart of the report shares: its figure, stacked panels and the date axis of days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DayLocator, date2num
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from server.report.figure_style import DPI, FONT_SIZE, NO_DATA_STYLE, WIDTH_IN


def new_figure(height_in: float) -> Figure:
    """A page-wide figure ``height_in`` inches high, laid out by the constrained engine."""
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
    fig.set_layout_engine("constrained", h_pad=0.04, w_pad=0.04)
    return fig


def panels(fig: Figure, n: int) -> list[Axes]:
    """``n`` >= 1 stacked panels sharing the date axis."""
    axes = list(fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0])
    for ax in axes:
        ax.tick_params(labelsize=FONT_SIZE)
    return axes


def day_centres(days: Sequence[date]) -> np.ndarray:
    """Where each day is drawn: noon, so that its cell spans its own midnight to the next and a
    report at 20:00 falls inside the day it was made on."""
    return date2num(days) + 0.5


def x_limits(days: Sequence[date]) -> tuple[float, float]:
    """The date axis' ends: the first day's midnight to the one after the last day."""
    return float(date2num(days[0])), float(date2num(days[-1])) + 1.0


#: Tick labels that name their month ("15 Sep", "01 Oct"), the year once at the axis' end.
_DATE_FORMATS = ["%Y", "%b %Y", "%d %b", "%H:%M", "%H:%M", "%S.%f"]
_OFFSET_FORMATS = ["", "", "%Y", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d"]


def date_axis(ax: Axes, days: Sequence[date]) -> None:
    """The x axis as ``days``, ticks labelled with their month and the year once."""
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
    ax.set_xlim(*x_limits(days))
    ax.tick_params(labelsize=FONT_SIZE)


def category_rows(ax: Axes, labels: Sequence[str]) -> None:
    """One labelled row per category, top to bottom, separated by thin white lines."""
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.set_yticks(np.arange(len(labels) + 1) - 0.5, minor=True)
    ax.tick_params(axis="y", which="minor", length=0)
    ax.grid(axis="y", which="minor", color="white", linewidth=1.5)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.tick_params(labelsize=FONT_SIZE)


def no_data_background(ax: Axes) -> None:
    """Hatching behind an image whose masked cells are transparent: they read as "no data"."""
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, zorder=0, **NO_DATA_STYLE))
