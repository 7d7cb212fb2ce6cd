"""The detector's steps on signals with known answers, then the whole site detector."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.detect import DetectorConfig, DetectorInputError, RateError, SiteDetector
from edge.detect import emg as emg_step
from edge.detect.claims import EVIDENCE_BRIDGED
from edge.detect.design import EmgDesign
from edge.detect.detections import merge_spans
from edge.detect.floor import FloorState, track_floor
from edge.detect.mains import MainsState, cancel_mains
from edge.detect.runs import RunTracker
from firmware_sim.scenarios import SCENARIOS
from twitchwatch.contract import Kind, Reason

FS = 2000.0
FA = 416.0
CFG = DetectorConfig()


def noise(seconds: float, rms_uv: float = 3.0, seed: int = 0, fs: float = FS) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, rms_uv, int(seconds * fs))


def potential(p2p_uv: float, fs: float = FS, sigma_s: float = 0.0012) -> np.ndarray:
    """A biphasic potential (1st derivative of a Gaussian) of the given peak-to-peak."""
    t = np.arange(-5 * sigma_s, 5 * sigma_s, 1 / fs)
    w = -t / sigma_s * np.exp(-0.5 * (t / sigma_s) ** 2)
    return w * p2p_uv / np.ptp(w)


def add_at(x: np.ndarray, times_s, wave: np.ndarray, fs: float = FS) -> np.ndarray:
    for t in times_s:
        i = round(t * fs) - wave.size // 2
        x[i : i + wave.size] += wave
    return x


def detect(emg_uv=None, acc_g=None, chunk_s: float = 7.3, fs=FS, fa=FA, config=CFG):
    det = SiteDetector(
        "left_calf",
        emg_fs=fs if emg_uv is not None else None,
        acc_fs=fa if acc_g is not None else None,
        config=config,
    )
    found = det.poll()
    total_s = max(
        0 if emg_uv is None else emg_uv.size / fs, 0 if acc_g is None else acc_g.shape[1] / fa
    )
    t = 0.0
    while t < total_s:
        if emg_uv is not None:
            a, b = int(t * fs), int(min(t + chunk_s, total_s) * fs)
            if a < b:
                det.feed(Kind.EMG, a, emg_uv[a:b])
        if acc_g is not None:
            a, b = int(t * fa), int(min(t + chunk_s, total_s) * fa)
            if a < b:
                det.feed(Kind.ACC, a, acc_g[:, a:b])
        found.extend(det.poll())
        t += chunk_s
    found.extend(det.finish())
    return found


def excluded_s(found, reason: Reason) -> float:
    return sum(i.end_s - i.start_s for i in found.excluded if i.reason is reason)


# --- steps ---------------------------------------------------------------------------------


def test_design_refuses_rates_too_low_for_the_band():
    with pytest.raises(RateError, match="cannot be analysed"):
        EmgDesign.build(60.0, CFG)
    design = EmgDesign.build(4000.0, CFG)
    assert design.band_hz == (20.0, 450.0)
    assert 0 < design.delay_s < 0.005  # corrected at output: a few ms at 150 Hz
    assert EmgDesign.build(500.0, CFG).band_hz[1] == pytest.approx(225.0)


def test_mains_is_cancelled_when_present_and_nothing_is_touched_when_absent():
    design = EmgDesign.build(FS, CFG)
    n_frames = 50
    t = np.arange(n_frames * design.frame_n) / FS
    clean = noise(t.size / FS, seed=1)
    line = 30.0 * np.sin(2 * np.pi * 50.0 * t + 0.3) + 8.0 * np.sin(2 * np.pi * 150.0 * t)
    frames = (clean + line).reshape(n_frames, design.frame_n)
    cleaned, amplitude, _ = cancel_mains(design, MainsState(), frames)
    residual = (cleaned - clean.reshape(n_frames, -1))[10:]  # after the 2 s estimate fills
    assert np.sqrt(np.mean(residual**2)) < 0.1 * np.sqrt(np.mean(line**2))
    # The amplitude reported is the line cancelled: 30 µV at 50 Hz once the estimate exists.
    assert amplitude[10:, list(design.line_hz).index(50.0)].mean() == pytest.approx(30.0, rel=0.1)

    quiet = clean.reshape(n_frames, -1)
    untouched, _, _ = cancel_mains(design, MainsState(), quiet)
    assert np.array_equal(untouched, quiet)


def test_mains_estimate_ignores_a_single_huge_frame():
    design = EmgDesign.build(FS, CFG)
    frames = noise(40 * design.frame_n / FS, seed=2).reshape(40, design.frame_n)
    frames[20] += 3000.0 * np.hanning(design.frame_n)  # an electrode pop
    before = frames.copy()
    cleaned, _, _ = cancel_mains(design, MainsState(), frames)
    assert np.array_equal(cleaned[21:], before[21:])  # no line was invented after the pop


def test_noise_floor_follows_quiet_at_once_and_activity_slowly():
    level = np.concatenate((np.full(50, 3.0), np.full(50, 300.0), np.full(20, 3.0)))
    floor, _ = track_floor(FloorState(), level, 5, 1.01)
    assert floor[49] == pytest.approx(3.0)
    assert floor[99] < 3.0 * 1.01**50 + 1e-9  # rose at most 1 % per step during activity
    assert floor[-1] == pytest.approx(3.0)
    # Chunked calls give the same floor.
    state, parts = FloorState(), []
    for part in np.split(level, [7, 60, 61]):
        floor_part, state = track_floor(state, part, 5, 1.01)
        parts.append(floor_part)
    assert np.allclose(np.concatenate(parts), floor)


def test_run_tracker_applies_the_isolation_rule_and_closes_runs_after_the_pause():
    tracker = RunTracker(close_s=0.25, max_s=10.0)
    starts = np.arange(0, 40) * 0.05
    flags = np.zeros(40, bool)
    flags[[2, 5, 6, 20]] = True  # 0.10, 0.25-0.35 (one run: 0.1 s apart), 1.00
    runs = tracker.push(starts[:22], 0.05, flags[:22])
    assert [(r.start_s, round(r.end_s, 6)) for r in runs] == [(0.1, 0.35)]
    assert tracker.open_start_s == 1.0  # not closed until 0.25 s of quiet follow it
    runs = tracker.push(starts[22:], 0.05, flags[22:])
    assert [(r.start_s, round(r.end_s, 6)) for r in runs] == [(1.0, 1.05)]
    assert tracker.flush() == []


def test_candidates_are_found_at_their_peaks_and_noise_alone_gives_none():
    design = EmgDesign.build(FS, CFG)
    times = np.arange(2.0, 58.0, 1.7)
    x = add_at(noise(60.0, seed=3), times, potential(120.0))
    _, cand, _ = emg_step.process(design, emg_step.start_state(design, 0), x)
    found = cand.peak[cand.shape_ok] / FS - design.delay_s
    assert found.size == times.size
    assert np.max(np.abs(found - times)) < 0.004
    assert np.allclose(cand.p2p_uv[cand.shape_ok], 120.0, rtol=0.15)
    assert np.all(
        (cand.duration_s[cand.shape_ok] > 0.003) & (cand.duration_s[cand.shape_ok] < 0.02)
    )

    _, cand, _ = emg_step.process(design, emg_step.start_state(design, 0), noise(120.0, seed=4))
    assert cand.take(cand.shape_ok).n == 0


# --- the site detector -----------------------------------------------------------------------


def test_isolated_twitches_are_counted_with_their_amplitude_and_rest_time():
    times = np.arange(3.0, 118.0, 2.3)
    found = detect(add_at(noise(120.0, seed=5), times, potential(150.0)))
    assert found.twitch_t_s.size == times.size
    assert np.max(np.abs(found.twitch_t_s - times)) < 0.004
    assert np.median(found.twitch_amplitude) == pytest.approx(150.0, rel=0.1)
    assert found.unit == "uV"
    assert found.rest_s == pytest.approx(120.0 - CFG.warmup_s, abs=0.5)


def test_blips_smaller_than_any_surface_potential_are_not_counted_on_a_quiet_amplifier():
    # A research amplifier's floor is ~1 µV: an 8 µV blip passes 5 sigmas there, yet no surface
    # fasciculation potential that small is reported (tens of µV and up).
    quiet = noise(60.0, rms_uv=0.8, seed=11)
    blips = np.arange(3.0, 58.0, 2.5)
    assert detect(add_at(quiet.copy(), blips, potential(8.0))).twitch_t_s.size == 0
    small = detect(add_at(quiet.copy(), blips, potential(14.0)))
    assert small.twitch_t_s.size == blips.size


def test_doublets_count_twice_and_sustained_firing_is_voluntary_not_twitches():
    x = noise(60.0, seed=6)
    add_at(x, [5.0, 5.033], potential(140.0))  # a same-unit repeat 33 ms later (Kleine 2012)
    rng = np.random.default_rng(7)
    train = np.sort(rng.uniform(20.0, 24.0, 300))  # continual firing of many units for 4 s
    for t, amp in zip(train, rng.uniform(50, 400, train.size), strict=True):
        add_at(x, [t], potential(float(amp), sigma_s=rng.uniform(0.0008, 0.002)))
    add_at(x, [40.0], potential(100.0))
    found = detect(x)
    assert np.allclose(found.twitch_t_s, [5.0, 5.033, 40.0], atol=0.004)
    voluntary = [i for i in found.excluded if i.reason is Reason.VOLUNTARY]
    assert len(voluntary) == 1
    assert voluntary[0].start_s < 20.0 and voluntary[0].end_s > 24.0
    assert found.cramps == []


def test_the_last_unit_slowing_down_after_a_contraction_is_not_a_twitch():
    x = noise(60.0, seed=9)
    rng = np.random.default_rng(9)
    train = np.sort(rng.uniform(20.0, 24.0, 300))  # continual firing of many units for 4 s
    for t, amp in zip(train, rng.uniform(50, 400, train.size), strict=True):
        add_at(x, [t], potential(float(amp), sigma_s=rng.uniform(0.0008, 0.002)))
    # One unit derecruits: its intervals grow past the 250 ms isolation rule, then it stops.
    tail = 24.0 + np.cumsum([0.2, 0.3, 0.4, 0.45])
    add_at(x, tail, potential(90.0))
    add_at(x, [tail[-1] + 1.5], potential(90.0))  # a twitch well after it is one
    found = detect(x)
    assert np.allclose(found.twitch_t_s, [tail[-1] + 1.5], atol=0.004)
    voluntary = [i for i in found.excluded if i.reason is Reason.VOLUNTARY]
    assert voluntary[-1].end_s > tail[-1]


def _tonic(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One unit firing steadily ~3 times a second for 20 s (a muscle not quite at rest), and
    isolated twitches of other units before and after it."""
    rng = np.random.default_rng(seed)
    x = noise(60.0, seed=seed)
    train = 10.0 + np.cumsum(rng.normal(1 / 3, 1 / 30, 60))
    add_at(x, train[train < 30.0], potential(110.0, sigma_s=0.0014))
    twitches = np.array([4.0, 6.5, 40.0, 47.5, 55.0])
    add_at(x, twitches, -potential(160.0, sigma_s=0.001))
    return x, twitches


