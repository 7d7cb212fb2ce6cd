"""What lost radio frames cost the detector: rest kept and twitches counted.

A Bluetooth LE link loses a notification now and then; the edge marks its samples as a gap. The
detector bridges a hole of up to ``bridge_max_s`` (filled for its filters only, claimed as a gap of
exactly its length) instead of restarting and settling for ``warmup_s``. Per sensor (its frame
size and rate), ten minutes of the simulator's resting calf (20 mg twitches for the
accelerometer), frames dropped at random:

- rest kept: observed rest with drops / observed rest of the intact stream;
- counted: twitches counted with drops / counted in the intact stream;
- baseline: the same drops with every hole restarting the lanes (``bridge_max_s=0``), measured
  in the same run.

    .venv/bin/python bench/lost_frames.py [--seconds 600]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import twitchwatch.one_core  # noqa: E402, F401  (before numpy's first big allocation)
from edge.detect import Detections, DetectorConfig, SiteDetector  # noqa: E402
from firmware_sim.physiology import PRESETS, SiteGenerator, SiteModel  # noqa: E402
from twitchwatch.contract import Kind  # noqa: E402

DROP_PROBS = (0.002, 0.01, 0.05)


@dataclass(frozen=True)
class Sensor:
    name: str
    kind: Kind
    fs: float
    frame_n: int  # samples in one notification (what one loss takes away)


#: Frame sizes as the simulated sensors send them over the Bumble link (MTU 247).
SENSORS = (
    Sensor("BITalino EMG 1 kHz, 1-sample frames", Kind.EMG, 1000.0, 1),
    Sensor("DIY EMG 2 kHz, 111-sample notifications", Kind.EMG, 2000.0, 111),
    Sensor("Polar ACC 208 Hz, 81-sample frames", Kind.ACC, 208.0, 81),
)


def stream(sensor: Sensor, seconds: float, seed: int) -> np.ndarray:
    emg = sensor.kind is Kind.EMG
    rates = {"emg_fs_hz": sensor.fs if emg else 2000.0, "acc_fs_hz": 416.0 if emg else sensor.fs}
    visible = {} if emg else {"twitch_acc_g": 0.02}  # an accelerometer sees only large twitches
    generator = SiteGenerator(SiteModel(**{**PRESETS["rest"], **visible}, **rates), seed)
    n = round(seconds * sensor.fs)
    return generator.emg(0, n) if emg else generator.acc(0, n)


def detect(sensor: Sensor, x: np.ndarray, kept: np.ndarray, config: DetectorConfig) -> Detections:
    """Feed the frames in ``kept`` (a flag per frame), as the edge delivers them."""
    emg_fs, acc_fs = (sensor.fs, None) if sensor.kind is Kind.EMG else (None, sensor.fs)
    detector = SiteDetector("left_calf", emg_fs=emg_fs, acc_fs=acc_fs, config=config)
    found = detector.poll()
    starts = np.flatnonzero(np.diff(np.concatenate(([0], kept.astype(np.int8)))) == 1)
    stops = np.flatnonzero(np.diff(np.concatenate((kept.astype(np.int8), [0]))) == -1) + 1
    for a, b in zip(starts * sensor.frame_n, stops * sensor.frame_n, strict=True):
        run = x[..., a : min(b, x.shape[-1])]
        for c in range(0, run.shape[-1], round(sensor.fs)):  # one-second pieces, as live
            detector.feed(sensor.kind, a + c, run[..., c : c + round(sensor.fs)])
            found.extend(detector.poll())
    found.extend(detector.finish())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bridged, restarting = DetectorConfig(), DetectorConfig(bridge_max_s=0.0)
    print(f"{args.seconds:.0f} s of a resting calf per row; holes up to {bridged.bridge_max_s} s")
    print(f"bridged; baseline: every hole restarts the lanes (settling {bridged.warmup_s} s)")
    header = "sensor / frames lost                        lost s  rest kept  counted   baseline"
    print(header)
    for sensor in SENSORS:
        x = stream(sensor, args.seconds, args.seed)
        frames = -(-x.shape[-1] // sensor.frame_n)
        intact = detect(sensor, x, np.ones(frames, bool), bridged)
        for p in DROP_PROBS:
            kept = np.random.default_rng(args.seed).random(frames) >= p
            kept[0] = True
            lost_s = (~kept).sum() * sensor.frame_n / sensor.fs
            cells = []
            for config in (bridged, restarting):
                found = detect(sensor, x, kept, config)
                rest = found.rest_s / intact.rest_s
                counted = found.twitch_t_s.size / max(intact.twitch_t_s.size, 1)
                cells.append((rest, counted))
            (rest, counted), (base_rest, base_counted) = cells
            print(
                f"{sensor.name[:38]:38s} {p:6.3f} {lost_s:7.1f}  {rest:9.3f}  {counted:7.3f}"
                f"   rest {base_rest:.3f}, counted {base_counted:.3f}"
            )
        print(f"  intact: {intact.rest_s:.1f} s rest, {intact.twitch_t_s.size} twitches")


if __name__ == "__main__":
    main()
