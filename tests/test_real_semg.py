"""The real-recording part of the accuracy bench: span arithmetic, the quiet-stretch rule and
the semi-real signals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import real_semg
from bench.rest_time import as_spans, complement, inside, intersection, shrink, total_s, union
from firmware_sim.physiology.waveforms import potential_kernel


def test_span_arithmetic() -> None:
    a = as_spans([(0, 2), (1, 3), (5, 6), (7, 7)])
    assert union(a).tolist() == [[0, 3], [5, 6]] and total_s(a) == 4.0
    assert intersection(a, [(2.5, 5.5)]).tolist() == [[2.5, 3], [5, 5.5]]
    assert complement(a, 0, 10).tolist() == [[3, 5], [6, 10]]
    assert total_s(complement(a, 0, 10)) + total_s(a) == 10.0
    assert shrink(a, 0.6, 0.5).tolist() == [[0.6, 2.4]]
    assert inside(np.array([0.5, 3.0, 5.5, 9.0]), a).tolist() == [True, False, True, False]
    assert complement(as_spans([]), 0, 1).tolist() == [[0, 1]]


def _signal() -> tuple[np.ndarray, float, list[float], list[float]]:
    """40 s of 2 µV noise with a burst, a train of 6 potentials and 2 isolated ones."""
    fs = 1000.0
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 2.0, round(40 * fs))
    x[round(10 * fs) : round(11 * fs)] += rng.normal(0.0, 300.0, round(fs))  # a voluntary burst
    kernel, centre = potential_kernel((0.0, 1.0, 0.0), 0.0015, fs)
    train = [20.0 + 0.3 * i for i in range(6)]
    isolated = [30.0, 35.0]
    for t in train + isolated:
        i = round(t * fs) - centre
        x[i : i + kernel.size] += 40.0 * kernel
    return x, fs, train, isolated


def test_quiet_rule_skips_bursts_keeps_trains_and_cuts_isolated_potentials() -> None:
    x, fs, train, isolated = _signal()
    quiet = real_semg.quiet_stretches(x, fs)
    assert quiet.floor_uv == pytest.approx(2.0, rel=0.2)
    assert not inside(np.array([10.5]), quiet.near_floor).any()  # the burst is not quiet
    found = quiet.potentials_s[np.abs(quiet.potentials_s[:, None] - np.array(train)).min(1) < 0.01]
    assert found.size == len(train)
    assert quiet.in_train[np.isin(quiet.potentials_s, found)].all()
    assert not inside(np.array(train + isolated), quiet.judged).any()  # only noise is judged
    assert total_s(quiet.judged) > 25.0


def test_semi_real_adds_potentials_only_inside_the_judged_stretches() -> None:
    x, fs, _, _ = _signal()
    recording = real_semg.RealRecording("synthetic", "left_calf", fs, x)
    quiet = real_semg.quiet_stretches(x, fs)
    made = real_semg.semi_real(recording, quiet, 0)
    assert made.true_peak_s.size >= 5
    assert inside(made.true_peak_s, quiet.judged).all()
    added = made.signal_uv - x
    outside = ~inside(np.arange(x.size) / fs, quiet.judged)
    assert np.all(added[outside] == 0.0)
    assert np.abs(added).max() >= 30.0


def test_missing_recordings_are_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(real_semg.REAL_SEMG_ENV, str(tmp_path))
    monkeypatch.setattr(real_semg, "ROOT", tmp_path / "repo")
    with pytest.raises(FileNotFoundError, match=real_semg.REAL_SEMG_ENV):
        real_semg.real_recordings()
