"""The detector's public steps are pure: state in, state out, arguments untouched.

Each step is called twice on the same mid-stream state and the same samples. Had the first call
changed its state or its input arrays in place, the second would see other values; so equal
results, and arguments equal to a copy taken before, prove that nothing was mutated.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from edge.detect import acc, emg
from edge.detect.config import DetectorConfig
from edge.detect.design import AccDesign, EmgDesign
from edge.detect.floor import FloorState, running_median, track_floor
from edge.detect.mains import MainsState, cancel_mains
from edge.detect.templates import TemplateLibrary, confirm

FS, FA = 2000.0, 416.0
CFG = DetectorConfig()
EMG = EmgDesign.build(FS, CFG)
ACC = AccDesign.build(FA, CFG)


def _same(a: Any, b: Any) -> bool:
    """Equal values, through dataclasses, sequences and arrays (NaN equals NaN)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b


def _assert_pure(step: Callable[..., Any], *args: Any) -> Any:
    before = copy.deepcopy(args)
    first = step(*args)
    assert _same(args, before), f"{step.__name__} changed its arguments"
    assert _same(step(*args), first), f"{step.__name__} gave another result the second time"
    return first


def _emg_uv(seconds: float, seed: int) -> np.ndarray:
    """Noise, 50 Hz mains (so a line is cancelled) and biphasic potentials of two sizes (strong
    ones teach the template library, weak ones must match it)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * FS)) / FS
    x = rng.normal(0.0, 3.0, t.size) + 20.0 * np.sin(2 * np.pi * 50.0 * t + 0.4)
    s = np.arange(-10, 11) / FS
    wave = -s / 0.0012 * np.exp(-0.5 * (s / 0.0012) ** 2)
    for i, at in enumerate(np.arange(0.5, seconds - 0.5, 0.37)):
        k = round(at * FS) - 10
        x[k : k + wave.size] += wave * (80.0 if i % 3 else 25.0)
    return x


def _acc_g(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.001, (3, round(seconds * FA)))
    x[2] += 1.0
    for at in np.arange(0.4, seconds - 0.4, 0.9):  # visible twitches of 20 mg, 80 ms
        k = round(at * FA)
        x[0, k : k + 33] += 0.02 * np.hanning(33)
    return x


@pytest.fixture(scope="module")
def emg_mid() -> emg.EmgState:
    """An EMG state 10 s into a stream, with every part filled in."""
    _, _, state = emg.process(EMG, emg.start_state(EMG, 0), _emg_uv(10.0, seed=1))
    assert state.templates.shapes is not None and state.templates.shapes.shape[0]
    assert state.mains.on is not None and state.mains.on.any()
    return state


def test_emg_process_is_pure(emg_mid: emg.EmgState) -> None:
    x = _emg_uv(6.03, seed=2)  # not whole frames: some samples stay pending
    subframes, candidates, after = _assert_pure(emg.process, EMG, emg_mid, x)
    assert subframes is not None and candidates.n and after.pending.size
    # Too few samples for a frame: only the pending samples change.
    _assert_pure(emg.process, EMG, emg_mid, x[:10])


def test_emg_steps_are_pure(emg_mid: emg.EmgState) -> None:
    raw = _emg_uv(4.0, seed=3)
    y, _ = _assert_pure(emg.bandpass, EMG.sos, emg_mid.bp_zi, raw)
    _assert_pure(emg.bandpass, EMG.sos, None, raw)
    frames = y.reshape(-1, EMG.frame_n)
    cleaned, line_amp, _ = _assert_pure(cancel_mains, EMG, emg_mid.mains, frames)
    assert line_amp.max() > 10.0  # the line was there and was cancelled
    _assert_pure(cancel_mains, EMG, MainsState(), frames)
    first = emg_mid.next_sample
    y = cleaned.reshape(-1)
    _, floor, _ = _assert_pure(
        emg.activity_features, EMG, emg_mid.features, raw, y, cleaned, line_amp, first
    )
    k = min(CFG.candidate_k, CFG.weak_candidate_k)
    thr = np.repeat(k * floor, EMG.frame_n)
    candidates, strong, _ = _assert_pure(emg.find_candidates, EMG, emg_mid.tail, y, thr, first, k)
    assert strong.any() and not strong.all()
    args = (candidates.template, candidates.p2p_uv, candidates.shape_ok, strong)
    _assert_pure(confirm, CFG, emg_mid.templates, *args)
    _assert_pure(confirm, CFG, TemplateLibrary(), *args)


def test_mains_step_is_pure_where_frames_hold_no_whole_cycles() -> None:
    design = EmgDesign.build(1024.0, CFG)  # 204-sample frames: 9.96 cycles of 50 Hz
    assert np.any(design.line_per_frame % 1.0)  # the phase moves from frame to frame
    t = np.arange(30 * design.frame_n) / design.fs
    x = np.random.default_rng(7).normal(0.0, 3.0, t.size) + 25.0 * np.sin(2 * np.pi * 50.0 * t)
    frames = x.reshape(30, design.frame_n)
    _, _, mid = cancel_mains(design, MainsState(), frames[:17])
    _, amplitude, _ = _assert_pure(cancel_mains, design, mid, frames[17:])
    assert amplitude.max() > 10.0


def test_floor_steps_are_pure() -> None:
    level = np.random.default_rng(4).uniform(2.0, 9.0, 40)
    _, state = track_floor(FloorState(), level[:25], 5, 1.01)
    _assert_pure(track_floor, state, level[25:], 5, 1.01)
    _assert_pure(running_median, level[:3], level[3:], 5)


@pytest.mark.parametrize("find_twitches", [False, True])
def test_acc_process_and_steps_are_pure(find_twitches: bool) -> None:
    _, _, mid = acc.process(ACC, acc.start_state(ACC, 0), _acc_g(8.0, seed=5), find_twitches)
    x = _acc_g(5.01, seed=6)
    subframes, candidates, after = _assert_pure(acc.process, ACC, mid, x, find_twitches)
    assert subframes is not None and after.pending.size
    assert (candidates.peak.size > 0) == find_twitches  # only an accelerometer-only site looks
    _assert_pure(acc.process, ACC, mid, x[:, :3], find_twitches)
    mag = np.abs(x[0] - 0.0)
    thr = np.full(mag.size, 0.005)
    found, _ = _assert_pure(acc.find_twitch_candidates, ACC, mid.tail, mag, thr, mid.next_sample)
    assert found.peak.size
