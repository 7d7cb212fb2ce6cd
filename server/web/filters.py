"""Jinja filters: times in the person's zone, rates and durations as people read them."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any


def when(t: datetime, zone: tzinfo) -> str:
    """``Sun 6 Dec 09:15`` in ``zone``."""
    local = t.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def day(d: date) -> str:
    """``Sun 6 Dec``."""
    return f"{d:%a} {d.day} {d:%b}"


def rate(value: float | None) -> str:
    """Twitches per minute of rest: two decimals below 1, one above; "no data" for None."""
    if value is None:
        return "no data"
    return f"{value:.2f}" if value < 1 else f"{value:.1f}"


def minutes(seconds: float) -> str:
    """``3725`` -> ``1 h 2 min``; ``300`` -> ``5 min``."""
    total = round(seconds / 60)
    hours, mins = divmod(total, 60)
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


FILTERS: dict[str, Any] = {
    "when": when,
    "day": day,
    "rate": rate,
    "minutes": minutes,
    "number": number,
}
