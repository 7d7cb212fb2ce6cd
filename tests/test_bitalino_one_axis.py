"""A one-axis accelerometer (the BITalino's A5) through the edge: detector, EDF and analyze."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from edge.detect.site import SiteDetector
from edge.edf import EdfRecorder, open_recording
from edge.stream import Block, StreamInfo
from firmware_sim.physiology import SiteGenerator, SiteModel
from twitchwatch.contract import Kind, Reason

FS_HZ = 1000.0
START_UTC = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def one_axis_site(seconds: float, preset: dict[str, float] | None = None):
    model = SiteModel(**(preset or {}), emg_fs_hz=FS_HZ, acc_fs_hz=FS_HZ)
    gen = SiteGenerator(model, seed=5)
    n = int(seconds * FS_HZ)
    return gen.emg(0, n)[None, :].astype(np.float32), gen.acc(0, n)[:1].astype(np.float32)


def detect(emg: np.ndarray, acc: np.ndarray, chunk: int):
    det = SiteDetector("right_forearm", emg_fs=FS_HZ, acc_fs=FS_HZ)
    for start in range(0, emg.shape[1], chunk):
        det.feed(Kind.EMG, start, emg[:, start : start + chunk])
        det.feed(Kind.ACC, start, acc[:, start : start + chunk])
    return det.finish()


def test_the_detector_takes_one_axis_in_any_chunks():
    emg, acc = one_axis_site(30.0)
    whole = detect(emg, acc, emg.shape[1])
    chunked = detect(emg, acc, 777)
    np.testing.assert_array_equal(whole.twitch_t_s, chunked.twitch_t_s)
    assert len(whole.twitch_t_s) > 0


def test_motion_along_the_one_axis_is_excluded():
    emg, acc = one_axis_site(20.0)
    t = np.arange(acc.shape[1]) / FS_HZ
    moving = (t >= 8) & (t < 12)
    acc = acc + (0.5 * np.sin(2 * np.pi * 2.0 * t) * moving).astype(np.float32)
    found = detect(emg, acc, 1000)
    motion = [x for x in found.excluded if x.reason == Reason.MOTION]
    assert motion and min(x.start_s for x in motion) < 9 and max(x.end_s for x in motion) > 11


def test_a_one_axis_stream_is_recorded_as_acc_x_and_read_back(tmp_path: Path):
    emg, acc = one_axis_site(4.0)
    infos = [
        StreamInfo("bit", "right_forearm", Kind.EMG, ("emg",), FS_HZ, START_UTC),
        StreamInfo("bit", "right_forearm", Kind.ACC, ("x",), FS_HZ, START_UTC),
    ]
    path = tmp_path / "bitalino.edf"
    with EdfRecorder(path, infos, START_UTC, device="bit") as rec:
        rec.write(Block(infos[0], 0, emg))
        rec.write(Block(infos[1], 0, acc))
    with open_recording(path) as recording:
        got = {(site, kind): data for site, kind, _, data in recording.chunks(100.0)}
    assert got["right_forearm", Kind.ACC].shape[0] == 1
    n = acc.shape[1]
    np.testing.assert_allclose(got["right_forearm", Kind.ACC][:, :n], acc, atol=1e-3)


def test_analyze_reads_a_one_axis_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from twitchwatch.cli import main

    emg, acc = one_axis_site(12.0)
    infos = [
        StreamInfo("bit", "left_calf", Kind.EMG, ("emg",), FS_HZ, START_UTC),
        StreamInfo("bit", "left_calf", Kind.ACC, ("x",), FS_HZ, START_UTC),
    ]
    path = tmp_path / "calf.edf"
    with EdfRecorder(path, infos, START_UTC, device="bit") as rec:
        rec.write(Block(infos[0], 0, emg))
        rec.write(Block(infos[1], 0, acc))
    assert main(["analyze", str(path), "--json"]) == 0
    assert '"left_calf"' in capsys.readouterr().out
