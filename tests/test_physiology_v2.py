"""Simulator realism v2 (issue 13): electrode drift, cramps of unseen units with a foot tilt,
visible accelerometer twitches in any unit, and the scenarios built from them."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from edge.edf.read import open_recording
from firmware_sim.export import export_scenario
from firmware_sim.physiology import SiteGenerator, TruthKind
from firmware_sim.physiology.units import draw_units
from firmware_sim.scenarios import SCENARIOS
from tests.test_physiology import model, n_acc, n_emg
from tests.test_scenarios import SILENT

#: The quick accuracy bench scores the first 330 s: what a scenario promises must be in there.
QUICK_S = 330.0


def test_drift_is_slow_large_and_its_own_stream() -> None:
    drift = SiteGenerator(model(**SILENT, drift_uv=275.0), 4).emg(0, n_emg(600))
    rms = float(np.sqrt(np.mean(drift**2)))
    assert rms == pytest.approx(275.0 / math.sqrt(2), rel=0.25)
    assert 150.0 < np.abs(drift).max() < 3 * 275.0
    power = np.abs(np.fft.rfft(drift * np.hanning(drift.size))) ** 2
    freqs_hz = np.fft.rfftfreq(drift.size, 1 / 2000.0)
    assert power[(freqs_hz > 0.04) & (freqs_hz < 0.32)].sum() > 0.99 * power.sum()
    # Drift adds to the rest and changes no other draw: the same twitches with and without.
    plain = SiteGenerator(model(twitch_rate_per_min=20.0), 6)
    drifting = SiteGenerator(model(twitch_rate_per_min=20.0, drift_uv=275.0), 6)
    alone = SiteGenerator(model(**SILENT, drift_uv=275.0), 6)
    assert drifting.events(0, 60) == plain.events(0, 60)
    x = drifting.emg(0, n_emg(30))
    assert np.allclose(x, plain.emg(0, n_emg(30)) + alone.emg(0, n_emg(30)), atol=1e-9)
    assert np.array_equal(drifting.acc(0, n_acc(30)), plain.acc(0, n_acc(30)))


CRAMPY = {
    "n_units": 4,
    "cramp_per_hour": 60.0,
    "cramp_units_min": 3,
    "cramp_units_max": 8,
    "cramp_extra_units": 8,
    "cramp_tilt_deg": 6.0,
}


def test_cramp_only_units_never_twitch_and_cramps_use_both_kinds() -> None:
    gen = SiteGenerator(model(**CRAMPY), 11)
    events = gen.events(0, 1800)
    twitch_units = {e.unit_id for e in events if e.kind is TruthKind.TWITCH}
    cramp_units = [e.unit_id for e in events if e.kind is TruthKind.CRAMP]
    assert twitch_units <= set(range(4))
    assert len(cramp_units) >= 10
    assert any(u >= 4 for u in cramp_units) and any(u < 4 for u in cramp_units)
    assert all(e.amplitude_uv > 0 for e in events if e.kind is TruthKind.CRAMP)


def test_cramp_tilt_is_a_slow_turn_of_gravity() -> None:
    quiet = {**CRAMPY, "twitch_rate_per_min": 0.0, "acc_noise_g_rms": 0.0, "noise_uv_rms": 0.0}
    tilted = SiteGenerator(model(**quiet), 11)
    flat = SiteGenerator(model(**{**quiet, "cramp_tilt_deg": 0.0}), 11)
    cramp = next(e for e in tilted.events(0, 1800) if e.kind is TruthKind.CRAMP)
    assert cramp == next(e for e in flat.events(0, 1800) if e.kind is TruthKind.CRAMP)
    fs = 416.0
    a, b = round((cramp.start_s + 3.5) * fs), round((cramp.end_s - 3.5) * fs)
    tilt = tilted.acc(a, b) - flat.acc(a, b)  # the tilt alone
    shift = np.linalg.norm(tilt, axis=0)
    largest = 2 * math.sin(math.radians(6.0) / 2)  # chord of a 6 degree turn of 1 g
    assert 0.3 * largest < shift.max() <= largest + 1e-9
    assert np.ptp(shift) < 1e-9  # a held orientation: no movement inside the plateau
    # Gravity turns, it does not grow: |g| stays 1.
    assert np.allclose(
        np.linalg.norm(tilted.acc(a, b) - flat.acc(a, b) + [[0], [0], [1]], axis=0), 1
    )


def test_v2_defaults_leave_v1_draws_alone() -> None:
    """Visible-twitch options change the accelerometer only; the EMG and truth stay."""
    plain = SiteGenerator(model(twitch_rate_per_min=20.0), 3)
    visible = SiteGenerator(
        model(
            twitch_rate_per_min=20.0,
            twitch_acc_log_sigma=0.5,
            twitch_contraction_s_min=0.025,
            twitch_contraction_s_max=0.075,
        ),
        3,
    )
    assert visible.events(0, 60) == plain.events(0, 60)
    assert np.array_equal(visible.emg(0, n_emg(20)), plain.emg(0, n_emg(20)))


def test_cramps_unseen_units_scenario() -> None:
    s = SCENARIOS["cramps_unseen_units"]
    n_units = s.model("left_calf").n_units
    cramps = [e for e in s.truth() if e.kind is TruthKind.CRAMP]
    early = [c for c in cramps if c.end_s < QUICK_S]
    assert len(early) >= 3
    assert early[0].unit_id >= n_units  # the first cramp: units never seen twitching
    assert any(c.unit_id < n_units for c in early)
    assert all(b.start_s > a.end_s for a, b in itertools.pairwise(cramps))
    assert all(10.0 <= c.end_s - c.start_s <= 40.0 for c in cramps)


@pytest.mark.parametrize(
    ("name", "fs", "unit"),
    [("acc_visible_200hz", 200.0, "g"), ("acc_visible_416hz_ms2", 416.0, "m/s2")],
)
def test_visible_acc_scenarios_export_in_their_unit(
    name: str, fs: float, unit: str, tmp_path: Path
) -> None:
    s = SCENARIOS[name]
    spec = s.sites[0]
    assert (spec.emg, spec.acc, s.acc_fs_hz, s.acc_unit) == (False, True, fs, unit)
    assert sum(e.kind is TruthKind.TWITCH for e in s.truth() if e.start_s < QUICK_S) >= 30
    edf, _ = export_scenario(s, tmp_path, 20.0)
    with open_recording(edf) as rec:
        (site,) = rec.sites.values()
        assert (site.site, site.acc_fs, site.acc_unit, site.emg_fs) == (spec.site, fs, unit, None)
        chunks = [c for c in rec.chunks() if c[1].value == "acc"]
    read = np.concatenate([c[3] for c in chunks], axis=1)
    truth = s.generator(spec.site).acc(0, round(20.0 * fs))
    assert np.abs(read - truth).max() < 2e-4  # in g: converted back, within 16-bit steps


def test_visible_acc_twitches_are_visible() -> None:
    s = SCENARIOS["acc_visible_200hz"]
    site = s.sites[0].site
    units = draw_units(s.model(site), s.site_seed(site))
    sizes_mg = sorted(1000 * u.acc_g for u in units)
    assert sizes_mg[0] > 4.0 and sizes_mg[-1] < 45.0
    assert all(0.025 <= u.contraction_s <= 0.075 for u in units)


def test_drift_rest_has_no_motion() -> None:
    s = SCENARIOS["drift_rest"]
    assert {e.kind for e in s.truth()} == {TruthKind.TWITCH}
    gen = s.generator("left_calf")
    acc = gen.acc(0, n_acc(60))
    assert np.abs(acc - acc.mean(axis=1, keepdims=True)).max() < 0.02  # noise and twitches only
    assert np.ptp(gen.emg(0, n_emg(60))) > 200.0


def test_walking_has_steps_on_both_signals_and_is_motion() -> None:
    gen = SiteGenerator(model(walking_per_hour=60.0), 140)
    bouts = [e for e in gen.events(0, 600) if e.kind is TruthKind.MOTION]
    assert len(bouts) >= 3
    assert all(b.start_s > a.end_s for a, b in itertools.pairwise(bouts))  # one walk at a time
    bout = bouts[0]
    fs = 416.0
    acc = gen.acc(round((bout.start_s + 2) * fs), round((bout.end_s - 2) * fs))
    from scipy.signal import butter, find_peaks, sosfiltfilt

    dynamic = np.linalg.norm(acc - acc.mean(axis=1, keepdims=True), axis=0)
    assert 0.8 < dynamic.max() < 4.0  # heel strikes of 1-3 g on a swing of tenths of a g
    # This leg's strikes ring at 12-25 Hz once per stride (0.8-1 Hz); the other leg's are weaker.
    ringing = np.abs(sosfiltfilt(butter(4, 10.0, "highpass", fs=fs, output="sos"), acc, axis=1))
    ringing = ringing.max(axis=0)
    peaks, _ = find_peaks(ringing, height=0.6 * ringing.max(), distance=round(0.7 * fs))
    assert 0.6 < peaks.size / (bout.end_s - bout.start_s - 4) < 1.2
    # Twitches stay clear of the bouts.
    twitches = [e for e in gen.events(0, 600) if e.kind is TruthKind.TWITCH]
    assert not any(b.start_s - 0.2 < t.peak_s < b.end_s + 0.2 for t in twitches for b in bouts)
    emg = gen.emg(round(bout.start_s * 2000), round(bout.end_s * 2000))
    assert np.abs(emg).max() > 100.0  # step artefacts and push-off bursts
    # Chunk invariance across a bout.
    a, b = round(bout.start_s * 2000) - 5000, round(bout.end_s * 2000) + 5000
    fresh = SiteGenerator(model(walking_per_hour=60.0), 140)
    pieces = [fresh.emg(i, min(i + 7777, b)) for i in range(a, b, 7777)]
    assert np.array_equal(
        np.concatenate(pieces), SiteGenerator(model(walking_per_hour=60.0), 140).emg(a, b)
    )


def test_pink_noise_keeps_the_band_rms_and_falls_as_1_over_f() -> None:
    from scipy.signal import butter, sosfiltfilt, welch

    gen = SiteGenerator(model(**{**SILENT, "noise_uv_rms": 3.0}, noise_colour=1.0), 5)
    x = gen.emg(0, n_emg(120))
    sos = butter(4, (20, 450), btype="bandpass", fs=2000, output="sos")
    assert float(np.sqrt(np.mean(sosfiltfilt(sos, x) ** 2))) == pytest.approx(3.0, rel=0.1)
    f, p = welch(x, fs=2000, nperseg=8192)
    low, high = p[(f >= 20) & (f < 40)].mean(), p[(f >= 200) & (f < 400)].mean()
    assert 6.0 < low / high < 15.0  # a decade apart: 10x for 1/f
    # Block edges (every 10 s) are seamless: no step bigger than anywhere else.
    edge = np.abs(np.diff(gen.emg(n_emg(10) - 100, n_emg(10) + 100))).max()
    assert edge < 6 * np.abs(np.diff(x)).std()
    parts = [gen.emg(i, min(i + 9999, n_emg(30))) for i in range(0, n_emg(30), 9999)]
    assert np.array_equal(np.concatenate(parts), x[: n_emg(30)])


def test_12_bit_adc_quantises_and_saturates() -> None:
    gen = SiteGenerator(model(adc_bits=12, pop_per_hour=600.0), 5)
    x = gen.emg(0, n_emg(60))
    step = 2 * 6553.6 / 4096
    assert np.allclose(x / step, np.round(x / step))
    assert np.abs(x).max() <= 6553.6
    plain = SiteGenerator(model(pop_per_hour=600.0), 5).emg(0, n_emg(60))
    assert np.abs(x - np.clip(plain, -6553.6, 6553.6)).max() <= step / 2 + 1e-9


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("low_snr_3_5x", "noise_uv_rms", 10.0),
        ("pink_noise_12bit", "adc_bits", 12),
        ("drift_walking", "drift_uv", 250.0),
    ],
)
def test_v2_scenarios_hold_what_they_test(name: str, field: str, value: float) -> None:
    s = SCENARIOS[name]
    site = s.sites[0].site
    assert getattr(s.model(site), field) == value
    truth = [e for e in s.truth() if e.start_s < QUICK_S]
    assert sum(e.kind is TruthKind.TWITCH for e in truth) >= 40
    if name == "drift_walking":
        walking = sum(e.end_s - e.start_s for e in truth if e.kind is TruthKind.MOTION)
        assert 0.25 < walking / QUICK_S < 0.45
    if name == "low_snr_3_5x":
        ratio = np.array([e.amplitude_uv for e in truth if e.kind is TruthKind.TWITCH]) / 10.0
        assert 3.0 <= np.median(ratio) <= 5.0 and np.mean((ratio >= 3) & (ratio <= 5.5)) > 0.9


#: The truth of every scenario of the first benchmark, as it was before realism v2 (site, kind,
#: start to the µs, unit): new model options draw from new streams, so old figures stay comparable.
V1_TRUTH = {
    "calf_rest": "d1bd5ac7f05ffd41",
    "hand_rest": "06f2716b256884e4",
    "large_muscle": "73ccf6c46af0a0e4",
    "voluntary": "db096540b24fe3db",
    "walking": "0e088c569b0ba26f",
    "active_hour": "b500084a10084827",
    "cramps": "ffeff5e3fc77e193",
    "pops_leadoff": "f389baefa5aea03a",
    "mains_50hz": "d1bd5ac7f05ffd41",
    "mains_60hz": "d1bd5ac7f05ffd41",
    "low_snr": "1d73d2512fade18d",
    "busy_day": "51eee467cb0e985b",
    "acc_only_eyelid": "aea49a21de8439aa",
    "two_sites": "18b07035ce9e4991",
}


@pytest.mark.parametrize("name", sorted(V1_TRUTH))
def test_v1_scenarios_have_the_truth_they_had(name: str) -> None:
    import hashlib

    text = ";".join(
        f"{e.site},{e.kind.value},{e.start_s:.6f},{e.unit_id}" for e in SCENARIOS[name].truth()
    )
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == V1_TRUTH[name]