def test_one_unit_firing_steadily_is_tonic_activity_not_twitches():
    x, twitches = _tonic(seed=12)
    found = detect(x)
    assert np.allclose(found.twitch_t_s, twitches, atol=0.004)
    tonic = [i for i in found.excluded if "firing steadily" in i.evidence]
    assert tonic and all(i.reason is Reason.VOLUNTARY for i in tonic)
    assert tonic[0].start_s < 10.5 and tonic[-1].end_s > 29.5
    other = detect(x, chunk_s=0.37)  # decided the same whatever the chunks
    assert np.array_equal(other.twitch_t_s, found.twitch_t_s)
    assert [(i.start_s, i.end_s) for i in other.excluded] == [
        (i.start_s, i.end_s) for i in found.excluded
    ]


def test_one_unit_twitching_at_random_is_counted_every_time():
    rng = np.random.default_rng(13)
    x = noise(90.0, seed=13)
    times = 3.0 + np.cumsum(rng.exponential(1.5, 80))  # a busy unit, at random intervals
    times = times[np.concatenate(([True], np.diff(times) > 0.3))]  # isolated by Sleutjes' rule
    times = times[(times < 87.0) & (np.diff(times, append=np.inf) > 0.3)]
    add_at(x, times, potential(120.0))
    found = detect(x)
    assert found.twitch_t_s.size >= 0.9 * times.size
    assert not any("firing steadily" in i.evidence for i in found.excluded)


