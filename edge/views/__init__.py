"""What a person sees of a running agent: the live terminal table or the log lines for systemd.

Both render the same :class:`~edge.views.figures.Snapshot`, taken from the agent about twice a
second; :func:`make_reporter` picks the view ``--view auto|live|log`` asks for.
"""

from __future__ import annotations

from enum import StrEnum

from rich.console import Console

from edge.views.figures import SensorFigures, Snapshot, UplinkFigures, take_snapshot
from edge.views.journal import LogReporter, sensor_changes, uplink_changes
from edge.views.reporter import Reporter
from edge.views.terminal import LiveReporter, render_live
from edge.views.text import FOOTER, NOT_FOUND_ADVICE, final_lines, summary_line

__all__ = [
    "FOOTER",
    "NOT_FOUND_ADVICE",
    "LiveReporter",
    "LogReporter",
    "Reporter",
    "SensorFigures",
    "Snapshot",
    "UplinkFigures",
    "View",
    "choose_view",
    "final_lines",
    "make_reporter",
    "render_live",
    "sensor_changes",
    "summary_line",
    "take_snapshot",
    "uplink_changes",
]


class View(StrEnum):
    LIVE = "live"  # a terminal: a table redrawn in place
    LOG = "log"  # no terminal (systemd): log lines, no ANSI codes


def choose_view(requested: str, isatty: bool) -> View:
    """``--view auto|live|log``: auto is live on a terminal, log otherwise."""
    if requested == "auto":
        return View.LIVE if isatty else View.LOG
    return View(requested)


def make_reporter(
    view: View, console: Console | None, refresh_s: float, summary_every_s: float
) -> Reporter:
    if view is View.LIVE:
        return LiveReporter(console or Console(), refresh_s)
    return LogReporter(summary_every_s)
