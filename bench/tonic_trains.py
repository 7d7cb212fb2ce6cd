"""One motor unit firing steadily is not twitching; one twitching at random still counts.

The isolation rule alone lets a unit that fires steadily a few times a second pass discharge
after discharge (edge/detect/trains.py). Two figures, on white noise at 3 µV RMS, 2 kHz:

- a unit firing steadily (intervals +-10 %) for 30 s at 2-6 per second: twitches counted
  (should be 0) and the time excluded as voluntary;
- a unit twitching at random (exponential intervals, isolated by the 250 ms rule) over 120 s,
  8 seeds per mean interval: the share of its twitches counted (should stay near 1).

    .venv/bin/python bench/tonic_trains.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.detect import Detections, SiteDetector
from twitchwatch.contract import Kind, Reason

FS = 2000.0
NOISE_UV = 3.0


def potential(p2p_uv: float, sigma_s: float = 0.0012) -> np.ndarray:
    """A biphasic potential (first derivative of a Gaussian) of this peak-to-peak."""
    t = np.arange(-5 * sigma_s, 5 * sigma_s, 1 / FS)
    w = -t / sigma_s * np.exp(-0.5 * (t / sigma_s) ** 2)
    return w * p2p_uv / np.ptp(w)


def signal(seconds: float, times_s: np.ndarray, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0.0, NOISE_UV, int(seconds * FS))
    wave = potential(100.0)
    for t in times_s:
        i = round(t * FS) - wave.size // 2
        x[i : i + wave.size] += wave
    return x


def detect(x: np.ndarray) -> Detections:
    det = SiteDetector("left_calf", emg_fs=FS, acc_fs=None)
    found = det.poll()
    step = int(60 * FS)
    for a in range(0, x.size, step):
        det.feed(Kind.EMG, a, x[a : a + step])
        found.extend(det.poll())
    found.extend(det.finish())
    return found


def main() -> None:
    rng = np.random.default_rng(1)
    print("one unit firing steadily for 30 s (10-40 s of 60 s):")
    for pps in (2.0, 3.0, 4.0, 5.0, 6.0):
        times = 10.0 + np.cumsum(1 / pps * (1 + 0.1 * rng.standard_normal(400)))
        times = times[times < 40.0]
        found = detect(signal(60.0, times, seed=3))
        voluntary = sum(i.end_s - i.start_s for i in found.excluded if i.reason is Reason.VOLUNTARY)
        print(
            f"  {pps:.0f}/s: {times.size} discharges, {found.twitch_t_s.size} counted as "
            f"twitches, {voluntary:.1f} s excluded as voluntary"
        )
    print("one unit twitching at random for 120 s, 8 seeds each:")
    for mean_s in (0.7, 1.0, 1.5, 3.0):
        made = counted = 0
        for seed in range(8):
            times = 3.0 + np.cumsum(np.random.default_rng(100 + seed).exponential(mean_s, 400))
            times = times[times < 117.0]
            gap = np.diff(times)
            isolated = np.concatenate(([True], gap > 0.3)) & np.concatenate((gap > 0.3, [True]))
            times = times[isolated]
            made += times.size
            counted += detect(signal(120.0, times, seed)).twitch_t_s.size
        print(f"  mean interval {mean_s:g} s: {counted} of {made} counted ({counted / made:.3f})")


if __name__ == "__main__":
    main()
