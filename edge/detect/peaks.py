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


class WindowMax:
    """Maxima of ``x`` over windows centred on given points, for one window width after another.

    Few points with narrow windows gather their windows. Otherwise running maxima by doubling
    (after p passes ``m[i] = max(x[i : i + 2^p])``, two overlapping spans cover a window) are
    built over ``x[lo:hi]``, and a later, wider query adds only the passes it lacks. A maximum
    is exact: both ways give the same values.
    """

    def __init__(self, x: np.ndarray, lo: int, hi: int) -> None:
        self._x, self._lo = x, lo  # every window queried lies in x[lo:hi]
        self._m, self._span = x[lo:hi], 1

    def at(self, at: np.ndarray, half: int) -> np.ndarray:
        """max(x[i - half : i + half + 1]) for each i in ``at``."""
        width = 2 * half + 1
        passes = (width.bit_length() - 1) - (self._span.bit_length() - 1)
        if self._span > width or (
            passes > 0 and at.size * width * _PASS_VS_GATHER <= self._m.size * passes
        ):
            return self._x[at[:, None] + np.arange(-half, half + 1)].max(axis=1)
        while 2 * self._span <= width:
            self._m = np.maximum(self._m[: -self._span], self._m[self._span :])
            self._span *= 2
        start = at - half - self._lo
        return np.maximum(self._m[start], self._m[start + width - self._span])


def window_max(x: np.ndarray, at: np.ndarray, half: int) -> np.ndarray:
    """max(x[i - half : i + half + 1]) for each i in ``at`` (every window inside ``x``)."""
    if at.size == 0:
        return np.zeros(0, x.dtype)
    return WindowMax(x, int(at.min()) - half, int(at.max()) + half + 1).at(at, half)


def peaks_over(
    mag: np.ndarray,
    thr: np.ndarray,
    half: int,
    margin: int,
    shadow: tuple[int, float] | None = None,
) -> np.ndarray:
    """Indices ``i`` in ``[margin, n - margin)`` with ``mag[i] > thr[i]`` that are the largest
    within ``+-half`` samples; of equal neighbouring maxima (a flat top) the first. With
    ``shadow = (s, fraction)``, only those at least ``fraction`` of the largest within ``+-s``.

    Parameters
    ----------
    mag : ndarray, shape (n,)
        Non-negative magnitude.
    thr : ndarray, shape (n,)
        Threshold per sample.
    half : int
        Refractory half-width in samples, ``<= margin``.
    margin : int
        Samples at each end that are only context (``>= s``).
    shadow : (int, float), optional
        Half-width in samples and fraction of the shadow test.
    """
    lo, hi = margin, mag.size - margin
    if hi <= lo:
        return np.zeros(0, np.int64)
    over = mag[lo:hi] > thr[lo:hi]
    # The largest in its window is at least its neighbours: keep those first (exact, and in
    # busy EMG a tenth of the samples over threshold, so the window test costs a tenth). Over
    # many samples, comparing whole slices is cheaper than gathering the neighbours.
    if lo >= 1 and hi < mag.size and 8 * np.count_nonzero(over) > hi - lo:
        mid = mag[lo:hi]
        over &= (mid >= mag[lo - 1 : hi - 1]) & (mid >= mag[lo + 1 : hi + 1])
        above = np.flatnonzero(over) + lo
        at = mag[above]
    else:
        above = np.flatnonzero(over) + lo
        at = mag[above]
        top = (at >= mag[above - 1]) & (at >= mag[above + 1])
        above, at = above[top], at[top]
    if above.size == 0:
        return above
    reach = max(half, shadow[0] if shadow is not None else 0)
    maxima = WindowMax(mag, int(above[0]) - reach, int(above[-1]) + reach + 1)
    idx = above[at >= maxima.at(above, half)]
    if idx.size > 1:
        idx = idx[np.concatenate(([True], np.diff(idx) > half))]
    if shadow is not None and idx.size:
        s_half, fraction = shadow
        idx = idx[mag[idx] >= fraction * maxima.at(idx, s_half)]
    return idx
