"""The simulated site physiology: determinism, noise floor, twitch statistics, episodes, speed."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import butter, sosfilt

from firmware_sim.physiology import (
    PRESETS,
    SiteGenerator,
    SiteModel,
    TruthEvent,
    TruthKind,
    default_site_model,
)

EMG_FS_HZ = 2000.0
ACC_FS_HZ = 416.0
#: Everything at once, at rates high enough that a minute holds every kind of episode.
CROWDED = {
    "twitch_rate_per_min": 30.0,
    "doublet_prob": 0.2,
    "voluntary_per_hour": 240.0,
    "motion_per_hour": 240.0,
    "cramp_per_hour": 120.0,
    "pop_per_hour": 240.0,
}
CROWDED_SEED = 11
CROWDED_S = 60.0


def model(**fields: object) -> SiteModel:
    return default_site_model(EMG_FS_HZ, ACC_FS_HZ, **fields)


def n_emg(seconds: float) -> int:
    return round(seconds * EMG_FS_HZ)


def n_acc(seconds: float) -> int:
    return round(seconds * ACC_FS_HZ)


def twitches(events: list[TruthEvent]) -> list[TruthEvent]:
    return [e for e in events if e.kind is TruthKind.TWITCH]


@pytest.fixture(scope="module")
def crowded() -> tuple[np.ndarray, np.ndarray, list[TruthEvent]]:
    gen = SiteGenerator(model(**CROWDED), CROWDED_SEED)
    return gen.emg(0, n_emg(CROWDED_S)), gen.acc(0, n_acc(CROWDED_S)), gen.events(0, CROWDED_S)


# --- determinism ---------------------------------------------------------------------------


def test_crowded_window_holds_every_kind(crowded) -> None:
    kinds = {e.kind for e in crowded[2]}
    # Lead-off came later, with its own model field; tests/test_scenarios.py covers its chunking.
    expected = set(TruthKind) - {TruthKind.LEADOFF}
    assert kinds == expected, "the determinism tests below must cover every kind"


def _chunks(total: int, cuts: list[int]) -> list[tuple[int, int]]:
    edges = sorted({0, total, *(c % total for c in cuts)})
    return list(itertools.pairwise(edges))


@settings(max_examples=8, deadline=None)
@given(
    emg_cuts=st.lists(st.integers(0, 10**9), max_size=40),
    acc_cuts=st.lists(st.integers(0, 10**9), max_size=40),
    order_seed=st.integers(0, 2**32 - 1),
)
def test_any_chunking_in_any_order_is_bit_identical(crowded, emg_cuts, acc_cuts, order_seed):
    emg, acc, _ = crowded
    gen = SiteGenerator(model(**CROWDED), CROWDED_SEED)
    order = np.random.default_rng(order_seed)
    emg_parts = _chunks(emg.size, emg_cuts)
    acc_parts = _chunks(acc.shape[1], acc_cuts)
    got_emg, got_acc = np.empty_like(emg), np.empty_like(acc)
    # Interleave the two streams and visit chunks out of order.
    for i in order.permutation(len(emg_parts)):
        a, b = emg_parts[i]
        got_emg[a:b] = gen.emg(a, b)
    for i in order.permutation(len(acc_parts)):
        a, b = acc_parts[i]
        got_acc[:, a:b] = gen.acc(a, b)
    assert np.array_equal(got_emg, emg)
    assert np.array_equal(got_acc, acc)


def test_small_in_order_chunks_match_one_read(crowded) -> None:
    emg, acc, _ = crowded
    gen = SiteGenerator(model(**CROWDED), CROWDED_SEED)
    rng = np.random.default_rng(0)
    pieces, start = [], 0
    while start < emg.size:
        stop = min(emg.size, start + int(rng.integers(1, 130)))
        pieces.append(gen.emg(start, stop))
        start = stop
    assert np.array_equal(np.concatenate(pieces), emg)
    acc_pieces = [gen.acc(a, min(a + 100, acc.shape[1])) for a in range(0, acc.shape[1], 100)]
    assert np.array_equal(np.concatenate(acc_pieces, axis=1), acc)


def test_events_do_not_depend_on_how_they_are_asked_for(crowded) -> None:
    events = crowded[2]
    gen = SiteGenerator(model(**CROWDED), CROWDED_SEED)
    cuts = [0.0, 3.7, 9.999, 10.0, 24.5, 41.0, CROWDED_S]
    pieces = [gen.events(a, b) for a, b in reversed(list(itertools.pairwise(cuts)))]
    assert [e for piece in reversed(pieces) for e in piece] == events
    assert [e.start_s for e in events] == sorted(e.start_s for e in events)
    assert all(0.0 <= e.start_s < CROWDED_S for e in events)


def test_a_repeat_past_its_segment_is_found_from_either_side() -> None:
    gen = SiteGenerator(model(twitch_rate_per_min=60.0, doublet_prob=0.5), 14)
    events = twitches(gen.events(0, 7200))
    spill = [
        (a, b)
        for a, b in itertools.pairwise(events)
        if b.doublet and math.floor(b.start_s / 10.0) > math.floor(a.start_s / 10.0)
    ]
    assert spill, "a repeat must cross a 10 s boundary somewhere in 2 h"
    for _, repeat in spill:
        boundary_s = math.floor(repeat.start_s / 10.0) * 10.0
        fresh = SiteGenerator(model(twitch_rate_per_min=60.0, doublet_prob=0.5), 14)
        assert repeat in fresh.events(boundary_s, boundary_s + 1.0)
        assert repeat in fresh.events(repeat.start_s, repeat.start_s + 1e-9)


def test_same_seed_same_site_other_seed_other_site() -> None:
    m = model(**PRESETS["busy"])
    a, b, c = SiteGenerator(m, 5), SiteGenerator(m, 5), SiteGenerator(m, 6)
    assert np.array_equal(a.emg(0, n_emg(20)), b.emg(0, n_emg(20)))
    assert np.array_equal(a.acc(0, n_acc(20)), b.acc(0, n_acc(20)))
    assert a.events(0, 300) == b.events(0, 300)
    assert not np.array_equal(a.emg(0, n_emg(20)), c.emg(0, n_emg(20)))
    assert not np.array_equal(a.acc(0, n_acc(20)), c.acc(0, n_acc(20)))
    assert a.events(0, 300) != c.events(0, 300)


# --- noise floor and gravity ---------------------------------------------------------------


def test_emg_noise_floor_in_band_and_acc_at_rest() -> None:
    m = model(**PRESETS["quiet"], noise_uv_rms=4.0, gravity_g=(0.1, -0.2, 0.97))
    gen = SiteGenerator(m, 1)
    sos = butter(4, (20.0, 450.0), btype="bandpass", fs=EMG_FS_HZ, output="sos")
    band = sosfilt(sos, gen.emg(0, n_emg(60)))[n_emg(1) :]  # drop the filter's start-up
    assert math.isclose(np.sqrt(np.mean(band**2)), 4.0, rel_tol=0.2)
    acc = gen.acc(0, n_acc(60))
    assert np.allclose(acc.mean(axis=1), m.gravity_g, atol=2e-4)
    assert np.allclose(acc.std(axis=1), m.acc_noise_g_rms, rtol=0.1)
    assert gen.events(0, 60) == []


def test_twitches_carry_no_dc() -> None:
    gen = SiteGenerator(model(noise_uv_rms=0.0, twitch_rate_per_min=60.0), 2)
    emg = gen.emg(0, n_emg(60))
    assert len(twitches(gen.events(0, 60))) > 40
    assert abs(emg.mean()) < 0.05


# --- twitch statistics ---------------------------------------------------------------------


@pytest.mark.parametrize(("rate_per_min", "seed"), [(12.0, 3), (40.5, 4)])
def test_twitch_count_matches_rate(rate_per_min: float, seed: int) -> None:
    gen = SiteGenerator(model(twitch_rate_per_min=rate_per_min), seed)
    primaries = [e for e in twitches(gen.events(0, 600)) if not e.doublet]
    expected = rate_per_min * 10
    assert abs(len(primaries) - expected) <= 4 * math.sqrt(expected)  # Poisson, 4 sd


@pytest.fixture(scope="module")
def dense_twitches() -> list[TruthEvent]:
    gen = SiteGenerator(model(twitch_rate_per_min=60.0, doublet_prob=0.3), 5)
    return twitches(gen.events(0, 600))


def test_twitches_are_isolated(dense_twitches) -> None:
    primaries = np.array([e.peak_s for e in dense_twitches if not e.doublet])
    assert np.diff(primaries).min() >= 0.25
    # A repeat is isolated from whatever comes after it, too.
    peaks = np.array([e.peak_s for e in dense_twitches])
    after_repeat = np.diff(peaks)[[e.doublet for e in dense_twitches[:-1]]]
    assert after_repeat.min() >= 0.25


def test_doublets_repeat_the_same_unit_10_to_110_ms_later(dense_twitches) -> None:
    pairs = [(a, b) for a, b in itertools.pairwise(dense_twitches) if b.doublet]
    primaries = [e for e in dense_twitches if not e.doublet]
    assert abs(len(pairs) - 0.3 * len(primaries)) <= 4 * math.sqrt(0.21 * len(primaries))
    intervals_s = np.array([b.peak_s - a.peak_s for a, b in pairs])
    assert all(a.unit_id == b.unit_id and not a.doublet for a, b in pairs)
    assert intervals_s.min() >= 0.010 and intervals_s.max() <= 0.110
    assert 0.025 <= np.median(intervals_s) <= 0.040  # Kleine 2012: peak at 32-35 ms


def test_twitch_truth_matches_the_emg() -> None:
    m = model(noise_uv_rms=0.0, twitch_rate_per_min=30.0, n_units=6)
    gen = SiteGenerator(m, 6)
    emg = gen.emg(0, n_emg(300))
    events = twitches(gen.events(0, 300))
    peaks_s = np.array([e.peak_s for e in events])
    checked = 0
    for e in events:
        if np.sum(np.abs(peaks_s - e.peak_s) < 0.05) > 1:
            continue  # a doublet's potentials overlap
        a, b = n_emg(e.start_s) - n_emg(0.01), n_emg(e.end_s) + n_emg(0.01)
        window = emg[a:b]
        assert math.isclose(np.ptp(window), e.amplitude_uv, rel_tol=1e-9)
        assert a + int(np.argmax(np.abs(window))) == n_emg(e.peak_s)
        assert 0.004 <= e.end_s - e.start_s <= 0.020  # 5-20 ms potentials
        assert 30.0 <= e.amplitude_uv <= 1500.0
        assert 0 <= e.unit_id < m.n_units
        checked += 1
    assert checked > 100
    # Between potentials the noiseless EMG is flat.
    busy = np.zeros(emg.size, bool)
    for e in events:
        busy[n_emg(e.start_s) - n_emg(0.01) : n_emg(e.end_s) + n_emg(0.01)] = True
    assert np.abs(emg[~busy]).max() < 1.0


def test_twitch_amplitude_survives_noise() -> None:
    gen = SiteGenerator(model(twitch_rate_per_min=20.0), 7)
    emg = gen.emg(0, n_emg(300))
    events = [e for e in twitches(gen.events(0, 300)) if not e.doublet]
    for e in events[:40]:
        window = emg[n_emg(e.peak_s) - n_emg(0.015) : n_emg(e.peak_s) + n_emg(0.015)]
        assert abs(np.ptp(window) - e.amplitude_uv) <= 0.05 * e.amplitude_uv + 8 * 3.0


def test_mechanical_twitch_follows_the_potential() -> None:
    m = model(noise_uv_rms=0.0, acc_noise_g_rms=0.0, twitch_rate_per_min=10.0, doublet_prob=0.0)
    gen = SiteGenerator(m, 8)
    acc = gen.acc(0, n_acc(300)) - np.array(m.gravity_g)[:, None]
    events = twitches(gen.events(0, 300))
    checked = 0
    for previous, e in itertools.pairwise(events):
        if e.peak_s - previous.peak_s < 1.2:
            continue  # the previous twitch's tail is still there
        checked += 1
        p = n_acc(e.peak_s)
        before = acc[:, p - n_acc(0.2) : p + n_acc(0.015)]
        after = np.linalg.norm(acc[:, p + n_acc(0.015) : p + n_acc(0.9)], axis=0)
        assert np.abs(before).max() < 1e-12
        assert 0.2 * m.twitch_acc_g < after.max() < 4 * m.twitch_acc_g
    assert checked > 20


# --- episodes ------------------------------------------------------------------------------


def test_no_twitch_inside_any_episode(crowded) -> None:
    events = crowded[2]
    episodes = [e for e in events if e.kind is not TruthKind.TWITCH]
    for t in twitches(events):
        assert not any(e.start_s <= t.peak_s <= e.end_s for e in episodes), t


def test_a_cramp_is_one_event_of_many_discharges() -> None:
    m = model(twitch_rate_per_min=30.0, cramp_per_hour=60.0)
    gen = SiteGenerator(m, 9)
    events = gen.events(0, 300)
    cramps = [e for e in events if e.kind is TruthKind.CRAMP]
    assert cramps, "seed 9 must hold a cramp in 5 minutes"
    for c in cramps:
        assert 10.0 <= c.end_s - c.start_s <= 40.0
        assert 0 <= c.unit_id < m.n_units
        inside = [e for e in events if c.start_s - 0.25 <= e.start_s <= c.end_s + 0.25]
        assert [e.kind for e in inside].count(TruthKind.TWITCH) == 0
        # Many potentials: the unit discharges at 6-25 pps all through.
        emg = gen.emg(n_emg(c.start_s), n_emg(c.end_s))
        loud = np.abs(emg) > 0.2 * c.amplitude_uv
        onsets = np.flatnonzero(loud[1:] & ~loud[:-1]).size
        assert onsets >= 6 * (c.end_s - c.start_s) * 0.5


def test_voluntary_and_motion_show_in_both_signals(crowded) -> None:
    emg, acc, events = crowded
    dynamic_g = np.linalg.norm(acc - np.array([[0.0], [0.0], [1.0]]), axis=0)
    for e in events:
        if e.kind is TruthKind.VOLUNTARY:
            middle = emg[n_emg(e.start_s + 0.45 * (e.end_s - e.start_s)) :][: n_emg(0.5)]
            assert np.sqrt(np.mean(middle**2)) > 0.3 * e.amplitude_uv
        if e.kind in (TruthKind.VOLUNTARY, TruthKind.MOTION):
            moving = dynamic_g[n_acc(e.start_s) : n_acc(e.end_s)]
            assert moving.max() > 0.01  # > 10 mg: far above noise and twitches
    rest = ~np.zeros(acc.shape[1], bool)
    for e in events:
        if e.kind is not TruthKind.TWITCH:
            rest[n_acc(e.start_s) : n_acc(e.end_s + 1.0)] = False
    assert dynamic_g[rest].max() < 0.012


def test_motion_artifact_is_low_frequency() -> None:
    m = model(noise_uv_rms=0.0, twitch_rate_per_min=0.0, motion_per_hour=120.0)
    gen = SiteGenerator(m, 10)
    motions = [e for e in gen.events(0, 600) if e.kind is TruthKind.MOTION]
    alone = [
        e
        for e in motions
        if not any(o is not e and o.start_s < e.end_s and e.start_s < o.end_s for o in motions)
    ]
    assert alone
    e = alone[0]
    x = gen.emg(n_emg(e.start_s), n_emg(e.end_s))
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs_hz = np.fft.rfftfreq(x.size, 1 / EMG_FS_HZ)
    assert power[freqs_hz < 25].sum() > 0.95 * power.sum()
    assert math.isclose(np.abs(x).max(), e.amplitude_uv, rel_tol=0.01)


def test_pop_is_a_large_decaying_spike() -> None:
    gen = SiteGenerator(model(twitch_rate_per_min=0.0, pop_per_hour=60.0), 12)
    pops = [e for e in gen.events(0, 600) if e.kind is TruthKind.POP]
    assert pops and pops[0].kind == "artifact"
    e = pops[0]
    x = np.abs(gen.emg(n_emg(e.start_s), n_emg(e.end_s)))
    assert x.max() > 1000.0 and math.isclose(x.max(), e.amplitude_uv, rel_tol=0.02)
    assert x[-n_emg(0.01) :].max() < 0.05 * e.amplitude_uv


# --- API, presets, validation, speed ------------------------------------------------------


def test_presets_and_defaults() -> None:
    for name, preset in PRESETS.items():
        gen = SiteGenerator(SiteModel(**preset, emg_fs_hz=EMG_FS_HZ, acc_fs_hz=ACC_FS_HZ), 0)
        assert gen.emg(0, 100).shape == (100,), name
        assert gen.acc(0, 10).shape == (3, 10), name
        assert gen.emg(5, 5).shape == (0,) and gen.acc(5, 5).shape == (3, 0)
    m = default_site_model(1000.0, 100.0, n_units=2)
    assert (m.emg_fs_hz, m.acc_fs_hz, m.n_units, m.noise_uv_rms) == (1000.0, 100.0, 2, 3.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.n_units = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "bad",
    [
        {"emg_fs_hz": 500.0},
        {"noise_uv_rms": -1.0},
        {"n_units": 0},
        {"doublet_prob": 1.5},
        {"twitch_rate_per_min": 100.0},
        {"twitch_amp_uv_median": 5000.0},
        {"gravity_g": (0.0, 1.0)},
    ],
)
def test_bad_models_are_refused(bad: dict[str, object]) -> None:
    fields = {"emg_fs_hz": EMG_FS_HZ, "acc_fs_hz": ACC_FS_HZ, **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        SiteModel(**fields)  # type: ignore[arg-type]


def test_bad_requests_are_refused() -> None:
    gen = SiteGenerator(model(), 0)
    with pytest.raises(ValueError, match="start"):
        gen.emg(-1, 10)
    with pytest.raises(ValueError, match="start"):
        gen.acc(10, 5)
    with pytest.raises(ValueError, match="finite"):
        gen.events(0.0, math.inf)
    with pytest.raises(ValueError, match="seed"):
        SiteGenerator(model(), -1)
