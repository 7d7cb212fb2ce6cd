"""bench/lost_frames.py end to end on a short stream (20 s): every sensor's rows, and lost frames costing
rest only by what was lost (the restarting baseline loses far more)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "lost_frames.py"


def test_rows_for_every_sensor_and_drop_rate() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--seconds", "20"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if ", counted " in line]
    assert len(rows) == 9, done.stdout  # 3 sensors x 3 drop rates
    for row in rows:
        # name (38 columns), drop rate, lost s, rest kept, counted, "rest" R, "counted" C
        drop, _, rest, _, _, base_rest, _, _ = row[38:].split()
        assert float(rest) >= 1.0 - 2 * float(drop) - 0.01, row  # what was lost, little more
        assert float(rest) >= float(base_rest.rstrip(",")), row
        if row.startswith("BITalino"):  # a restart at every 1-sample hole
            assert float(base_rest.rstrip(",")) < 0.5, row
