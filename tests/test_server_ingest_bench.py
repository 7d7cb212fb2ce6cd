"""The server ingest bench runs end to end on tiny numbers (figures are not checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.services import mosquitto_path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "server_ingest.py"


@pytest.mark.mqtt5
def test_quick_mode_prints_every_figure() -> None:
    if mosquitto_path() is None:
        pytest.skip("needs Mosquitto (not on PATH)")
    args = ["--quick", "--windows", "300", "--users", "3", "--memory-windows", "150"]
    done = subprocess.run(
        [sys.executable, str(BENCH), *args, "--repeats", "2"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for figure in (
        "server, live stream end to end",
        "bare subscriber, live stream",
        "server / bare, live stream",
        "server, draining a backlog",
        "server / bare, backlog (capacity)",
        "rules.evaluate, 90 d x 16 sites (median)",
        "whole evaluation of the user (median)",
        "server peak RSS, 150 windows",
        "peak RSS 600 / 150 windows",
        "target(s) missed",
    ):
        assert figure in out, figure
    assert "first evaluation (catches up" in out
