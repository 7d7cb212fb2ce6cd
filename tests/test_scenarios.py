"""Simulator realism (powerline, wander, lead-off) and the named scenarios with their truth."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from firmware_sim import diy as diy_sim
from firmware_sim.diy.firmware import EMG_SCALE_UV, DiyFirmware
from firmware_sim.physiology import (
    EMG_RAIL_UV,
    PRESETS,
    SiteGenerator,
    SiteModel,
    TruthEvent,
    TruthKind,
)
from firmware_sim.physiology.episodes import LEADOFF_DURATION_S, LEADOFF_PICKUP_UV
from firmware_sim.physiology.interference import MAINS_HARMONIC_FRACTION, MAINS_HARMONICS
from firmware_sim.physiology.plan import REST_MARGIN_S
from firmware_sim.scenario import ACC_FS_HZ, EMG_FS_HZ, Scenario, SiteSpec, TruthRecord
from firmware_sim.scenario_truth import truth_from_json, truth_json, write_truth
from firmware_sim.scenarios import SCENARIOS
from tests.test_physiology import model, n_acc, n_emg  # same rates as the scenarios

#: Every new component at once, dense enough that two minutes hold several lead-offs.
NOISY = {
    "twitch_rate_per_min": 30.0,
    "pop_per_hour": 60.0,
    "motion_per_hour": 60.0,
    "powerline_hz": 60.0,
    "powerline_uv": 30.0,
    "wander_uv": 80.0,
    "leadoff_per_hour": 120.0,
}
NOISY_SEED = 21
NOISY_S = 120.0
#: Only the component under test: no noise, no twitches.
SILENT = {"noise_uv_rms": 0.0, "twitch_rate_per_min": 0.0, "acc_noise_g_rms": 0.0}


def of_kind(events: list[TruthEvent], kind: TruthKind) -> list[TruthEvent]:
    return [e for e in events if e.kind is kind]


def amplitude_at(x: np.ndarray, hz: float) -> float:
    """Amplitude of the sinusoid at ``hz`` in ``x`` (a whole number of its cycles long)."""
    n = np.arange(x.size)
    return float(2 * abs(x @ np.exp(-2j * np.pi * hz * n / EMG_FS_HZ)) / x.size)


@pytest.fixture(scope="module")
def noisy() -> tuple[np.ndarray, np.ndarray, list[TruthEvent]]:
    gen = SiteGenerator(model(**NOISY), NOISY_SEED)
    return gen.emg(0, n_emg(NOISY_S)), gen.acc(0, n_acc(NOISY_S)), gen.events(0, NOISY_S)


# --- chunk invariance and seed stability ----------------------------------------------------


def test_noisy_window_holds_a_leadoff_across_a_block_edge(noisy) -> None:
    leadoffs = of_kind(noisy[2], TruthKind.LEADOFF)
    assert len(leadoffs) >= 2
    # The rail is applied per 10 s render block: one lead-off must straddle two blocks.
    assert any(math.floor(e.start_s / 10.0) < math.floor(e.end_s / 10.0) for e in leadoffs)


@pytest.mark.parametrize("chunk_seed", [0, 1, 2])
def test_random_chunks_in_random_order_are_bit_identical(noisy, chunk_seed: int) -> None:
    emg, acc, _ = noisy
    rng = np.random.default_rng(chunk_seed)
    gen = SiteGenerator(model(**NOISY), NOISY_SEED)
    for total, read, expected in ((emg.size, gen.emg, emg), (acc.shape[1], gen.acc, acc)):
        cuts = np.unique(np.concatenate(([0, total], rng.integers(0, total, 60))))
        parts = list(itertools.pairwise(cuts.tolist()))
        got = np.empty_like(expected)
        for i in rng.permutation(len(parts)):
            a, b = parts[i]
            got[..., a:b] = read(a, b)
        assert np.array_equal(got, expected)


def test_interference_changes_no_other_draw() -> None:
    """New streams come last: adding them leaves twitches, episodes and ACC as they were."""
    base = {"twitch_rate_per_min": 20.0, **PRESETS["busy"]}
    plain = SiteGenerator(model(**base), 5)
    mains = SiteGenerator(model(**base, powerline_hz=50.0, powerline_uv=20.0, wander_uv=40.0), 5)
    assert mains.events(0, 300) == plain.events(0, 300)
    assert np.array_equal(mains.acc(0, n_acc(60)), plain.acc(0, n_acc(60)))
    assert not np.array_equal(mains.emg(0, n_emg(60)), plain.emg(0, n_emg(60)))
    # A lead-off is drawn after every other kind of episode, so those stay put.
    leadoff = SiteGenerator(model(**base, leadoff_per_hour=60.0), 5)
    others = [
        e for e in leadoff.events(0, 600) if e.kind not in (TruthKind.TWITCH, TruthKind.LEADOFF)
    ]
    assert others == [e for e in plain.events(0, 600) if e.kind is not TruthKind.TWITCH]


# --- powerline and wander -------------------------------------------------------------------


@pytest.mark.parametrize(("mains_hz", "other_hz"), [(50.0, 60.0), (60.0, 50.0)])
def test_powerline_is_at_its_frequency_with_odd_harmonics(mains_hz: float, other_hz: float) -> None:
    m = model(**SILENT, powerline_hz=mains_hz, powerline_uv=30.0)
    x = SiteGenerator(m, 3).emg(0, n_emg(60))
    fundamentals = [amplitude_at(w, mains_hz) for w in x.reshape(6, -1)]  # 10 s windows
    # The slow amplitude modulation stays within +-20 %, and does move.
    assert all(0.8 * 30.0 <= a <= 1.2 * 30.0 for a in fundamentals), fundamentals
    assert np.ptp(fundamentals) > 0.2
    window = x[: n_emg(10)]
    for order, (low, high) in zip(MAINS_HARMONICS, MAINS_HARMONIC_FRACTION, strict=True):
        ratio = amplitude_at(window, order * mains_hz) / amplitude_at(window, mains_hz)
        assert low - 0.01 <= ratio <= high + 0.01, (order, ratio)
    assert amplitude_at(window, other_hz) < 0.01 and amplitude_at(window, 2 * mains_hz) < 0.01
    # Nothing but the fundamental and its odd harmonics (+-1 Hz for the modulation).
    power = np.abs(np.fft.rfft(window)) ** 2
    freqs_hz = np.fft.rfftfreq(window.size, 1 / EMG_FS_HZ)
    near = np.zeros(freqs_hz.size, bool)
    for order in (1, *MAINS_HARMONICS):
        near |= np.abs(freqs_hz - order * mains_hz) <= 1.0
    assert power[near].sum() > 0.999 * power.sum()


def test_wander_stays_below_1_hz_and_near_its_peak() -> None:
    x = SiteGenerator(model(**SILENT, wander_uv=50.0), 4).emg(0, n_emg(400))
    assert 0.4 * 50.0 < np.abs(x).max() <= 50.0
    power = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    freqs_hz = np.fft.rfftfreq(x.size, 1 / EMG_FS_HZ)
    assert power[freqs_hz > 1.0].sum() < 1e-6 * power.sum()
    assert power[(freqs_hz > 0.04) & (freqs_hz < 0.6)].sum() > 0.99 * power.sum()


def test_interference_adds_exactly_to_the_rest() -> None:
    plain = SiteGenerator(model(twitch_rate_per_min=20.0), 6)
    noisy = SiteGenerator(model(twitch_rate_per_min=20.0, wander_uv=50.0), 6)
    wander = SiteGenerator(model(**SILENT, wander_uv=50.0), 6)
    x = noisy.emg(0, n_emg(30))
    assert np.allclose(x, plain.emg(0, n_emg(30)) + wander.emg(0, n_emg(30)), atol=1e-9)


# --- lead-off -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def leadoff_site() -> tuple[SiteGenerator, np.ndarray, list[TruthEvent]]:
    gen = SiteGenerator(model(twitch_rate_per_min=30.0, leadoff_per_hour=60.0), 8)
    return gen, gen.emg(0, n_emg(600)), gen.events(0, 600)


def test_leadoff_truth(leadoff_site) -> None:
    _, _, events = leadoff_site
    leadoffs = of_kind(events, TruthKind.LEADOFF)
    assert len(leadoffs) >= 4
    for e in leadoffs:
        assert e.kind == "leadoff" and e.unit_id == -1 and not e.doublet
        assert LEADOFF_DURATION_S[0] <= e.end_s - e.start_s <= LEADOFF_DURATION_S[1]
        assert LEADOFF_PICKUP_UV[0] <= e.amplitude_uv <= LEADOFF_PICKUP_UV[1]
    for t in of_kind(events, TruthKind.TWITCH):
        for e in leadoffs:
            assert not (e.start_s - REST_MARGIN_S < t.end_s and t.start_s < e.end_s + REST_MARGIN_S)


def test_leadoff_puts_the_emg_on_the_rail_and_only_there(leadoff_site) -> None:
    _, emg, events = leadoff_site
    inside = np.zeros(emg.size, bool)
    for e in of_kind(events, TruthKind.LEADOFF):
        x = emg[math.ceil(e.start_s * EMG_FS_HZ) : math.ceil(e.end_s * EMG_FS_HZ)]
        assert np.abs(x).max() == EMG_RAIL_UV  # reached, never passed
        assert np.mean(np.abs(x) == EMG_RAIL_UV) > 0.2
        inside[math.ceil(e.start_s * EMG_FS_HZ) : math.ceil(e.end_s * EMG_FS_HZ)] = True
    assert np.abs(emg[~inside]).max() < 2000.0  # twitches and noise only


def test_leadoff_pickup_follows_the_powerline_frequency() -> None:
    def lag(hz: float) -> int:  # samples of the shortest whole number of mains cycles
        return round(EMG_FS_HZ / math.gcd(round(EMG_FS_HZ), round(hz)))

    for mains_hz, other_hz in ((50.0, 60.0), (60.0, 50.0)):
        m = model(**SILENT, leadoff_per_hour=120.0, powerline_hz=mains_hz, powerline_uv=1.0)
        gen = SiteGenerator(m, 9)
        e = of_kind(gen.events(0, 600), TruthKind.LEADOFF)[0]
        x = gen.emg(math.ceil(e.start_s * EMG_FS_HZ), math.ceil(e.end_s * EMG_FS_HZ))
        # Off the rail the pickup shows; the clipped waveform repeats at the mains, not the other.
        middle = x[x.size // 4 : x.size // 4 + n_emg(0.5)]
        assert np.ptp(middle) > 0.1 * e.amplitude_uv
        own, other = lag(mains_hz), lag(other_hz)
        assert np.allclose(middle[own:], middle[:-own], atol=0.01 * e.amplitude_uv)
        assert not np.allclose(middle[other:], middle[:-other], atol=0.1 * e.amplitude_uv)


def test_leadoff_leaves_the_accelerometer_alone() -> None:
    quiet = SiteGenerator(model(twitch_rate_per_min=0.0), 10)
    leadoff = SiteGenerator(model(twitch_rate_per_min=0.0, leadoff_per_hour=120.0), 10)
    assert of_kind(leadoff.events(0, 300), TruthKind.LEADOFF)
    assert np.array_equal(leadoff.acc(0, n_acc(300)), quiet.acc(0, n_acc(300)))


def test_rail_is_where_the_firmware_saturates(leadoff_site) -> None:
    """A railed sample leaves the DIY firmware as an int16 extreme (and flags CLIPPED)."""
    assert math.isclose(EMG_RAIL_UV, 2**15 * EMG_SCALE_UV)
    gen, _, events = leadoff_site
    firmware = DiyFirmware("left_calf", gen.model, gen.seed)
    e = of_kind(events, TruthKind.LEADOFF)[0]
    counts = firmware.expected_counts(0, n_emg(e.start_s) + 1, n_emg(e.end_s))
    assert counts.max() == np.iinfo(np.int16).max or counts.min() == np.iinfo(np.int16).min


# --- model validation and presets -----------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"powerline_hz": 55.0}, "powerline_hz"),
        ({"powerline_hz": 50.0, "powerline_uv": -1.0}, "powerline_uv"),
        ({"powerline_uv": 10.0}, "powerline_uv"),  # a level without a frequency
        ({"wander_uv": -1.0}, "wander_uv"),
        ({"leadoff_per_hour": math.nan}, "leadoff_per_hour"),
    ],
)
def test_bad_interference_fields_are_refused(bad: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        model(**bad)


def test_noisy_home_preset() -> None:
    m = model(**PRESETS["noisy_home"])
    assert (m.powerline_hz, m.powerline_uv, m.wander_uv) == (50.0, 20.0, 50.0)
    assert m.pop_per_hour > 0 and m.leadoff_per_hour > 0


# --- scenarios ------------------------------------------------------------------------------


def test_scenario_names_and_shapes() -> None:
    required = {
        "calf_rest",
        "hand_rest",
        "large_muscle",
        "voluntary",
        "walking",
        "cramps",
        "pops_leadoff",
        "mains_50hz",
        "mains_60hz",
        "low_snr",
        "busy_day",
        "acc_only_eyelid",
        "two_sites",
    }
    assert required <= set(SCENARIOS)
    for name, s in SCENARIOS.items():
        assert s.name == name and s.summary
        assert 300.0 <= s.duration_s <= 3600.0  # minutes; one active hour for FP per hour
    assert (EMG_FS_HZ, ACC_FS_HZ) == (diy_sim.EMG_FS_HZ, diy_sim.ACC_FS_HZ)


@pytest.fixture(scope="module")
def truths() -> dict[str, list[TruthRecord]]:
    return {name: s.truth() for name, s in SCENARIOS.items()}


def test_truth_is_deterministic_sorted_and_inside_the_scenario(truths) -> None:
    for name, s in SCENARIOS.items():
        records = truths[name]
        assert records, name
        assert s.truth() == records, name
        assert records == sorted(records, key=lambda r: (r.start_s, r.site)), name
        assert all(0.0 <= r.start_s < s.duration_s for r in records), name
        assert {r.site for r in records} == {spec.site for spec in s.sites}, name


def test_each_scenario_holds_what_it_tests(truths) -> None:
    def count(name: str, kind: TruthKind) -> int:
        return sum(r.kind is kind for r in truths[name])

    assert count("voluntary", TruthKind.VOLUNTARY) >= 10
    assert count("walking", TruthKind.MOTION) >= 20
    assert 3 <= count("cramps", TruthKind.CRAMP) <= 5
    assert count("pops_leadoff", TruthKind.POP) >= 5
    assert count("pops_leadoff", TruthKind.LEADOFF) >= 2
    assert {r.kind for r in truths["busy_day"]} == set(TruthKind)
    # Same seed and site: the mains scenarios have calf_rest's very twitches.
    assert truths["mains_50hz"] == truths["calf_rest"] == truths["mains_60hz"]
    eyelid = SCENARIOS["acc_only_eyelid"].sites[0]
    assert not eyelid.emg and eyelid.acc
    assert count("acc_only_eyelid", TruthKind.TWITCH) >= 20


def test_sites_get_distinct_stable_seeds() -> None:
    s = SCENARIOS["two_sites"]
    seeds = [s.site_seed(spec.site) for spec in s.sites]
    assert len(set(seeds)) == 2
    assert seeds == [SCENARIOS["two_sites"].site_seed(spec.site) for spec in s.sites]
    with pytest.raises(KeyError, match="left_calf"):
        s.generator("left_hand")


def test_truth_json_round_trips(truths, tmp_path) -> None:
    for name, s in SCENARIOS.items():
        doc = truth_json(s)
        assert json.loads(json.dumps(doc)) == doc
        assert (doc["scenario"], doc["seed"], doc["duration_s"]) == (name, s.seed, s.duration_s)
        assert [site["site"] for site in doc["sites"]] == [spec.site for spec in s.sites]
        assert truth_from_json(doc) == truths[name]
        event = doc["events"][0]
        keys = {"site", "kind", "start_s", "end_s", "peak_s", "amplitude_uv", "unit_id", "doublet"}
        assert set(event) == keys
    path = tmp_path / "busy_day.json"
    write_truth(SCENARIOS["busy_day"], path)
    assert json.loads(path.read_text(encoding="utf-8")) == truth_json(SCENARIOS["busy_day"])
    # The exported site model rebuilds the very generator.
    site = truth_json(SCENARIOS["busy_day"])["sites"][0]
    rebuilt = SiteGenerator(
        SiteModel(**{**site["model"], "gravity_g": tuple(site["model"]["gravity_g"])}), site["seed"]
    )
    assert np.array_equal(
        rebuilt.emg(0, 1000), SCENARIOS["busy_day"].generator("left_calf").emg(0, 1000)
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_renders_its_first_10_s(name: str) -> None:
    s = SCENARIOS[name]
    for spec in s.sites:
        gen = s.generator(spec.site)
        emg = gen.emg(0, round(10 * s.emg_fs_hz))
        acc = gen.acc(0, round(10 * s.acc_fs_hz))
        assert emg.shape == (round(10 * s.emg_fs_hz),) and np.isfinite(emg).all()
        assert acc.shape == (3, round(10 * s.acc_fs_hz)) and np.isfinite(acc).all()


@pytest.mark.slow  # about 15 s: every scenario's whole length (its speed is bench/accuracy.py's)
def test_every_scenario_renders_its_whole_length() -> None:
    for s in SCENARIOS.values():
        for spec in s.sites:
            gen = s.generator(spec.site)
            assert np.isfinite(gen.emg(0, round(s.duration_s * s.emg_fs_hz))).all()
            assert np.isfinite(gen.acc(0, round(s.duration_s * s.acc_fs_hz))).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"site": "calf"}, "site"),  # a limb place needs a side
        ({"site": "Left Calf"}, "site"),  # not normalised
        ({"model": {"twitch_rate": 3.0}}, "unknown"),
        ({"emg": False, "acc": False}, "channel"),
        ({"emg": False, "model": {"pop_per_hour": 6.0}}, "pop_per_hour"),
    ],
)
def test_bad_site_specs_are_refused(kwargs: dict[str, object], match: str) -> None:
    fields: dict[str, object] = {"site": "left_calf", "model": {}, **kwargs}
    with pytest.raises(ValueError, match=match):
        SiteSpec(**fields)  # type: ignore[arg-type]


def test_bad_scenarios_are_refused() -> None:
    calf = SiteSpec("left_calf", {})
    with pytest.raises(ValueError, match="distinct"):
        Scenario("x", "twice the same site", 60.0, 1, (calf, calf))
    with pytest.raises(ValueError, match="duration_s"):
        Scenario("x", "no time", 0.0, 1, (calf,))
    with pytest.raises(ValueError, match="n_units"):
        Scenario("x", "no units", 60.0, 1, (SiteSpec("left_calf", {"n_units": 0}),))
