"""Drawing the demo's :class:`~twitchwatch.demo.screen.Screen`: a live terminal view (rich), or
plain lines when the output is not a terminal (CI logs, ``--plain``).
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from typing import Protocol, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from server.alert_feed import event_text, format_event
from twitchwatch.contract import AlertEvent, Severity, Transition
from twitchwatch.demo.screen import Screen

SEVERITY_STYLE = {
    Severity.INFO: "cyan",
    Severity.ADVISORY: "yellow",
    Severity.WARNING: "bold dark_orange",
    Severity.URGENT: "bold red",
}
#: Unicode eighth blocks for the per-site rate history; "·" marks a day without data.
SPARKS = "▁▂▃▄▅▆▇█"
HISTORY_DAYS = 14
ALERT_LINES = 5


class DemoView(Protocol):
    def start(self) -> None: ...

    def refresh(self) -> None: ...

    def day_done(self, day: date, label: str) -> None: ...

    def alert(self, event: AlertEvent) -> None: ...

    def say(self, line: str) -> None: ...

    def stop(self) -> None: ...


def shown_day(screen: Screen, today: date) -> date:
    """The day the table shows: the last past day published, then today."""
    progress = screen.progress
    if progress.phase == "history" and progress.day_date is not None:
        return progress.day_date
    return today


def sparkline(screen: Screen, site: str, last: date, days: int = HISTORY_DAYS) -> str:
    rates = [screen.site_day(site, last - timedelta(days=k)).per_min for k in range(days)][::-1]
    top = max((r for r in rates if r is not None), default=0.0) or 1.0
    return "".join(
        "·" if r is None else SPARKS[min(len(SPARKS) - 1, int(r / top * (len(SPARKS) - 1)))]
        for r in rates
    )


def rest_text(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def site_table(screen: Screen, day: date) -> Table:
    table = Table(
        title=f"per-site counts on {day:%a %d %b} (windows topic)",
        title_justify="left",
        expand=True,
    )
    table.add_column("site")
    table.add_column("sensor")
    table.add_column("twitches", justify="right")
    table.add_column("rest", justify="right")
    table.add_column("per min", justify="right")
    table.add_column("cramps", justify="right")
    table.add_column(f"rate, last {HISTORY_DAYS} days", no_wrap=True)
    for site in screen.sites:
        totals = screen.site_day(site, day)
        rate = "…" if totals.per_min is None else f"{totals.per_min:.1f}"
        table.add_row(
            site,
            screen.drivers.get(site, ""),
            str(totals.twitches),
            rest_text(totals.rest_s),
            rate,
            str(totals.cramps),
            sparkline(screen, site, day),
        )
    return table


def first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def alert_table(screen: Screen) -> RenderableType:
    """The latest transitions, one line each, and the latest raised alert in full below."""
    if not screen.events:
        return Text("no alerts yet", style="dim")
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    for event in screen.events[-ALERT_LINES:]:
        alert = event.alert
        quiet = event.transition not in (Transition.FIRING, Transition.ESCALATED)
        table.add_row(
            f"{event.t:%a %d %b}",
            Text(f"{alert.severity.value.upper():<8}", style=SEVERITY_STYLE[alert.severity]),
            f"{event.transition.value:<9} {alert.rule.value}/{alert.scope}",
            Text(first_sentence(alert.message), style="dim" if quiet else ""),
        )
    raised = screen.firing()
    if not raised:
        return table
    latest = raised[-1]
    detail = Text.assemble(
        ("latest raised: ", "bold"),
        (f"{latest.alert.rule.value}/{latest.alert.scope} ", SEVERITY_STYLE[latest.alert.severity]),
        event_text(latest),
    )
    return Group(table, Text(""), detail)


def progress_line(screen: Screen) -> RenderableType:
    p = screen.progress
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(width=30)
    grid.add_column()
    if p.phase == "history":
        day = f"{p.day_date:%a %d %b}" if p.day_date else ""
        grid.add_row(
            "past six weeks",
            ProgressBar(total=max(p.days, 1), completed=p.day),
            f"day {p.day}/{p.days}  {day}  {p.caption}",
        )
    elif p.phase == "live":
        grid.add_row(
            "today, live over Bluetooth",
            ProgressBar(total=max(p.live_total_s, 1.0), completed=p.live_s),
            f"{p.live_s:.0f}/{p.live_total_s:.0f} s",
        )
    else:
        grid.add_row(p.phase, "", p.caption)
    return grid


def render(screen: Screen, today: date) -> RenderableType:
    return Group(
        Text.assemble(
            ("TwitchWatch demo", "bold"),
            f"  person '{screen.user}', broker {screen.broker}  ",
            ("(simulated data; not a diagnostic device)", "dim"),
        ),
        progress_line(screen),
        site_table(screen, shown_day(screen, today)),
        Panel(alert_table(screen), title=f"alerts (twitchwatch/v1/{screen.user}/alerts/#)"),
    )


class LiveView:
    """A rich Live display redrawn a few times a second; messages print above it."""

    def __init__(self, screen: Screen, today: date, console: Console | None = None) -> None:
        self.screen, self.today = screen, today
        self.console = console or Console()
        self._live = Live(
            get_renderable=lambda: render(self.screen, self.today),
            console=self.console,
            refresh_per_second=4,
            transient=False,
        )

    def start(self) -> None:
        self._live.start()

    def refresh(self) -> None:
        self._live.refresh()

    def day_done(self, day: date, label: str) -> None:
        pass  # the table shows it

    def alert(self, event: AlertEvent) -> None:
        pass  # the alerts panel shows it

    def say(self, line: str) -> None:
        self._live.console.print(line)

    def stop(self) -> None:
        self._live.stop()


class PlainView:
    """One line per past day, per alert and per step: for logs, pipes and tests."""

    def __init__(self, screen: Screen, out: TextIO | None = None) -> None:
        self.screen = screen
        self.out = out or sys.stdout

    def start(self) -> None:
        pass

    def refresh(self) -> None:
        pass

    def day_done(self, day: date, label: str) -> None:
        parts = []
        for site in self.screen.sites:
            totals = self.screen.site_day(site, day)
            if totals.rest_s == 0:
                parts.append(f"{site}: no data")
                continue
            rate = "" if totals.per_min is None else f" ({totals.per_min:.1f}/min)"
            parts.append(f"{site} {totals.twitches} in {rest_text(totals.rest_s)} of rest{rate}")
        self.say(f"{label} {day}  {'; '.join(parts)}  {self.screen.progress.caption}")

    def alert(self, event: AlertEvent) -> None:
        if event.notify:  # pending and folded alerts are recorded, not notified
            self.say(f"  ALERT {format_event(event)}")

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def stop(self) -> None:
        pass
