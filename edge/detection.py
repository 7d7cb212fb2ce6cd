"""Live detection: one :class:`~edge.detect.SiteDetector` per streaming sensor, its decisions
handed to detection sinks (totals, windows, an EDF+ recording).

:class:`Detection` is a :class:`~edge.ble.session.StreamSink`: sessions hand it decoded blocks and
gaps. It feeds each sensor's detector, polls it, and gives what was decided to every
:class:`DetectionSink` in order. Sinks that also want the raw signal (the recorder) get it first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from edge.ble.session import SensorSession
from edge.detect import Detections, DetectorInputError, SiteDetector
from edge.stream import StreamInfo
from edge.timeline import TimelineUpdate
from twitchwatch.contract import Kind

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SensorStart:
    """A sensor's first streams: who, where, what flows, and the UTC time of its sample 0."""

    sensor: str
    site: str
    infos: tuple[StreamInfo, ...]
    start_utc: datetime


class DetectionSink:
    """Where a sensor's detections go; every method but :meth:`on_detections` may be left as is."""

    def on_start(self, start: SensorStart) -> None:
        """The sensor's first connection (reconnects carry on the same timeline)."""

    def on_signal(self, sensor: str, info: StreamInfo, update: TimelineUpdate) -> None:
        """Raw blocks and gaps, before the detector sees them (for a recorder)."""

    def on_detections(self, sensor: str, site: str, found: Detections) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """The run is over; the detectors' last decisions were handed over before this."""


@dataclass
class _Sensor:
    site: str
    detector: SiteDetector
    blocks_refused: int = 0  # blocks the detector could not place (counted, never dropped silently)


class Detection:
    """Runs the detector on every sensor that streams and hands its decisions to ``sinks``."""

    def __init__(
        self, *sinks: DetectionSink, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.sinks = sinks
        self._now = now  # the wall clock that stamps a sensor's start
        self._sensors: dict[str, _Sensor] = {}

    def on_streams(self, session: SensorSession, infos: list[StreamInfo]) -> None:
        if session.name in self._sensors:  # a reconnect: the timeline carries on
            return
        rates = {info.kind: info.fs for info in infos}
        site = session.config.site
        detector = SiteDetector(site, emg_fs=rates.get(Kind.EMG), acc_fs=rates.get(Kind.ACC))
        # Sample 0 is now, to the latency of a notification, unless the driver knows better.
        known = [info.t0_utc for info in infos if info.t0_utc is not None]
        start = SensorStart(session.name, site, tuple(infos), known[0] if known else self._now())
        self._sensors[session.name] = _Sensor(site, detector)
        for sink in self.sinks:
            sink.on_start(start)

    def on_update(self, info: StreamInfo, update: TimelineUpdate) -> None:
        sensor = self._sensors.get(info.device)
        if sensor is None:
            return
        for sink in self.sinks:
            sink.on_signal(info.device, info, update)
        for block in update.blocks:
            try:
                sensor.detector.feed(info.kind, block.start, block.data)
            except DetectorInputError as exc:
                sensor.blocks_refused += 1
                log.warning("%s", exc)
        self._hand_over(info.device, sensor, sensor.detector.poll())

    def blocks_refused(self, sensor: str) -> int:
        known = self._sensors.get(sensor)
        return 0 if known is None else known.blocks_refused

    def close(self) -> None:
        """End of the run: decide what is pending, hand it over, then close the sinks."""
        for name, sensor in self._sensors.items():
            self._hand_over(name, sensor, sensor.detector.finish())
        for sink in self.sinks:
            sink.close()

    def _hand_over(self, name: str, sensor: _Sensor, found: Detections) -> None:
        for sink in self.sinks:
            sink.on_detections(name, sensor.site, found)
