"""Local maxima over a threshold, computed only where the threshold is crossed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d

#: Gathering windows around each sample costs (samples x window); past this multiple of the
#: signal's length a running-maximum filter over everything is cheaper (dense activity).
_GATHER_LIMIT = 4


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
    if at.size * (2 * half + 1) <= _GATHER_LIMIT * x.size:
        return x[at[:, None] + np.arange(-half, half + 1)].max(axis=1)
    return maximum_filter1d(x, 2 * half + 1)[at]


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
    above = above[(mag[above] >= mag[above - 1]) & (mag[above] >= mag[above + 1])]
    if above.size == 0:
        return above
    idx = above[mag[above] >= window_max(mag, above, half)]
    if idx.size < 2:
        return idx
    return idx[np.concatenate(([True], np.diff(idx) > half))]
