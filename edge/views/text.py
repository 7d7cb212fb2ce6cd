"""The words both views use: a sensor's link and detections, the broker, the end of a run."""

from __future__ import annotations

from edge.ble.session import SessionState
from edge.publisher import BrokerState
from edge.views.figures import SensorFigures, Snapshot, UplinkFigures

NOT_FOUND_ADVICE = "not found: is it switched on, charged and within a few metres?"
FOOTER = "Ctrl-C to stop"


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
    outbox += _losses(u)
    if u.state is BrokerState.UNREACHABLE:
        return f"broker {u.broker}: unreachable, retrying; windows are kept, not lost ({outbox})"
    return f"broker {u.broker}: {u.state.value} ({outbox})"


def _losses(u: UplinkFigures) -> str:
    text = f", {u.lost} lost (could not be stored)" if u.lost else ""
    if u.dropped:
        text += f", {u.dropped} dropped unsent (the outbox was full)"
    return text


def hz_text(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def rate_text(f: SensorFigures) -> str:
    return "…" if f.per_min is None else f"{f.per_min:.1f}"


def _excluded(f: SensorFigures) -> str:
    parts = [f"{reason.value} {s:.0f} s" for reason, s in f.excluded_s.items() if s >= 0.5]
    return ", ".join(parts) if parts else "none"


def summary_line(f: SensorFigures) -> str:
    """The per-minute line of one sensor."""
    if not f.streaming:
        return f"{f.name}: {link_text(f)}"
    return f"{f.name}: streaming, {link_figures_text(f)}; {detections_text(f)}"


def link_figures_text(f: SensorFigures) -> str:
    battery = f", battery {f.battery_pct}%" if f.battery_pct is not None else ""
    lost = "" if f.lost_pct is None else f", lost {f.lost_pct:.1f}%"
    return f"EMG {hz_text(f.emg_hz)} Hz, ACC {hz_text(f.acc_hz)} Hz{lost}, gap {f.gap_s:.1f} s{battery}"


def detections_text(f: SensorFigures) -> str:
    return (
        f"{_count(f.twitches, 'twitch', 'twitches')} in {f.rest_s:.0f} s of rest "
        f"({rate_text(f)}/min), {_count(f.cramps, 'cramp', 'cramps')}, excluded: {_excluded(f)}"
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
        lost = _losses(u)
        later = "; the next run sends what waits" if u.pending else ""
        lines.append(
            f"broker {u.broker} ({u.state.value} at the end): sent {u.sent}, acked up to seq "
            f"{u.acked_seq}, {u.pending} waiting in the outbox{lost}{later}"
        )
    if snapshot.clock is not None and snapshot.uplink is not None:
        lines.append(f"{snapshot.clock}; nothing detected in this run was sent")
    streamed = sum(f.connects > 0 for f in snapshot.sensors)
    lines.append(
        f"{streamed} of {len(snapshot.sensors)} sensors streamed; "
        "every lost sample is counted as a gap."
    )
    return lines
