"""One past day of the story as the edge agent would have seen it: a rest recording per worn site,
the real detector over it, and the windows the agent would have published.

Pure and picklable, so the days run in worker processes while the main process publishes the
days already done (the detector is single-threaded numpy; two cores render two days at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import twitchwatch.one_core  # noqa: F401  (before numpy)
from edge.detect import SiteDetector
from edge.windows import Window, WindowBuilder
from firmware_sim.physiology import SiteGenerator, SiteModel, TruthKind
from twitchwatch.contract import Kind
from twitchwatch.demo.story import DIY_EMG_FS_HZ, Story, StorySensor

#: Samples handed to the detector per call, as the live agent does in its batches.
CHUNK_S = 60.0
#: The edge agent's window length for the past days (the agent's default).
HISTORY_WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class DayResult:
    """What one past day produced: the windows to publish, and the simulator's ground truth."""

    index: int
    windows: list[Window]
    simulated_twitches: dict[str, int]  # per worn site, what the physiology generated
    detected_twitches: dict[str, int]


def render_day(story: Story, index: int) -> DayResult:
    """Simulate, detect and window day ``index``'s rest recording of every worn site."""
    day = story.days[index]
    start = story.recording_start(index)
    worn = [s for s in story.sensors if s.site in day.rates]
    # The agent starts with the recording: no window before it, none after it ends.
    builder = WindowBuilder(story.sites, HISTORY_WINDOW_S, now=lambda: start, resume_from_utc=start)
    simulated, detected = {}, {}
    for sensor in worn:
        seed = [story.seed, index, story.sites.index(sensor.site)]
        simulated[sensor.site], detected[sensor.site] = _record_site(
            builder, sensor, day.rates[sensor.site], story.recording_s, start, seed
        )
    return DayResult(index, builder.flush() if worn else [], simulated, detected)


def _record_site(
    builder: WindowBuilder,
    sensor: StorySensor,
    rate_per_min: float,
    seconds: float,
    start: datetime,
    seed: list[int],
) -> tuple[int, int]:
    model = SiteModel(
        emg_fs_hz=sensor.emg_fs or DIY_EMG_FS_HZ,
        acc_fs_hz=sensor.acc_fs,
        twitch_rate_per_min=rate_per_min,
    )
    generator = SiteGenerator(model, int.from_bytes(bytes(seed), "little"))
    detector = SiteDetector(sensor.site, emg_fs=sensor.emg_fs, acc_fs=sensor.acc_fs)
    builder.start(sensor.site, start)
    detected = 0
    t = 0.0
    while t < seconds:
        stop = min(seconds, t + CHUNK_S)
        if sensor.emg_fs is not None:
            lo, hi = round(t * sensor.emg_fs), round(stop * sensor.emg_fs)
            detector.feed(Kind.EMG, lo, generator.emg(lo, hi))
        lo, hi = round(t * sensor.acc_fs), round(stop * sensor.acc_fs)
        detector.feed(Kind.ACC, lo, generator.acc(lo, hi)[: sensor.acc_axes])
        found = detector.poll()
        detected += len(found.twitch_t_s)
        builder.add(sensor.site, found)
        t = stop
    found = detector.finish()
    detected += len(found.twitch_t_s)
    builder.add(sensor.site, found)
    truth = generator.events(0.0, seconds)
    simulated = sum(1 for e in truth if e.kind is TruthKind.TWITCH)
    return simulated, detected
