"""The live view: a rich table per sensor redrawn in the terminal about twice a second."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from edge.ble.session import SessionState
from edge.publisher import BrokerState
from edge.views.figures import SensorFigures, Snapshot, UplinkFigures
from edge.views.reporter import Reporter
from edge.views.text import FOOTER, final_lines, hz_text, link_text, rate_text, uplink_text

_STATE_STYLE = {
    SessionState.STREAMING: "green",
    SessionState.SCANNING: "yellow",
    SessionState.CONNECTING: "yellow",
    SessionState.BACKOFF: "yellow",
    SessionState.UNREACHABLE: "red",
    SessionState.STOPPED: "dim",
}


def sensor_table(f: SensorFigures) -> Table:
    """One sensor: link figures and the detector's, with its advice or last error as caption."""
    table = Table(
        title=f"{f.site}  [dim]{f.sensor} · {f.driver}[/dim]",
        title_justify="left",
        caption_justify="left",
        expand=True,
    )
    for column in ("link", "battery", "EMG Hz", "ACC Hz", "lost", "gap s"):
        table.add_column(column, justify="left" if column == "link" else "right")
    for column in ("twitches", "rest", "per min", "cramps", "excluded"):
        table.add_column(column, justify="right")
    style = "red" if f.not_found else _STATE_STYLE[f.state]
    table.add_row(
        Text("not found" if f.not_found and not f.streaming else f.state.value, style=style),
        "-" if f.battery_pct is None else f"{f.battery_pct}%",
        hz_text(f.emg_hz),
        hz_text(f.acc_hz),
        "-" if f.lost_pct is None else f"{f.lost_pct:.1f}%",
        f"{f.gap_s:.1f}",
        str(f.twitches),
        f"{f.rest_s:.0f} s",
        rate_text(f),
        str(f.cramps),
        f"{sum(f.excluded_s.values()):.0f} s",
    )
    if not f.streaming and (f.not_found or f.last_error):
        table.caption = Text(link_text(f), style=style)
    return table


def uplink_renderable(u: UplinkFigures) -> Text:
    style = {BrokerState.CONNECTED: "green", BrokerState.CONNECTING: "yellow"}.get(u.state, "red")
    return Text(uplink_text(u), style=style)


def render_live(snapshot: Snapshot) -> RenderableType:
    """The whole screen: a table per sensor, the uplink line, the footer."""
    parts: list[RenderableType] = [sensor_table(f) for f in snapshot.sensors]
    if snapshot.uplink is not None:
        parts.append(uplink_renderable(snapshot.uplink))
    if snapshot.clock is not None:
        parts.append(Text(snapshot.clock, style="red"))
    parts.append(Text(f"{FOOTER}  ·  running {_duration(snapshot.elapsed_s)}", style="dim"))
    return Group(*parts)


def _duration(seconds: float) -> str:
    minutes, s = divmod(int(seconds), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}:{m:02d}:{s:02d}" if hours else f"{m}:{s:02d}"


class LiveReporter(Reporter):
    """A rich Live display redrawn on every poll; the final figures stay on screen."""

    def __init__(self, console: Console, refresh_s: float) -> None:
        self.console = console
        self._live = Live(console=console, auto_refresh=False, refresh_per_second=1.0 / refresh_s)

    @contextmanager
    def showing(self, first: Snapshot) -> Iterator[None]:
        self._live.update(render_live(first))
        with self._live:
            yield

    def update(self, snapshot: Snapshot) -> None:
        self._live.update(render_live(snapshot), refresh=True)

    def final(self, snapshot: Snapshot, record: Path | None) -> None:
        for line in final_lines(snapshot):
            self.console.print(line, highlight=False, soft_wrap=True)
        if record is not None:
            self.console.print(f"recordings (EDF+, open them in EDFbrowser): {record}")
