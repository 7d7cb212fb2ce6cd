"""The detector speed bench runs end to end on a tiny recording (figures are not checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "detector_speed.py"


def test_quick_mode_prints_every_figure() -> None:
    # A subprocess: the bench pins BLAS to one thread through the environment before numpy loads.
    args = ["--quick", "--minutes", "1", "--hours", "0.05", "--nk-minutes", "0"]
    args += ["--stream-minutes", "0.25", "--repeats", "1"]
    done = subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "same twitches as in 60 s chunks: yes" in out
    for figure in (
        "detector, 60 s chunks",
        "detector CPU / bare band-pass CPU",
        "detector, 50 ms chunks",
        "analyze 1 min: peak RSS",
        "analyze 3 min: peak RSS",
        "peak RSS 3 min / 1 min",
        "target(s) missed",
    ):
        assert figure in out, figure
