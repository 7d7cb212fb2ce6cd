"""bench/scoring.py against hand-made answers and an assignment-solver oracle; the NeuroKit2 baseline."""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from bench import scoring
from bench.baselines import neurokit_onsets_s
from bench.scoring import (
    CrampScore,
    TwitchScore,
    combine,
    match_twitches,
    score_cramps,
    score_twitches,
)

NO_SPANS = np.empty((0, 2))


def pairs_of(
    true_s: list[float], detected_s: list[float], tolerance_s: float = 0.025
) -> set[tuple[int, int]]:
    return {
        (int(i), int(j))
        for i, j in match_twitches(np.array(true_s), np.array(detected_s), tolerance_s)
    }


def oracle(t: np.ndarray, d: np.ndarray, tolerance_s: float) -> tuple[int, float]:
    """Most pairs, then least total |dt|, by brute force: a min-cost assignment over all pairs.

    An allowed pair costs |dt| - big, any other 0 (= left unmatched); big exceeds any total
    |dt|, so the assignment maximises the count first.
    """
    if t.size == 0 or d.size == 0:
        return 0, 0.0
    dist = np.abs(t[:, None] - d[None, :])
    allowed = dist <= tolerance_s
    big = tolerance_s * (min(t.size, d.size) + 1) + 1.0
    rows, cols = linear_sum_assignment(np.where(allowed, dist - big, 0.0))
    ok = allowed[rows, cols]
    return int(ok.sum()), float(dist[rows[ok], cols[ok]].sum())


def check_valid(pairs: np.ndarray, t: np.ndarray, d: np.ndarray, tolerance_s: float) -> None:
    assert pairs.dtype == np.intp and pairs.ndim == 2 and pairs.shape[1] == 2
    assert len(set(pairs[:, 0].tolist())) == len(pairs), "a true twitch matched twice"
    assert len(set(pairs[:, 1].tolist())) == len(pairs), "a detection matched twice"
    assert np.all(np.abs(t[pairs[:, 0]] - d[pairs[:, 1]]) <= tolerance_s)


# --- match_twitches -------------------------------------------------------------------------


def test_exact_matches_in_any_order() -> None:
    assert pairs_of([1.0, 2.0, 3.0], [3.001, 1.0, 2.01]) == {(0, 1), (1, 2), (2, 0)}


def test_two_detections_near_one_truth_the_nearer_wins() -> None:
    assert pairs_of([1.0], [0.99, 1.005]) == {(0, 1)}
    assert pairs_of([1.0], [1.005, 0.99]) == {(0, 0)}
    # ... and symmetrically, two truths near one detection.
    assert pairs_of([0.99, 1.005], [1.0]) == {(1, 0)}


def test_nearest_first_never_costs_a_match() -> None:
    # Greedy nearest-first would take 30↔18 ms (12 ms) and leave both others unmatched.
    assert pairs_of([0.0, 0.030], [0.018, 0.050]) == {(0, 0), (1, 1)}


def test_tolerance_is_inclusive_to_the_last_bit() -> None:
    tol = 2.0**-5  # 31.25 ms: every value below is exact in binary, so the boundary is exact
    assert pairs_of([1.0], [1.0 + tol], tol) == {(0, 0)}
    assert pairs_of([1.0], [1.0 - tol], tol) == {(0, 0)}
    assert pairs_of([1.0], [np.nextafter(1.0 + tol, 2.0)], tol) == set()
    assert pairs_of([1.0], [np.nextafter(1.0 - tol, 0.0)], tol) == set()
    assert pairs_of([1.0, 2.0], [1.0, 2.0], 0.0) == {(0, 0), (1, 1)}


def test_empty_inputs() -> None:
    for t, d in (([], []), ([1.0], []), ([], [1.0])):
        pairs = match_twitches(np.array(t), np.array(d))
        assert pairs.shape == (0, 2) and pairs.dtype == np.intp


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        match_twitches(np.array([1.0, np.nan]), np.array([1.0]))
    with pytest.raises(ValueError, match="1-D"):
        match_twitches(np.ones((2, 2)), np.array([1.0]))
    with pytest.raises(ValueError, match="tolerance_s"):
        match_twitches(np.array([1.0]), np.array([1.0]), -0.01)


