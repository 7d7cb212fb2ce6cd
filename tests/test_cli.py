"""The command line as a person uses it: separate sim and edge processes, config errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import ConfigError, load_config
from support.services import free_port
from twitchwatch.cli import main

TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]


@pytest.mark.slow  # real time: seconds of streaming or waiting
def test_sim_and_edge_in_separate_processes(tmp_path: Path) -> None:
    port = free_port()
    sim = subprocess.Popen(
        [
            *TWITCHWATCH,
            "sim",
            "--site",
            "left_calf",
            "--site",
            "right_hand",
            "--hci",
            f"127.0.0.1:{port}",
            "--seconds",
            "40",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "virtual radio on" in sim.stdout.readline()
        names = [sim.stdout.readline().split()[0] for _ in range(2)]
        scan = subprocess.run(
            [*TWITCHWATCH, "edge", "scan", "--sim", f"127.0.0.1:{port}", "--timeout", "1.5"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert scan.returncode == 0, scan.stderr
        assert all(name in scan.stdout for name in names)
        config = tmp_path / "edge.toml"
        config.write_text(
            f'[ble]\nbackend = "sim"\nsim_hci = "127.0.0.1:{port}"\n'
            f'[[sensor]]\nname = "{names[0]}"\nsite = "left_calf"\n'
            f'[[sensor]]\nname = "{names[1]}"\nsite = "right_hand"\n'
        )
        run = subprocess.run(
            [*TWITCHWATCH, "edge", "run", "--config", str(config), "--seconds", "9"],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert run.returncode == 0, run.stderr
        # No terminal: the log view (journald gets no terminal codes), one line per change, and
        # final lines giving each site's link and detector figures.
        assert "\x1b" not in run.stdout + run.stderr
        logged = [
            line.split("edge.run: ", 1)[1] for line in run.stderr.splitlines() if "edge.run" in line
        ]
        assert f"{names[0]} (left_calf): connected (diy, battery 100%)" in logged
        final = [line.removeprefix("final: ") for line in logged if line.startswith("final: ")]
        rows = [line for line in final if line.startswith(tuple(f"{n} (" for n in names))]
        assert len(rows) == 2 and "(left_calf)" in rows[0] and "(right_hand)" in rows[1]
        for row in rows:
            emg = re.search(r"EMG ([\d,]+) Hz", row)
            assert emg is not None and 1500 < float(emg.group(1).replace(",", "")) < 2500, row
            assert re.search(
                r"twitch(es)? in \d+ s of rest \(.+/min\), \d+ cramps?, excluded: ", row
            )
        assert final[-1] == "2 of 2 sensors streamed; every lost sample is counted as a gap."
    finally:
        sim.terminate()
        sim.wait(timeout=10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[sensor]\n", "not valid TOML"),
        ("", "no [[sensor]] entries"),
        ('[[sensor]]\nsite = "left_calf"\n', "needs a name or an address"),
        ('[[sensor]]\nname = "TW-0001"\n', "needs a site"),
        ('[[sensor]]\nname = "TW-0001"\nsite = "left_elbow"\n', "unknown site 'left_elbow'"),
        ('[[sensor]]\nname = "TW-0001"\nsite = "left_calf"\ndriver = "myo"\n', "unknown driver"),
        ('[ble]\nbackend = "usb"\n[[sensor]]\nname = "a"\nsite = "tongue"\n', "backend must be"),
        (
            '[[sensor]]\nname = "a"\nsite = "tongue"\n[[sensor]]\nname = "A"\nsite = "left_calf"\n',
            "listed twice",
        ),
    ],
)
def test_config_errors_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_config_accepts_names_addresses_and_short_sides(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text('[[sensor]]\naddress = "F4:57:00:01:1B:83"\nsite = "l_calf"\n')
    config = load_config(path)
    assert config.sensors[0].site == "left_calf" and config.sensors[0].sensor == "F4:57:00:01:1B:83"


def test_cli_reports_errors_in_one_line_with_exit_code_2(tmp_path: Path, capsys) -> None:
    assert main(["edge", "run", "--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("twitchwatch: config") and err.count("\n") == 1


def test_scenario_export_is_a_file_any_detector_can_be_judged_on(tmp_path: Path, capsys) -> None:
    import json

    import numpy as np

    assert main(["scenario", "calf_rest", "--out", str(tmp_path), "--seconds", "60"]) == 0
    edf, truth = tmp_path / "calf_rest.edf", tmp_path / "calf_rest.truth.json"
    assert edf.is_file() and truth.is_file()
    doc = json.loads(truth.read_text())
    assert doc["duration_s"] == 60 and all(e["start_s"] < 60 for e in doc["events"])
    capsys.readouterr()
    assert main(["analyze", str(edf), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    true_s = np.array([e["peak_s"] for e in doc["events"] if e["kind"] == "twitch"])
    found_s = np.array([e["t"] for e in found["events"] if e["kind"] == "twitch"])
    assert true_s.size > 5 and found_s.size == true_s.size
    assert np.max(np.abs(np.sort(found_s) - np.sort(true_s))) < 0.025


def test_unknown_scenario_is_one_line(capsys) -> None:
    assert main(["scenario", "no_such"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("twitchwatch: unknown scenario 'no_such'") and err.count("\n") == 1