def test_a_cramp_of_units_seen_fasciculating_is_one_cramp():
    rng = np.random.default_rng(8)
    x = noise(120.0, seed=8)
    shapes = [potential(180.0, sigma_s=0.001), -potential(260.0, sigma_s=0.0016)]
    for i, t in enumerate(np.arange(2.0, 40.0, 1.9)):  # both units fasciculate at rest first
        add_at(x, [t], shapes[i % 2])
    for k, shape in enumerate(shapes):  # then fire at ~14 pps, irregularly, for 20 s
        isi = rng.gamma(4.9, 1 / (14.5 * 4.9), 400)
        times = 50.0 + k * 0.03 + np.cumsum(isi)
        add_at(x, times[times < 70.0], shape * rng.normal(1.0, 0.05))
    add_at(x, [90.0, 100.0], shapes[0])
    found = detect(x)
    assert len(found.cramps) == 1
    cramp = found.cramps[0]
    assert cramp.start_s == pytest.approx(50.0, abs=0.3) and cramp.end_s == pytest.approx(
        70.0, abs=0.5
    )
    assert not np.any((found.twitch_t_s > 49.0) & (found.twitch_t_s < 71.0))
    assert np.sum(found.twitch_t_s > 85.0) == 2
    assert found.rest_s < 120.0 - 20.0


