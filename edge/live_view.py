"""What a person sees of a running agent: pure functions from figures to rich renderables or logs.

Two views of the same :class:`Snapshot`: a live terminal table (:func:`render_live`, redrawn about
twice a second) and, without a terminal (systemd, journald), plain log lines: one per state change
(:func:`sensor_changes`, :func:`uplink_changes`) and a summary per sensor every minute
(:func:`summary_line`). Nothing here touches Bluetooth, MQTT or the clock, so tests render it
with ``Console(record=True, width=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from edge.ble.session import SessionState
from edge.publisher import BrokerState
from twitchwatch.contract import Reason

NOT_FOUND_ADVICE = "not found: is it switched on, charged and within a few metres?"
FOOTER = "Ctrl-C to stop"


@dataclass(frozen=True, slots=True)
class SensorFigures:
    """One sensor as the agent sees it at one moment: its link, its data, its detections."""

    sensor: str
    site: str
    driver: str
    state: SessionState
    not_found: bool = False  # the last scan did not see it
    last_error: str | None = None  # the last failure's one-line message (kept after recovery)
    failures: int = 0  # consecutive failed attempts
    #: Failed often enough to be called unreachable. From the failure count, not the momentary
    #: state, which flips between backoff and scanning faster than a poll may see.
    unreachable: bool = False
    connects: int = 0  # successful connections so far
    battery_pct: int | None = None
    emg_hz: float | None = None  # None: no stream of that kind, or not measured yet
    acc_hz: float | None = None
    lost_pct: float | None = None  # samples lost of those due; None before any arrived
    gap_s: float = 0.0
    twitches: int = 0
    rest_s: float = 0.0
    per_min: float | None = None  # None until enough rest was observed for a rate
    cramps: int = 0
    excluded_s: dict[Reason, float] = field(default_factory=dict)

    @property
    def streaming(self) -> bool:
        return self.state is SessionState.STREAMING

    @property
    def name(self) -> str:
        return f"{self.sensor} ({self.site})"


@dataclass(frozen=True, slots=True)
class UplinkFigures:
    """The publisher's side: the broker (address without credentials) and the outbox."""

    broker: str
    state: BrokerState
    sent: int = 0
    acked_seq: int = 0
    pending: int = 0  # windows in the outbox not yet acked by the server
    lost: int = 0  # windows the outbox could not store


@dataclass(frozen=True, slots=True)
class Snapshot:
    sensors: tuple[SensorFigures, ...]
    uplink: UplinkFigures | None
    elapsed_s: float


# --- words shared by both views ------------------------------------------------------------------


def link_text(f: SensorFigures) -> str:
    """The link state with what a person can do about it."""
    if f.streaming:
        return "streaming"
    if f.not_found:
        return NOT_FOUND_ADVICE
    if f.unreachable:
        return f"unreachable after {f.failures} attempts: {f.last_error}; still retrying"
    if f.state is SessionState.BACKOFF and f.last_error:
        return f"backoff: {f.last_error}"
    return f.state.value


def uplink_text(u: UplinkFigures) -> str:
    outbox = f"sent {u.sent}, acked up to seq {u.acked_seq}, {u.pending} waiting in the outbox"
    if u.lost:
        outbox += f", {u.lost} lost (could not be stored)"
    if u.state is BrokerState.UNREACHABLE:
        return f"broker {u.broker}: unreachable, retrying; windows are kept, not lost ({outbox})"
    return f"broker {u.broker}: {u.state.value} ({outbox})"


