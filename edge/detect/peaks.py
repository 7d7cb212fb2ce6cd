"""Local maxima over a threshold, computed only where the threshold is crossed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A gather reads (points x window) samples; a running maximum over the whole signal makes
#: ~log2(window) passes over it, each about this many times cheaper per sample (contiguous,
#: no index arrays). The cheaper of the two is used; both give the same values.
_PASS_VS_GATHER = 10


@dataclass(frozen=True, slots=True, eq=False)
class PeakTail:
    """The last samples a peak finder has seen, and their thresholds: seen again next call, so
    a peak near a chunk edge is judged with its whole neighbourhood."""

    x: np.ndarray  # (2 h,) magnitude or signal
    thr: np.ndarray  # (2 h,) threshold per sample

    @staticmethod
    def lead_in(h: int) -> PeakTail:
        """A start: ``2 h`` virtual samples in which no peak can be found."""
        return PeakTail(np.zeros(2 * h), np.full(2 * h, np.inf))


def window_max(x: np.ndarray, at: np.ndarray, half: int) -> np.ndarray:
    """max(x[i - half : i + half + 1]) for each i in ``at`` (every window inside ``x``)."""
    width = 2 * half + 1
    passes = max(1, width.bit_length() - 1)
    if at.size * width * _PASS_VS_GATHER <= x.size * passes:
        return x[at[:, None] + np.arange(-half, half + 1)].max(axis=1)
    # Doubling: after p passes m[i] = max(x[i : i + 2^p]); two overlapping spans of 2^p cover
    # a window (a maximum is exact, so the values equal the gather's).
    lo, hi = int(at.min()) - half, int(at.max()) + half + 1
    m, span = x[lo:hi], 1
    while 2 * span <= width:
        m = np.maximum(m[:-span], m[span:])
        span *= 2
    start = at - half - lo
    return np.maximum(m[start], m[start + width - span])


def peaks_over(mag: np.ndarray, thr: np.ndarray, half: int, margin: int) -> np.ndarray:
    """Indices ``i`` in ``[margin, n - margin)`` with ``mag[i] > thr[i]`` that are the largest
    within ``+-half`` samples; of equal neighbouring maxima (a flat top) the first.

    Parameters
    ----------
    mag : ndarray, shape (n,)
        Non-negative magnitude.
    thr : ndarray, shape (n,)
        Threshold per sample.
    half : int
        Refractory half-width in samples, ``<= margin``.
    margin : int
        Samples at each end that are only context.
    """
    lo, hi = margin, mag.size - margin
    if hi <= lo:
        return np.zeros(0, np.int64)
    above = np.flatnonzero(mag[lo:hi] > thr[lo:hi]) + lo
    if above.size == 0:
        return above
    # The largest in its window is at least its neighbours: keep those first (exact, and in
    # busy EMG a tenth of the samples over threshold, so the window test costs a tenth).
    at = mag[above]
    top = (at >= mag[above - 1]) & (at >= mag[above + 1])
    above, at = above[top], at[top]
    if above.size == 0:
        return above
    idx = above[at >= window_max(mag, above, half)]
    if idx.size < 2:
        return idx
    return idx[np.concatenate(([True], np.diff(idx) > half))]
