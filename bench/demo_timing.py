"""How long a newcomer waits: `twitchwatch demo` timed from the outside, as one run.

Runs the demo as a subprocess with plain output and stamps its lines: when the first alert fires,
when the six weeks are replayed, when it ends, and the demo process's peak memory. The issue's
target: the whole chain works and alerts arrive within two minutes on a 2-core machine.

    .venv/bin/python bench/demo_timing.py [--quick]
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Row, machine, print_table  # noqa: E402

TARGET_S = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the demo's --quick story")
    args = parser.parse_args()
    print(machine())
    command = [sys.executable, "-m", "twitchwatch", "demo", "--plain"]
    command += ["--quick"] if args.quick else []
    stamps: dict[str, float] = {}
    counted = ""
    with tempfile.TemporaryDirectory() as tmp:  # the demo writes its report into the cwd
        started = time.monotonic()
        demo = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=tmp)
        assert demo.stdout is not None
        for line in demo.stdout:
            now = time.monotonic() - started
            if line.startswith("  ALERT") and " firing " in line:
                stamps.setdefault("first alert fired", now)
            elif (day := re.match(r"day +(\d+)/(\d+) ", line)) and day[1] == day[2]:
                stamps["past six weeks replayed"] = now
            elif line.startswith("today "):
                stamps["today streamed live"] = now
            elif line.startswith("Past "):
                counted = line.strip()
        returncode = demo.wait()
        stamps["demo finished"] = time.monotonic() - started
    if returncode != 0:
        raise SystemExit(f"the demo failed (exit code {returncode})")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows = [
        Row(name, f"{seconds:.1f} s", f"<= {TARGET_S:.0f} s", seconds <= TARGET_S)
        if name == "demo finished"
        else Row(name, f"{seconds:.1f} s")
        for name, seconds in stamps.items()
    ]
    rows.append(Row("peak RSS, largest demo process", f"{peak_mb:.0f} MB"))
    print_table(rows)
    print(f"\n{counted}")


if __name__ == "__main__":
    main()
