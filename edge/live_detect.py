"""Live detection: every connected sensor's streams through a site detector, optionally recorded.

A :class:`~edge.ble.session.StreamSink` like the live figures: blocks go to one
:class:`~edge.detect.SiteDetector` per sensor, decided detections are totalled per site, and
with a recording directory each sensor's raw streams go to an EDF+ file whose annotations hold
the twitches, cramps, exclusions and gaps (EDFbrowser shows them on the traces). With a
:class:`~edge.windows.WindowBuilder`, every poll's decisions also go into per-site windows for the
server; whoever owns the builder closes them (``close_due`` on a tick, ``flush`` after close).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from edge.ble.session import SensorSession
from edge.detect import Detections, DetectorInputError, SiteDetector
from edge.edf import EdfRecorder
from edge.stream import StreamInfo
from edge.timeline import TimelineUpdate
from edge.windows import WindowBuilder
from twitchwatch.contract import Kind, Reason

log = logging.getLogger(__name__)

#: Rates per minute need this much observed rest (detector.md §6), as in ``analyze``.
MIN_REST_FOR_RATE_S = 60.0


@dataclass
class SiteTotals:
    """What has been decided at one site since the agent started."""

    site: str
    twitches: int = 0
    rest_s: float = 0.0
    cramps: int = 0
    excluded_s: dict[Reason, float] = field(default_factory=lambda: dict.fromkeys(Reason, 0.0))
    blocks_refused: int = 0  # blocks the detector could not place (counted, never dropped silently)
    _reach_s: dict[Reason, float] = field(default_factory=lambda: dict.fromkeys(Reason, 0.0))

    def add(self, found: Detections) -> None:
        self.twitches += int(found.twitch_t_s.size)
        self.rest_s += found.rest_s
        self.cramps += len(found.cramps)
        for interval in sorted(found.excluded, key=lambda i: i.start_s):
            # Overlapping exclusions of one reason (motion seen by EMG and by ACC) count once.
            reach = self._reach_s[interval.reason]
            self.excluded_s[interval.reason] += max(
                0.0, interval.end_s - max(interval.start_s, reach)
            )
            self._reach_s[interval.reason] = max(reach, interval.end_s)

    @property
    def per_min(self) -> float | None:
        if self.rest_s < MIN_REST_FOR_RATE_S:
            return None
        return self.twitches / (self.rest_s / 60.0)


@dataclass
class _Sensor:
    site: str
    detector: SiteDetector
    totals: SiteTotals
    recorder: EdfRecorder | None


class LiveDetection:
    """Runs the detector on every sensor that streams; records them and cuts windows when asked."""

    def __init__(
        self, record_dir: Path | None = None, windows: WindowBuilder | None = None
    ) -> None:
        self.record_dir = record_dir
        self.windows = windows
        self._sensors: dict[str, _Sensor] = {}

    def on_streams(self, session: SensorSession, infos: list[StreamInfo]) -> None:
        if session.name in self._sensors:  # a reconnect: the timeline carries on
            return
        rates = {info.kind: info.fs for info in infos}
        site = session.config.site
        detector = SiteDetector(site, emg_fs=rates.get(Kind.EMG), acc_fs=rates.get(Kind.ACC))
        # Sample 0 is now, to the latency of a notification, unless the driver knows better.
        known = [info.t0_utc for info in infos if info.t0_utc is not None]
        start_utc = known[0] if known else datetime.now(UTC)
        if self.windows is not None:
            self.windows.start(site, start_utc)
        recorder = None
        if self.record_dir is not None:
            self.record_dir.mkdir(parents=True, exist_ok=True)
            stamp = start_utc.strftime("%Y%m%dT%H%M%SZ")
            path = self.record_dir / f"{session.name}_{site}_{stamp}.edf"
            recorder = EdfRecorder(path, infos, start_utc, device=session.name)
            log.info("recording %s to %s", session.name, path)
        self._sensors[session.name] = _Sensor(site, detector, SiteTotals(site), recorder)

    def on_update(self, info: StreamInfo, update: TimelineUpdate) -> None:
        sensor = self._sensors.get(info.device)
        if sensor is None:
            return
        for span in update.gaps:
            if sensor.recorder is not None:
                sensor.recorder.mark_gap(info, span)
        for block in update.blocks:
            if sensor.recorder is not None:
                sensor.recorder.write(block)
            try:
                sensor.detector.feed(info.kind, block.start, block.data)
            except DetectorInputError as exc:
                sensor.totals.blocks_refused += 1
                log.warning("%s", exc)
        self._take(sensor, sensor.detector.poll())

    def totals(self) -> list[SiteTotals]:
        return sorted((s.totals for s in self._sensors.values()), key=lambda t: t.site)

    def close(self) -> None:
        """End of the run: decide what is pending, then close the recordings."""
        for sensor in self._sensors.values():
            self._take(sensor, sensor.detector.finish())
            if sensor.recorder is not None:
                sensor.recorder.close()

    def _take(self, sensor: _Sensor, found: Detections) -> None:
        sensor.totals.add(found)
        if self.windows is not None:
            self.windows.add(sensor.site, found)
        recorder = sensor.recorder
        if recorder is None:
            return
        for t, amplitude in zip(found.twitch_t_s, found.twitch_amplitude, strict=True):
            recorder.annotate(float(t), 0.0, f"twitch {amplitude:.0f} {found.unit}")
        for cramp in found.cramps:
            recorder.annotate(cramp.start_s, cramp.end_s - cramp.start_s, "cramp")
        for interval in found.excluded:
            if interval.reason is not Reason.GAP:  # gaps are annotated by the recorder itself
                recorder.annotate(
                    interval.start_s, interval.end_s - interval.start_s, interval.reason.value
                )


def format_totals(totals: list[SiteTotals]) -> list[str]:
    """Plain-text table of the detector's figures per site."""
    lines = [
        f"{'site':<16}{'twitches':>9}{'rest':>8}{'per min':>9}{'cramps':>7}"
        f"{'voluntary':>10}{'motion':>8}{'artifact':>9}{'gap':>7}"
    ]
    for t in totals:
        rate = "…" if t.per_min is None else f"{t.per_min:.1f}"
        ex = t.excluded_s
        lines.append(
            f"{t.site:<16}{t.twitches:>9}{t.rest_s:>7.0f}s{rate:>9}{t.cramps:>7}"
            f"{ex[Reason.VOLUNTARY]:>9.0f}s{ex[Reason.MOTION]:>7.0f}s"
            f"{ex[Reason.ARTIFACT]:>8.0f}s{ex[Reason.GAP]:>6.0f}s"
        )
    return lines
