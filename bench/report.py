"""What every benchmark prints: the machine it ran on, and its figures against their targets."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the result table; ``ok`` is None for a figure without a target."""

    name: str
    value: str
    target: str = ""
    ok: bool | None = None


def machine(*versions: str) -> str:
    """CPU model, cores, load, the code's revision and the versions that decide the figures."""
    with open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    git = ["git", "-C", str(ROOT), "describe", "--always", "--dirty"]
    code = subprocess.run(git, capture_output=True, text=True).stdout.strip() or "?"
    return (
        f"{cpu}, {len(os.sched_getaffinity(0))} cores usable, load {load}; code {code}; "
        + "; ".join((f"python {platform.python_version()}", *versions))
    )


def print_table(rows: list[Row], value_width: int = 20) -> None:
    print(f"\n{'figure':<44} {'value':>{value_width}}  {'target':<15} verdict")
    for row in rows:
        verdict = "" if row.ok is None else ("PASS" if row.ok else "MISS <<<")
        print(f"{row.name:<44} {row.value:>{value_width}}  {row.target:<15} {verdict}")
    misses = [row.name for row in rows if row.ok is False]
    print(f"\n{len(misses)} target(s) missed" + "".join(f"\n  MISS: {m}" for m in misses))
