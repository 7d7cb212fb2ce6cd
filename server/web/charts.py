"""Bar charts as SVG geometry: a bar per day (or hour), drawn by the templates, no script.

Three kinds of bar, so that no data can never be read as zero: ``rate`` (observed, twitching at
that rate), ``zero`` (observed, no twitch: a thin mark on the baseline) and ``nodata`` (not enough
observed rest: a hatched full-height band, the same grey hatching as the doctor's report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from server.web.person_data import HourCell, SiteWeeks

PLOT_H = 48.0  # user units of the bars' area
LABEL_H = 12.0  # below it: month or hour labels
DAY_W = 4.0
HOUR_W = 15.0
ZERO_H = 1.2


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    kind: str  # rate | zero | nodata
    twitching: bool
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: float
    height: float
    plot_h: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    threshold_y: float | None  # the dashed line: the rate from which a day counts as twitching
    top: float  # the rate at the top of the plot

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {self.height:g}"


def _scale(rates: Sequence[float | None], threshold: float | None) -> float:
    seen = [r for r in rates if r is not None]
    top = max([*seen, (threshold or 0.0) * 1.5, 0.5])
    return float(top)


def _bar(x: float, w: float, rate: float | None, top: float, twitching: bool, title: str) -> Bar:
    if rate is None:
        return Bar(x, 0.0, w, PLOT_H, "nodata", False, f"{title}: no data")
    text = f"{title}: {rate:.2f} per minute of rest"
    if rate <= 0:
        return Bar(x, PLOT_H - ZERO_H, w, ZERO_H, "zero", False, f"{title}: no twitches")
    h = max(PLOT_H * min(rate / top, 1.0), ZERO_H * 1.5)
    return Bar(x, PLOT_H - h, w, h, "rate", twitching, text)


def weeks_chart(site: SiteWeeks, days: Sequence[date], threshold: float) -> Chart:
    """One bar per day; a tick under the first day of each month."""
    top = _scale(site.rate, threshold)
    bars = tuple(
        _bar(i * DAY_W, DAY_W - 1.0, rate, top, twitching, day.strftime("%a %d %b"))
        for i, (day, rate, twitching) in enumerate(
            zip(days, site.rate, site.twitching, strict=True)
        )
    )
    ticks = tuple(Tick(i * DAY_W, day.strftime("%b")) for i, day in enumerate(days) if day.day == 1)
    return Chart(
        len(days) * DAY_W,
        PLOT_H + LABEL_H,
        PLOT_H,
        bars,
        ticks,
        PLOT_H * (1 - threshold / top),
        top,
    )


def hours_chart(cells: Sequence[HourCell], now: datetime) -> Chart:
    """One bar per hour of today; hours still to come are left empty, not "no data"."""
    rates = [c.rate for c in cells]
    top = _scale(rates, None)
    bars = tuple(
        _bar(i * HOUR_W, HOUR_W - 2.0, c.rate, top, False, c.start.strftime("%H:00"))
        for i, c in enumerate(cells)
        if c.start <= now
    )
    ticks = tuple(
        Tick(i * HOUR_W, c.start.strftime("%H")) for i, c in enumerate(cells) if i % 6 == 0
    )
    return Chart(len(cells) * HOUR_W, PLOT_H + LABEL_H, PLOT_H, bars, ticks, None, top)
