"""What an accelerometer-only site (a Polar Verity Sense at 208 Hz) counts, against ground truth.

Ten minutes of simulated physiology per row, accelerometer only, through the detector's ACC path:
twitches generated and counted at the model's realistic mechanical twitch (2 mg) and at larger
ones, and motion excluded against motion simulated. The figures behind hardware/README.md §6.5.

    .venv/bin/python bench/acc_only.py [--seconds 600]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import twitchwatch.one_core  # noqa: E402, F401  (before numpy)
from bench.report import Row, machine, print_table  # noqa: E402
from edge.detect import SiteDetector  # noqa: E402
from edge.drivers.polar_pmd.driver import MAX_RATE_HZ  # noqa: E402
from firmware_sim.physiology import PRESETS, SiteGenerator, SiteModel, TruthKind  # noqa: E402
from twitchwatch.contract import Kind, Reason  # noqa: E402

#: The rate the polar_pmd driver asks a Verity Sense for (208 Hz).
ACC_FS_HZ = float(MAX_RATE_HZ)
#: (preset, mechanical twitch of a median unit in g): the model's 2 mg, then larger twitches.
CASES = (
    ("rest", 0.002),
    ("large_muscle", 0.002),
    ("busy", 0.002),
    ("rest", 0.010),
    ("rest", 0.020),
)


def run_case(preset: str, twitch_g: float, seconds: float, seed: int) -> Row:
    model = SiteModel(
        **{**PRESETS[preset], "twitch_acc_g": twitch_g}, emg_fs_hz=2000.0, acc_fs_hz=ACC_FS_HZ
    )
    generator = SiteGenerator(model, seed)
    detector = SiteDetector("right_forearm", emg_fs=None, acc_fs=ACC_FS_HZ)
    detector.feed(Kind.ACC, 0, generator.acc(0, round(seconds * ACC_FS_HZ)))
    found = detector.poll()
    found.extend(detector.finish())
    truth = generator.events(0.0, seconds)
    made = sum(1 for e in truth if e.kind is TruthKind.TWITCH)
    moving = sum(e.end_s - e.start_s for e in truth if e.kind is TruthKind.MOTION)
    excluded = sum(i.end_s - i.start_s for i in found.excluded if i.reason is Reason.MOTION)
    return Row(
        f"{preset}, twitch {twitch_g * 1000:.0f} mg",
        f"{found.twitch_t_s.size}/{made} counted; motion {excluded:.1f} s of {moving:.1f} s",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(machine())
    print(f"{args.seconds:.0f} s per case, accelerometer only at {ACC_FS_HZ:.0f} Hz:")
    rows = [run_case(p, g, args.seconds, args.seed) for p, g in CASES]
    print_table(rows, value_width=44)


if __name__ == "__main__":
    main()
