"""The log view, for systemd's journal: a line per state change, a summary per sensor a minute.

The lines go to the ``edge.run`` logger, the name a person's journal shows
(``journalctl -u twitchwatch-edge``), whatever module writes them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from edge.ble.session import SessionState
from edge.publisher import BrokerState
from edge.views.figures import SensorFigures, Snapshot, UplinkFigures
from edge.views.reporter import Reporter
from edge.views.text import NOT_FOUND_ADVICE, final_lines, summary_line, uplink_text

log = logging.getLogger("edge.run")


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


class LogReporter(Reporter):
    """INFO lines: each state change once, every sensor's figures once per period."""

    def __init__(self, summary_every_s: float) -> None:
        self.summary_every_s = summary_every_s
        self._sensors: dict[str, SensorFigures] = {}
        self._uplink: UplinkFigures | None = None
        self._next_summary_s = summary_every_s

    def update(self, snapshot: Snapshot) -> None:
        for figures in snapshot.sensors:
            for line in sensor_changes(self._sensors.get(figures.sensor), figures):
                log.info("%s", line)
            self._sensors[figures.sensor] = figures
        if snapshot.uplink is not None:
            for line in uplink_changes(self._uplink, snapshot.uplink):
                log.info("%s", line)
            self._uplink = snapshot.uplink
        if snapshot.elapsed_s >= self._next_summary_s:
            self._next_summary_s = snapshot.elapsed_s + self.summary_every_s
            for figures in snapshot.sensors:
                log.info("%s", summary_line(figures))

    def final(self, snapshot: Snapshot, record: Path | None) -> None:
        for line in final_lines(snapshot):
            log.info("final: %s", line)
        if record is not None:
            log.info("final: recordings (EDF+) in %s", record)
