"""Is a long run of continual firing a cramp? From what a cramp is, not from units seen before.

A cramp (Minetto 2009, A13; research/detector.md §2) is a few large motor units firing
involuntarily for seconds to minutes at 6-25 pps with irregular intervals (ISI CV ~0.45), without
the graded recruitment and interference pattern of a voluntary contraction, whose units fire
regularly (ISI CV 0.1-0.2). So the discharges of a long, sparse episode are sorted into units by
shape and size, and the units' firing is judged: a cramp's units fire irregularly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .emg import Candidates

#: Discharges of one episode compared pairwise at most (the matrix is this squared).
_MAX_DISCHARGES = 800
#: Units sorted out of one episode at most: a cramp involves a few (3-8).
_MAX_UNITS = 8
#: Same unit: shapes correlate at least this much and sizes differ by at most this factor.
_SAME_R = 0.95
_SAME_SIZE = 1.2
#: Intervals longer than this are pauses or missed discharges, not the unit's firing rate.
_MAX_ISI_S = 0.5
_MAD_TO_SIGMA = 1.4826
#: Share of an episode's discharges that the sorted units must explain (a cramp's 3-8 units,
#: superposed and partly missed by the sorting, still give 15-60 %; active_hour's voluntary
#: contraction that looked sparse gave 9 %).
_MIN_SORTED_SHARE = 0.15


@dataclass(frozen=True, slots=True)
class UnitFiring:
    """One unit sorted out of an episode: how many discharges, its rate, how irregular."""

    n: int
    rate_pps: float  # 1 / median interval
    irregularity: float  # robust SD of log intervals: ~CV for gamma trains (0.45 cramp)


def sort_units(discharges: Candidates, fs: float, min_n: int) -> list[UnitFiring]:
    """Group an episode's discharges into units by shape and size; the firing of each.

    Parameters
    ----------
    discharges : Candidates
        The episode's candidate potentials, in time order.
    fs : float
        Their sampling rate (peaks are in samples).
    min_n : int
        Fewest discharges that make a unit worth judging.

    Returns
    -------
    list of UnitFiring, the largest group first.
    """
    if discharges.n > _MAX_DISCHARGES:  # a contiguous stretch from the middle: whole trains
        first = (discharges.n - _MAX_DISCHARGES) // 2
        discharges = discharges.take(np.arange(first, first + _MAX_DISCHARGES))
    if discharges.n < min_n:
        return []
    r = discharges.template @ discharges.template.T  # zero-mean, unit-norm rows
    size = np.log(np.maximum(discharges.p2p_uv, 1e-9))
    same = (r >= _SAME_R) & (np.abs(size[:, None] - size[None, :]) <= np.log(_SAME_SIZE))
    free = np.ones(discharges.n, bool)
    units: list[UnitFiring] = []
    for _ in range(_MAX_UNITS):
        counts = (same & free[None, :]).sum(axis=1) * free
        seed = int(np.argmax(counts))
        if counts[seed] < min_n:
            break
        members = same[seed] & free
        free &= ~members
        t_s = discharges.peak[members] / fs
        isi = np.diff(t_s)
        isi = isi[(isi > 0) & (isi < _MAX_ISI_S)]
        if isi.size < 3:
            continue
        units.append(UnitFiring(int(members.sum()), float(1.0 / np.median(isi)), irregularity(isi)))
    return units


def irregularity(isi: np.ndarray) -> float:
    """Robust SD of log intervals (1.4826 MAD): ~CV for gamma trains; one missed discharge or
    pause hardly moves it."""
    log_isi = np.log(isi)
    return _MAD_TO_SIGMA * float(np.median(np.abs(log_isi - np.median(log_isi))))


def fires_like_a_cramp(
    units: list[UnitFiring],
    n_discharges: int,
    rate_pps: tuple[float, float],
    min_irregularity: float,
) -> bool:
    """Sorted units fire at a cramp's rates, and the units of most of their discharges
    irregularly. A cramp recruits a few units: several are sorted out, or one that makes most of
    the discharges; one unit among many small ones is not a cramp (a needle recording of a
    myopathic contraction, emgdb)."""
    low, high = rate_pps
    fit = [u for u in units if low <= u.rate_pps <= high]
    sorted_n = sum(u.n for u in fit)
    # A few units make a cramp's discharges: the units sorted out must explain a fair share of
    # them (an interference pattern leaves a few chance groups of ~5 % each).
    if not fit or sorted_n < _MIN_SORTED_SHARE * n_discharges:
        return False
    if len(fit) == 1 and fit[0].n < 0.5 * n_discharges:
        return False
    n = np.array([u.n for u in fit], dtype=float)
    irregular = np.array([u.irregularity >= min_irregularity for u in fit])
    return float(n[irregular].sum()) >= 0.5 * float(n.sum())