@settings(max_examples=300, deadline=None)
@given(
    t_ms=st.lists(st.integers(0, 300), max_size=12),
    d_ms=st.lists(st.integers(0, 300), max_size=12),
    tol_ms=st.sampled_from([0, 10, 25, 40]),
)
def test_most_pairs_then_least_total_offset(t_ms: list[int], d_ms: list[int], tol_ms: int) -> None:
    # A 300 ms range holds many events within a tolerance of each other: chains, ties, doublets.
    t, d, tol = np.array(t_ms) / 1000, np.array(d_ms) / 1000, tol_ms / 1000
    pairs = match_twitches(t, d, tol)
    check_valid(pairs, t, d, tol)
    n_best, cost_best = oracle(t, d, tol)
    assert len(pairs) == n_best
    cost = float(np.abs(t[pairs[:, 0]] - d[pairs[:, 1]]).sum())
    assert cost == pytest.approx(cost_best, rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    t_ms=st.lists(st.integers(0, 300), max_size=12),
    d_ms=st.lists(st.integers(0, 300), max_size=12),
)
def test_sweep_for_dense_clusters_finds_as_many_pairs(t_ms: list[int], d_ms: list[int]) -> None:
    t, d = np.array(t_ms) / 1000, np.array(d_ms) / 1000
    old = scoring._DP_MAX_CELLS
    scoring._DP_MAX_CELLS = 0  # every cluster with >= 2 of each takes the sweep
    try:
        pairs = match_twitches(t, d, 0.025)
    finally:
        scoring._DP_MAX_CELLS = old
    check_valid(pairs, t, d, 0.025)
    assert len(pairs) == oracle(t, d, 0.025)[0]


def test_100k_sparse_events_exact() -> None:
    rng = np.random.default_rng(7)
    true_s = np.cumsum(rng.uniform(0.3, 3.0, 100_000))  # twitches >= 300 ms apart
    kept = rng.random(true_s.size) < 0.9
    hits = true_s[kept] + rng.uniform(-0.02, 0.02, kept.sum())
    false = (true_s[:-1] + true_s[1:])[:10_000] / 2  # halfway between twitches: >= 150 ms off
    detected = rng.permutation(np.concatenate((hits, false)))
    score = score_twitches(true_s, detected, NO_SPANS)
    assert score.true_positives == kept.sum()
    assert score.n_detected == kept.sum() + 10_000


def test_100k_events_closer_than_the_tolerance_exact() -> None:
    # One cluster 1000 s long: the sweep path, not a 10^10-cell table.
    true_s = np.arange(100_000) * 0.010
    pairs = match_twitches(true_s, true_s[::-1] + 0.003)
    assert len(pairs) == 100_000
    assert np.all(pairs[:, 0] + pairs[:, 1] == 99_999)


# --- score_twitches and combine -------------------------------------------------------------


def test_perfect_and_partial_scores() -> None:
    s = score_twitches(np.array([1.0, 2.0]), np.array([1.01, 2.0]), NO_SPANS)
    assert (s.true_positives, s.sensitivity, s.precision, s.f1) == (2, 1.0, 1.0, 1.0)
    s = score_twitches(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.99, 2.0, 9.0]), NO_SPANS)
    assert (s.n_true, s.n_detected, s.true_positives) == (4, 4, 2)
    assert (s.sensitivity, s.precision, s.f1) == (0.5, 0.5, 0.5)


def test_empty_cases_have_defined_ratios() -> None:
    s = score_twitches(np.array([]), np.array([]), NO_SPANS)
    assert (s.sensitivity, s.precision, s.f1, s.false_per_hour_activity) == (1.0, 1.0, 1.0, 0.0)
    s = score_twitches(np.array([]), np.array([5.0]), NO_SPANS)  # nothing to find, one false alarm
    assert (s.sensitivity, s.precision, s.f1) == (1.0, 0.0, 0.0)
    s = score_twitches(np.array([5.0]), np.array([]), NO_SPANS)  # one twitch missed
    assert (s.sensitivity, s.precision, s.f1) == (0.0, 1.0, 0.0)


def test_false_detections_in_activity() -> None:
    true_s = np.array([1.0, 5.0, 10.2])
    detected = np.array([1.0, 5.0, 10.2, 10.5, 12.0, 19.9, 30.0])
    spans = np.array([[10.0, 11.0], [10.8, 12.0], [19.0, 20.0]])  # union: [10, 12) + [19, 20)
    s = score_twitches(true_s, detected, spans)
    # 10.2 is matched, 12.0 is at a half-open end, 30.0 is at rest: 10.5 and 19.9 remain.
    assert (s.true_positives, s.false_in_activity, s.activity_s) == (3, 2, 3.0)
    assert s.false_per_hour_activity == pytest.approx(2 / (3.0 / 3600))
    padded = score_twitches(true_s, detected, spans, pad_s=0.5)
    assert (padded.false_in_activity, padded.activity_s) == (3, 3.0)  # 12.0 now in; time unpadded