def test_motion_seen_by_the_accelerometer_is_excluded_on_the_emg_too():
    n_acc = int(60.0 * FA)
    acc = np.random.default_rng(9).normal(0.0, 0.001, (3, n_acc))
    acc[2] += 1.0  # gravity
    t = np.arange(n_acc) / FA
    moving = (t > 20.0) & (t < 30.0)
    acc[0, moving] += 0.3 * np.sin(2 * np.pi * 1.5 * t[moving])
    x = noise(60.0, seed=10)
    add_at(x, [10.0, 25.0, 45.0], potential(150.0))  # the one at 25 s is during motion
    found = detect(x, acc)
    assert np.allclose(found.twitch_t_s, [10.0, 45.0], atol=0.004)
    assert excluded_s(found, Reason.MOTION) == pytest.approx(10.0 + 2 * CFG.motion_pad_s, abs=0.6)


def test_accelerometer_only_site_counts_visible_twitches():
    n = int(60.0 * FA)
    acc = np.random.default_rng(11).normal(0.0, 0.001, (3, n))
    acc[2] += 1.0
    t = np.arange(n) / FA
    onsets = np.arange(5.0, 55.0, 4.0)
    for onset in onsets:
        x = np.clip(t - onset, 0, None)
        acc[1] += 0.03 * (x / 0.05) * np.exp(1 - x / 0.05) * (t >= onset)  # a 30 mg twitch
    found = detect(acc_g=acc)
    assert found.unit == "g"
    assert found.twitch_t_s.size == onsets.size
    assert np.all(np.isnan(found.twitch_duration_s))


def test_flat_saturated_signal_is_an_artifact_and_the_floor_recovers():
    x = add_at(noise(60.0, seed=14), [5.0, 50.0], potential(120.0))
    x[int(20 * FS) : int(25 * FS)] = 6553.6  # an open input on the rail
    found = detect(x)
    assert np.allclose(found.twitch_t_s, [5.0, 50.0], atol=0.004)
    assert excluded_s(found, Reason.ARTIFACT) >= 5.0


def test_a_gap_is_excluded_and_restarts_the_filters():
    x = add_at(noise(60.0, seed=13), [5.0, 40.0], potential(150.0))
    det = SiteDetector("left_calf", emg_fs=FS, acc_fs=None)
    det.feed(Kind.EMG, 0, x[: int(20 * FS)])
    det.feed(Kind.EMG, int(30 * FS), x[int(30 * FS) :])  # 10 s never arrived
    found = det.poll()
    found.extend(det.finish())
    assert np.allclose(found.twitch_t_s, [5.0, 40.0], atol=0.004)
    gap = excluded_s(found, Reason.GAP)
    assert 10.0 < gap < 10.0 + 2 * CFG.warmup_s + 0.3
    assert found.rest_s == pytest.approx(60.0 - gap, abs=0.01)
    with pytest.raises(DetectorInputError, match="before"):
        det.feed(Kind.EMG, 0, x[:100])


def fed_with_holes(x: np.ndarray, holes: list[tuple[float, float]], fs: float = FS):
    """``x`` fed in pieces, without the samples of each ``(from_s, seconds)`` hole."""
    det = SiteDetector("left_calf", emg_fs=fs, acc_fs=None)
    found = det.poll()
    at = 0
    for from_s, seconds in holes:
        a, b = round(from_s * fs), round((from_s + seconds) * fs)
        det.feed(Kind.EMG, at, x[at:a])
        found.extend(det.poll())
        at = b
    det.feed(Kind.EMG, at, x[at:])
    found.extend(det.finish())
    return found


