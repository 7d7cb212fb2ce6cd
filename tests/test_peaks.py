"""Window maxima and peak picking: the fast paths give what the plain definitions give."""

from __future__ import annotations

import numpy as np
import pytest

from edge.detect.peaks import WindowMax, peaks_over, window_max


def _plain_window_max(x: np.ndarray, at: np.ndarray, half: int) -> np.ndarray:
    return np.array([x[i - half : i + half + 1].max() for i in at])


def _plain_peaks(mag, thr, half, margin, shadow=None) -> np.ndarray:
    """The rule, one sample at a time: over threshold, the largest within +-half; of maxima
    closer than half to the previous one (a flat top) only the first."""
    tops = [
        i
        for i in range(margin, mag.size - margin)
        if mag[i] > thr[i] and mag[i] == mag[i - half : i + half + 1].max()
    ]
    idx = np.array(
        [i for j, i in enumerate(tops) if j == 0 or i - tops[j - 1] > half], dtype=np.int64
    )
    if shadow is not None and idx.size:
        s, fraction = shadow
        idx = idx[mag[idx] >= fraction * _plain_window_max(mag, idx, s)]
    return idx


@pytest.mark.parametrize("seed", range(40))
def test_window_max_by_gather_or_doubling_is_the_plain_maximum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    half = int(rng.integers(0, 70))
    x = rng.integers(0, 6, int(rng.integers(2 * half + 1, 2000))).astype(float)  # ties
    at = np.sort(rng.choice(np.arange(half, x.size - half), int(rng.integers(1, 200))))
    assert np.array_equal(window_max(x, at, half), _plain_window_max(x, at, half))
    # Narrow then wide on one WindowMax (the second query reuses the first one's passes).
    maxima = WindowMax(x, 0, x.size)
    narrow, wide = max(0, half // 4), half
    inner = at[(at >= wide) & (at < x.size - wide)]
    assert np.array_equal(maxima.at(inner, narrow), _plain_window_max(x, inner, narrow))
    assert np.array_equal(maxima.at(inner, wide), _plain_window_max(x, inner, wide))


@pytest.mark.parametrize("seed", range(40))
def test_peaks_over_is_the_plain_definition(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    half = int(rng.integers(1, 25))
    s = int(rng.integers(half, 60))
    margin = s + int(rng.integers(0, 10))
    mag = np.abs(rng.normal(size=int(rng.integers(2 * margin + 1, 1500)))).round(1)
    # A low threshold crosses often (whole-slice path), a high one rarely (gather path).
    thr = np.full(mag.size, rng.choice([0.1, 1.0, 2.2]))
    expected = _plain_peaks(mag, thr, half, margin, (s, 0.5))
    assert np.array_equal(peaks_over(mag, thr, half, margin, (s, 0.5)), expected)
    assert np.array_equal(peaks_over(mag, thr, half, margin), _plain_peaks(mag, thr, half, margin))