def test_activity_without_time() -> None:
    s = score_twitches(np.array([]), np.array([30.0]), np.array([[30.0, 30.0]]), pad_s=0.1)
    assert (s.false_in_activity, s.activity_s, s.false_per_hour_activity) == (1, 0.0, math.inf)
    with pytest.raises(ValueError, match="stop >= start"):
        score_twitches(np.array([]), np.array([]), np.array([[2.0, 1.0]]))
    with pytest.raises(ValueError, match=r"\(k, 2\)"):
        score_twitches(np.array([]), np.array([]), np.array([1.0, 2.0, 3.0]))


def test_combine_pools_counts() -> None:
    a = score_twitches(np.array([1.0, 2.0]), np.array([1.0]), np.array([[0.0, 1800.0]]))
    b = score_twitches(np.array([]), np.array([7.0, 8.0]), np.array([[0.0, 1800.0]]))
    total = combine([a, b])
    assert total == TwitchScore(
        n_true=2,
        n_detected=3,
        true_positives=1,
        sensitivity=0.5,
        precision=1 / 3,
        f1=2 / 5,
        false_in_activity=2,
        activity_s=3600.0,
        false_per_hour_activity=2.0,
    )
    assert combine([]) == score_twitches(np.array([]), np.array([]), NO_SPANS)


# --- score_cramps ---------------------------------------------------------------------------


def test_cramps_found_split_missed_spurious() -> None:
    true_spans = np.array([[0.0, 10.0], [20.0, 30.0], [40.0, 50.0], [60.0, 70.0]])
    detected = np.array(
        [
            [1.0, 5.0],  # the only one on the first cramp
            [21.0, 24.0],  # two pieces of the second
            [26.0, 29.0],
            [55.0, 61.0],  # overlaps the fourth by 1 s
            [10.0, 12.0],  # touches the first's end: no overlap
            [80.0, 90.0],
        ]
    )
    assert score_cramps(true_spans, detected) == CrampScore(
        n_true=4, n_detected=6, found_once=2, missed=1, split=1, spurious=2
    )


def test_cramps_empty_and_invalid() -> None:
    assert score_cramps(NO_SPANS, NO_SPANS) == CrampScore(0, 0, 0, 0, 0, 0)
    assert score_cramps(np.array([[1.0, 2.0]]), NO_SPANS) == CrampScore(1, 0, 0, 1, 0, 0)
    assert score_cramps(NO_SPANS, np.array([[1.0, 2.0]])) == CrampScore(0, 1, 0, 0, 0, 1)
    with pytest.raises(ValueError, match="stop > start"):
        score_cramps(np.array([[1.0, 1.0]]), NO_SPANS)


# --- NeuroKit2 baseline (the bench extra; skipped when it is not installed) ------------------


def bursts(fs: float) -> tuple[np.ndarray, list[float]]:
    """4 s of 3 µV noise with two 0.4 s bursts of 100 µV RMS."""
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 3.0, int(4 * fs))
    starts_s = [1.0, 2.5]
    for s in starts_s:
        i = int(s * fs)
        x[i : i + int(0.4 * fs)] += rng.normal(0.0, 100.0, int(0.4 * fs))
    return x, starts_s


def test_neurokit_onsets_on_bursts() -> None:
    pytest.importorskip("neurokit2")
    fs = 2000.0
    x, starts_s = bursts(fs)
    onsets = neurokit_onsets_s(x, fs)
    assert onsets.dtype == np.float64 and onsets.ndim == 1
    assert np.all(np.diff(onsets) > 0)
    assert np.all((onsets >= 0) & (onsets < x.size / fs))
    # filtfilt smears each onset ~25 ms early; 100 ms is far from anything else.
    assert len(onsets) == 2
    assert np.all(np.abs(onsets - starts_s) < 0.1)


def test_neurokit_no_activity_is_empty_and_quiet() -> None:
    pytest.importorskip("neurokit2")
    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # NeuroKit2 warns "No events found" here ...
        assert neurokit_onsets_s(np.zeros(4000), 2000.0).size == 0
        # ... and would raise on 50 ms; no onset fits in under 0.1 s anyway.
        assert neurokit_onsets_s(np.zeros(100), 2000.0).size == 0
    assert caught == []
    assert warnings.filters == filters
    with pytest.raises(ValueError, match="finite"):
        neurokit_onsets_s(np.array([0.0, np.nan] * 1000), 2000.0)


def test_neurokit_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "neurokit2", None)  # import now raises ImportError
    with pytest.raises(RuntimeError, match=r"pip install -e '\.\[bench\]'"):
        neurokit_onsets_s(np.zeros(4000), 2000.0)
