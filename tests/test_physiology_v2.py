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
from firmware_sim.physiology.plan import draw_units
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
