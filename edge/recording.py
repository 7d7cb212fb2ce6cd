"""``edge run --record DIR``: each sensor's raw streams to an EDF+ file, with the detector's
twitches, cramps and exclusions as annotations (EDFbrowser shows them on the traces)."""

from __future__ import annotations

import logging
from pathlib import Path

from edge.detect import Detections
from edge.detection import DetectionSink, SensorStart
from edge.edf import EdfRecorder
from edge.stream import StreamInfo
from edge.timeline import TimelineUpdate
from twitchwatch.contract import Reason

log = logging.getLogger(__name__)


class Recording(DetectionSink):
    """One :class:`~edge.edf.EdfRecorder` per sensor, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._recorders: dict[str, EdfRecorder] = {}

    def on_start(self, start: SensorStart) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = start.start_utc.strftime("%Y%m%dT%H%M%SZ")
        path = self.folder / f"{start.sensor}_{start.site}_{stamp}.edf"
        self._recorders[start.sensor] = EdfRecorder(
            path, start.infos, start.start_utc, device=start.sensor
        )
        log.info("recording %s to %s", start.sensor, path)

    def on_signal(self, sensor: str, info: StreamInfo, update: TimelineUpdate) -> None:
        recorder = self._recorders[sensor]
        for span in update.gaps:
            recorder.mark_gap(info, span)
        for block in update.blocks:
            recorder.write(block)

    def on_detections(self, sensor: str, site: str, found: Detections) -> None:
        recorder = self._recorders[sensor]
        for t, amplitude in zip(found.twitch_t_s, found.twitch_amplitude, strict=True):
            recorder.annotate(float(t), 0.0, f"twitch {amplitude:.0f} {found.unit}")
        for cramp in found.cramps:
            recorder.annotate(cramp.start_s, cramp.end_s - cramp.start_s, "cramp")
        for interval in found.excluded:
            if interval.reason is not Reason.GAP:  # gaps are annotated by the recorder itself
                recorder.annotate(
                    interval.start_s, interval.end_s - interval.start_s, interval.reason.value
                )

    def close(self) -> None:
        for recorder in self._recorders.values():
            recorder.close()