def test_a_lost_notification_is_bridged_not_restarted():
    """A radio link loses a few ms now and then: only the hole is unobserved, the filters go on,
    and a twitch just after it still counts (a restart would have missed it while settling)."""
    twitches = [5.0, 20.08, 30.05, 40.0]
    x = add_at(noise(60.0, seed=13), twitches, potential(150.0))
    whole = fed_with_holes(x, [])
    holes = [(20.0, 0.02), (30.0, 0.0005), (35.0, CFG.bridge_max_s)]
    found = fed_with_holes(x, holes)
    assert np.allclose(found.twitch_t_s, twitches, atol=0.004)
    lost_s = sum(seconds for _, seconds in holes)
    assert excluded_s(found, Reason.GAP) - excluded_s(whole, Reason.GAP) == pytest.approx(
        lost_s, abs=1e-6
    )
    assert whole.rest_s - found.rest_s == pytest.approx(lost_s, abs=0.01)
    bridged = [(i.start_s, i.end_s) for i in found.excluded if i.evidence == EVIDENCE_BRIDGED]
    assert np.allclose(bridged, [(a, a + s) for a, s in holes], atol=1e-6)


def test_a_hole_longer_than_a_bridge_restarts_the_filters():
    x = add_at(noise(30.0, seed=13), [5.0, 20.08], potential(150.0))
    found = fed_with_holes(x, [(20.0, CFG.bridge_max_s + 0.01)])
    assert np.allclose(found.twitch_t_s, [5.0], atol=0.004)  # 20.08 s: the filters settle
    assert excluded_s(found, Reason.GAP) > CFG.bridge_max_s + CFG.warmup_s


def test_an_accelerometer_only_site_bridges_a_lost_frame():
    n = int(30.0 * FA)
    acc = np.random.default_rng(12).normal(0.0, 0.001, (3, n))
    acc[2] += 1.0
    det = SiteDetector("left_calf", emg_fs=None, acc_fs=FA)
    hole = slice(int(10.0 * FA), int(10.1 * FA))
    det.feed(Kind.ACC, 0, acc[:, : hole.start])
    det.feed(Kind.ACC, hole.stop, acc[:, hole.stop :])
    found = det.finish()
    bridged = [i for i in found.excluded if i.evidence == EVIDENCE_BRIDGED]
    assert np.allclose([(i.start_s, i.end_s) for i in bridged], [(10.0, hole.stop / FA)])
    assert found.twitch_t_s.size == 0  # the filler is not a twitch


def test_feeding_a_stream_the_site_does_not_have_is_an_error():
    det = SiteDetector("left_calf", emg_fs=FS, acc_fs=None)
    with pytest.raises(DetectorInputError, match="without acceleration"):
        det.feed(Kind.ACC, 0, np.zeros((3, 10)))
    with pytest.raises(DetectorInputError, match="expected"):
        det.feed(Kind.EMG, 0, np.zeros((2, 10)))


# --- chunk invariance ------------------------------------------------------------------------

_BUSY = SCENARIOS["busy_day"]
_GEN = _BUSY.generator(_BUSY.sites[0].site)
# The start of busy_day: a cramp at 8 s, before any twitch has been seen (recognised on its
# own), then twitches, motion and voluntary contractions.
_FROM_S, _SECONDS = 0.0, 150.0
_EMG = _GEN.emg(int(_FROM_S * FS), int((_FROM_S + _SECONDS) * FS)).astype(np.float32)
_ACC = _GEN.acc(int(_FROM_S * FA), int((_FROM_S + _SECONDS) * FA)).astype(np.float32)
_WHOLE = detect(_EMG, _ACC, chunk_s=1e9)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.floats(0.002, 4.0), min_size=1, max_size=40), st.integers(0, 2**31))
def test_any_chunking_gives_the_events_of_one_batch(chunks_s, seed):
    """Random chunk sizes (EMG and ACC chunked independently) give the events of one call."""
    rng = np.random.default_rng(seed)
    det = SiteDetector("left_calf", emg_fs=FS, acc_fs=FA)
    found = det.poll()
    ie = ia = 0
    k = 0
    while ie < _EMG.size or ia < _ACC.shape[1]:
        c = chunks_s[k % len(chunks_s)]
        k += 1
        ne = min(_EMG.size, ie + max(1, int(c * FS)))
        na = min(_ACC.shape[1], ia + max(1, int(rng.uniform(0.002, 4.0) * FA)))
        if ie < _EMG.size:
            det.feed(Kind.EMG, ie, _EMG[ie:ne])
        if ia < _ACC.shape[1]:
            det.feed(Kind.ACC, ia, _ACC[:, ia:na])
        ie, ia = ne, na
        found.extend(det.poll())
    found.extend(det.finish())
    assert found.twitch_t_s.size == _WHOLE.twitch_t_s.size
    assert np.allclose(found.twitch_t_s, _WHOLE.twitch_t_s, atol=1.0 / FS)
    assert len(found.cramps) == len(_WHOLE.cramps)
    key = sorted((round(i.start_s, 3), round(i.end_s, 3), i.reason) for i in found.excluded)
    assert key == sorted(
        (round(i.start_s, 3), round(i.end_s, 3), i.reason) for i in _WHOLE.excluded
    )
    assert found.rest_s == pytest.approx(_WHOLE.rest_s, abs=1e-6)
    # Where the rest was: chunking may split a span at a poll boundary, never move it.
    assert found.decided_until_s == _WHOLE.decided_until_s
    spans = merge_spans(found.rest_spans, -np.inf, np.inf)
    whole = merge_spans(_WHOLE.rest_spans, -np.inf, np.inf)
    assert spans.shape == whole.shape
    assert np.allclose(spans, whole, atol=1e-6)