def _hz(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _rate(f: SensorFigures) -> str:
    return "…" if f.per_min is None else f"{f.per_min:.1f}"


def _excluded(f: SensorFigures) -> str:
    parts = [f"{reason.value} {s:.0f} s" for reason, s in f.excluded_s.items() if s >= 0.5]
    return ", ".join(parts) if parts else "none"


# --- live view -----------------------------------------------------------------------------------

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
        _hz(f.emg_hz),
        _hz(f.acc_hz),
        "-" if f.lost_pct is None else f"{f.lost_pct:.1f}%",
        f"{f.gap_s:.1f}",
        str(f.twitches),
        f"{f.rest_s:.0f} s",
        _rate(f),
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
    parts.append(Text(f"{FOOTER}  ·  running {_duration(snapshot.elapsed_s)}", style="dim"))
    return Group(*parts)


def _duration(seconds: float) -> str:
    minutes, s = divmod(int(seconds), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}:{m:02d}:{s:02d}" if hours else f"{m}:{s:02d}"


# --- log view ------------------------------------------------------------------------------------


def sensor_changes(before: SensorFigures | None, after: SensorFigures) -> list[str]:
    """Log lines for what changed since ``before`` (None: the start), at most a few per call.

    Called on every poll; a sensor that keeps failing the same way adds nothing after its first
    line, so a sensor left in another room logs once, not once per retry.
    """
    if after.state is SessionState.STOPPED:  # the run is ending, not the link
        return []
    if before is None:
        before = SensorFigures(after.sensor, after.site, after.driver, SessionState.SCANNING)
    lines = []
    reconnected = after.connects > before.connects
    if before.streaming and (not after.streaming or reconnected):
        why = f" ({after.last_error})" if after.last_error != before.last_error else ""
        lines.append(f"{after.name}: link lost{why}; reconnecting")
    if reconnected:
        verb = "connected" if before.connects == 0 else "reconnected"
        battery = f", battery {after.battery_pct}%" if after.battery_pct is not None else ""
        lines.append(f"{after.name}: {verb} ({after.driver}{battery})")
    if after.streaming:
        return lines
    if after.not_found and not before.not_found:
        lines.append(f"{after.name}: {NOT_FOUND_ADVICE} (still looking)")
    elif (
        not after.not_found
        and after.last_error
        and after.last_error != before.last_error
        and not before.streaming
    ):
        lines.append(f"{after.name}: could not connect: {after.last_error}; retrying")
    if after.unreachable and not before.unreachable:
        what = "still not found" if after.not_found else "unreachable"
        lines.append(f"{after.name}: {what} after {after.failures} attempts; retrying, less often")
    return lines


def uplink_changes(before: UplinkFigures | None, after: UplinkFigures) -> list[str]:
    if before is not None and before.state is after.state:
        return []
    if before is None and after.state is BrokerState.CONNECTING:
        return []
    return [uplink_text(after)]


def summary_line(f: SensorFigures) -> str:
    """The per-minute line of one sensor."""
    if not f.streaming:
        return f"{f.name}: {link_text(f)}"
    return f"{f.name}: streaming, {link_figures_text(f)}; {detections_text(f)}"


def link_figures_text(f: SensorFigures) -> str:
    battery = f", battery {f.battery_pct}%" if f.battery_pct is not None else ""
    lost = "" if f.lost_pct is None else f", lost {f.lost_pct:.1f}%"
    return f"EMG {_hz(f.emg_hz)} Hz, ACC {_hz(f.acc_hz)} Hz{lost}, gap {f.gap_s:.1f} s{battery}"


def detections_text(f: SensorFigures) -> str:
    return (
        f"{_count(f.twitches, 'twitch', 'twitches')} in {f.rest_s:.0f} s of rest "
        f"({_rate(f)}/min), {_count(f.cramps, 'cramp', 'cramps')}, excluded: {_excluded(f)}"
    )


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def final_lines(snapshot: Snapshot) -> list[str]:
    """The end of a run: each sensor in one line, those never found said plainly, a total."""
    lines = []
    for f in snapshot.sensors:
        if f.connects == 0 and f.not_found:
            lines.append(
                f"{f.name} was never found in {snapshot.elapsed_s:.0f} s: is it switched on, "
                "charged and within a few metres?"
            )
        elif f.connects == 0:
            lines.append(f"{f.name} never connected: {f.last_error or f.state.value}")
        else:
            lines.append(f"{f.name}: {link_figures_text(f)}; {detections_text(f)}")
    if snapshot.uplink is not None:
        u = snapshot.uplink
        lost = f", {u.lost} lost (could not be stored)" if u.lost else ""
        later = "; the next run sends what waits" if u.pending else ""
        lines.append(
            f"broker {u.broker} ({u.state.value} at the end): sent {u.sent}, acked up to seq "
            f"{u.acked_seq}, {u.pending} waiting in the outbox{lost}{later}"
        )
    streamed = sum(f.connects > 0 for f in snapshot.sensors)
    lines.append(
        f"{streamed} of {len(snapshot.sensors)} sensors streamed; "
        "every lost sample is counted as a gap."
    )
    return lines