#: Holes (start s, length s) in each stream of the busy excerpt: bridged ones, a long gap, and a
#: short hole 30 ms after it (the samples before it are only those since the restart).
_EMG_HOLES = [(20.0, 0.01), (40.0, 0.0005), (60.0, 1.0), (61.03, 0.005), (90.0, 0.4)]
_ACC_HOLES = [(30.0, 0.2), (70.0, 2.0), (70.0 + 2.0 + 0.05, 0.1)]


def _kept(n: int, fs: float, holes: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """The sample runs ``[a, b)`` of a stream of ``n`` samples that are not in a hole."""
    runs, at = [], 0
    for from_s, seconds in holes:
        runs.append((at, round(from_s * fs)))
        at = round((from_s + seconds) * fs)
    return [*runs, (at, n)]


def _detect_with_holes(chunk_s: list[float], seed: int):
    rng = np.random.default_rng(seed)
    det = SiteDetector("left_calf", emg_fs=FS, acc_fs=FA)
    found = det.poll()
    pieces = []  # (kind, start, data), each stream's runs cut into random chunks
    for kind, x, fs, holes in ((Kind.EMG, _EMG, FS, _EMG_HOLES), (Kind.ACC, _ACC, FA, _ACC_HOLES)):
        k = 0
        for a, b in _kept(x.shape[-1], fs, holes):
            while a < b:
                step = max(1, int(chunk_s[k % len(chunk_s)] * fs)) if chunk_s else b - a
                k += 1
                pieces.append((kind, a, x[..., a : min(b, a + step)]))
                a += step
    # Interleave the streams by time, as a live edge would feed them (ties: EMG first).
    for kind, start, data in sorted(
        pieces, key=lambda p: (p[1] / (FS if p[0] is Kind.EMG else FA), p[0] is Kind.ACC)
    ):
        det.feed(kind, start, data)
        if rng.random() < 0.5:
            found.extend(det.poll())
    found.extend(det.finish())
    return found


_HOLED = _detect_with_holes([], 0)


@settings(max_examples=6, deadline=None)
@given(st.lists(st.floats(0.002, 3.0), min_size=1, max_size=20), st.integers(0, 2**31))
def test_any_chunking_with_holes_gives_the_events_of_one_batch(chunks_s, seed):
    """Bridged holes, a long gap and a hole right after it: the filler (from the samples since
    the last restart, seeded by the hole's position) does not depend on the chunking."""
    found = _detect_with_holes(chunks_s, seed)
    assert np.allclose(found.twitch_t_s, _HOLED.twitch_t_s, atol=1.0 / FS)
    key = sorted((round(i.start_s, 3), round(i.end_s, 3), i.reason) for i in found.excluded)
    assert key == sorted(
        (round(i.start_s, 3), round(i.end_s, 3), i.reason) for i in _HOLED.excluded
    )
    assert found.rest_s == pytest.approx(_HOLED.rest_s, abs=1e-6)


def test_the_holed_excerpt_bridges_and_restarts():
    bridged = [i.start_s for i in _HOLED.excluded if i.evidence == EVIDENCE_BRIDGED]
    # The hole at 61.03 s is inside the long gap's settling; the ACC's are not the site's gaps.
    assert bridged == pytest.approx([20.0, 40.0, 90.0])
    gap = sum(i.end_s - i.start_s for i in _HOLED.excluded if i.reason is Reason.GAP)
    whole = sum(i.end_s - i.start_s for i in _WHOLE.excluded if i.reason is Reason.GAP)
    assert 1.0 + 0.4 < gap - whole < 1.0 + 0.42 + CFG.warmup_s + 0.05


def test_the_busy_scenario_excerpt_has_something_to_exclude():
    """The invariance test above must cover exclusions of every kind, or it proves little."""
    reasons = {i.reason for i in _WHOLE.excluded}
    assert {Reason.MOTION, Reason.VOLUNTARY, Reason.GAP} <= reasons
    assert _WHOLE.twitch_t_s.size > 10
    (cramp,) = _WHOLE.cramps  # the early one, decided once later twitches showed its units
    assert cramp.start_s == pytest.approx(8.0, abs=0.5) and cramp.end_s > 40.0


# --- issue 13: drift is not motion ------------------------------------------------------------


def _drift(seconds: float, seed: int, fs: float = FS) -> np.ndarray:
    """Electrode/skin drift: a few slow components, 150-400 µV at 0.05-0.3 Hz (no movement)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    out = np.zeros(t.size)
    for _ in range(3):
        amp, hz = rng.uniform(150.0, 400.0), rng.uniform(0.05, 0.3)
        out += amp * np.sin(2 * np.pi * hz * t + rng.uniform(0, 2 * np.pi))
    return out


@pytest.mark.parametrize("seed", [21, 22])
def test_drift_with_a_still_accelerometer_keeps_rest_and_finds_twitches(seed):
    seconds = 180.0
    times = np.arange(4.0, seconds - 3.0, 2.9)
    x = add_at(noise(seconds, seed=seed) + _drift(seconds, seed), times, potential(120.0))
    acc = np.random.default_rng(seed).normal(0.0, 0.001, (3, int(seconds * FA)))
    acc[2] += 1.0
    for acc_g in (acc, None):  # with a still accelerometer, and on an EMG-only site
        found = detect(x, acc_g)
        assert found.rest_s >= 0.95 * seconds
        assert excluded_s(found, Reason.MOTION) == 0.0
        assert found.twitch_t_s.size >= 0.95 * times.size
        assert np.all(np.min(np.abs(found.twitch_t_s[:, None] - times[None, :]), axis=1) < 0.005)


def test_emg_jolts_without_an_accelerometer_are_motion_and_say_so():
    x = add_at(noise(60.0, seed=23), [10.0, 50.0], potential(150.0))
    t = np.arange(x.size) / FS
    knock = (t > 25.0) & (t < 31.0)  # a cable swinging: 3 Hz, 150 µV, in-band quiet
    x[knock] += 150.0 * np.sign(np.sin(2 * np.pi * 3.0 * t[knock]))
    found = detect(x)
    motion = [i for i in found.excluded if i.reason is Reason.MOTION]
    assert motion and all("no accelerometer" in i.evidence for i in motion)
    assert sum(i.end_s - i.start_s for i in motion) >= 5.0
    assert np.allclose(found.twitch_t_s, [10.0, 50.0], atol=0.004)


# --- issue 13: a cramp on its own -----------------------------------------------------------------


def _unit_shape(rng: np.random.Generator) -> np.ndarray:
    """A bi/triphasic potential of 1 µV peak-to-peak: Hermite-Gaussian mix, 0.8-2 ms sigma."""
    sigma = rng.uniform(0.0008, 0.002)
    t = np.arange(-6 * sigma, 6 * sigma, 1 / FS) / sigma
    g = np.exp(-0.5 * t * t)
    w = (rng.uniform(-1, 1) - rng.uniform(-1, 1) * t + 0.5 * rng.uniform(-1, 1) * (t * t - 1)) * g
    return w / np.ptp(w)


def _cramp(x, rng, start_s: float, seconds: float, n_units: int) -> None:
    """Minetto 2009: units at 14.5 +- 5.1 pps (6-25), ISI CV 0.45, joining over the first 30 %."""
    for u in range(n_units):
        shape = _unit_shape(rng) * rng.uniform(150.0, 600.0)
        rate = float(np.clip(rng.normal(14.5, 5.1), 6.0, 25.0))
        on = start_s + (0.0 if u == 0 else rng.uniform(0.0, 0.3 * seconds))
        off = start_s + seconds - (0.0 if u == 0 else rng.uniform(0.0, 0.3 * seconds))
        times = on + np.cumsum(rng.gamma(1 / 0.45**2, 0.45**2 / rate, int(seconds * 30) + 10))
        for t in times[times < off]:
            add_at(x, [t], shape * np.exp(rng.normal(0.0, 0.1)))


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_a_cramp_of_units_never_seen_before_is_one_cramp_with_a_tilt_that_is_not_motion(seed):
    rng = np.random.default_rng(seed)
    seconds, start, length = 90.0, 20.0, float(rng.uniform(10.0, 40.0))
    x = noise(seconds, seed=seed)
    _cramp(x, rng, start, length, int(rng.integers(3, 9)))
    after = start + length + 5.0
    true = np.array([5.0, 12.0, after, after + 3.0])
    add_at(x, true, potential(150.0))
    acc = np.random.default_rng(seed).normal(0.0, 0.001, (3, int(seconds * FA)))
    t = np.arange(acc.shape[1]) / FA
    tilt = np.radians(6.0) * np.clip((t - start - 1.0) / 2.0, 0.0, 1.0) * (t < start + length)
    acc[1] += np.sin(tilt)  # the foot tilts a little while the calf cramps, then back
    acc[2] += np.cos(tilt)
    acc[0] += 0.004 * np.sin(2 * np.pi * 9.0 * t) * (t > start) * (t < start + length)  # tremor
    found = detect(x, acc)
    (cramp,) = found.cramps
    assert cramp.start_s == pytest.approx(start, abs=0.5)
    assert cramp.end_s == pytest.approx(start + length, abs=1.5)
    assert not np.any((found.twitch_t_s > start - 0.5) & (found.twitch_t_s < start + length + 0.5))
    assert np.all(np.min(np.abs(found.twitch_t_s[:, None] - true[None, :]), axis=0) < 0.005)
    assert found.twitch_t_s.size <= true.size + 1  # white noise alone gives one now and then
    inside = [i for i in found.excluded if i.start_s < start + length - 1 and i.end_s > start + 3]
    assert inside == []  # neither voluntary nor motion: the cramp's time is the cramp's


def test_a_long_voluntary_contraction_of_many_units_is_not_a_cramp():
    rng = np.random.default_rng(41)
    x = noise(60.0, seed=41)
    n = int(12.0 * FS)
    drive = np.clip(np.minimum(np.arange(n) / FS / 2.0, (n - np.arange(n)) / FS / 2.0), 0, 1)
    emg = np.zeros(n)
    for threshold in np.sort(rng.uniform(0.0, 0.8, 24)):  # recruited in size order, rate coded
        shape = _unit_shape(rng) * 40.0 * np.exp(2.9 * threshold)
        above = np.clip((drive - threshold) / (1.0 - threshold), 0.0, None)
        phase = np.cumsum(np.where(above > 0, 8.0 + 17.0 * above, 0.0)) / FS
        k = 1 / 0.15**2
        targets = rng.random() + np.cumsum(rng.gamma(k, 1 / k, int(phase[-1]) + 20))
        at = np.searchsorted(phase, targets[targets < phase[-1]])
        for a in at[(at > shape.size) & (at < n - shape.size)]:
            emg[a : a + shape.size] += shape
    x[int(20 * FS) : int(20 * FS) + n] += emg
    found = detect(x)
    assert found.cramps == []
    assert excluded_s(found, Reason.VOLUNTARY) >= 11.0


# --- issue 13: accelerometer-only sites ---------------------------------------------------------


@pytest.mark.parametrize("fa", [100.0, 200.0, 416.0])
def test_visible_twitches_on_an_accelerometer_only_site_and_none_during_limb_motion(fa):
    """Visible twitches of 5-40 mg lasting 40-150 ms over ~1 mg MEMS noise are found at any
    rate >= 100 Hz; those during limb movement are not counted."""
    rng = np.random.default_rng(int(fa))
    seconds = 200.0
    n = int(seconds * fa)
    t = np.arange(n) / fa
    acc = rng.normal(0.0, 0.001, (3, n))
    acc[2] += 1.0
    onsets = np.sort(rng.choice(np.arange(3.0, seconds - 3.0, 1.7), 60, replace=False))
    for onset in onsets:
        peak_g, rise_s = np.exp(rng.uniform(np.log(0.005), np.log(0.04))), rng.uniform(0.015, 0.05)
        x = np.clip(t - onset, 0, None)
        axis = rng.normal(size=3)
        acc += np.outer(axis / np.linalg.norm(axis), peak_g * (x / rise_s) * np.exp(1 - x / rise_s))
    moving = (t > 100.0) & (t < 120.0)  # the arm swings: 0.2 g at 1.2 Hz
    acc[0, moving] += 0.2 * np.sin(2 * np.pi * 1.2 * t[moving])
    found = detect(acc_g=acc, fa=fa)
    still = onsets[(onsets < 99.0) | (onsets > 121.0)]
    hit = np.min(np.abs(found.twitch_t_s[:, None] - still[None, :]), axis=0) < 0.2
    assert hit.mean() >= 0.9
    assert not np.any((found.twitch_t_s > 100.0) & (found.twitch_t_s < 120.0))
    assert found.twitch_t_s.size <= still.size + 1
    assert excluded_s(found, Reason.MOTION) >= 20.0
