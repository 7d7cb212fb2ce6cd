"""Exclusions as a partition: each instant of a site has at most one reason, or is rest.

Several rules may claim the same second (the accelerometer sees the arm move while the EMG shows
the contraction that moves it). Reported side by side they would be counted twice, and excluded
time plus rest would exceed the recording. Here every instant goes to the most certain claim:
gap > artifact > motion > voluntary > cramp (a cramp's time is neither rest nor an exclusion: the
cramp event stands for it). One exception, from what a cramp is: the small tilt or tremor a cramp
gives the accelerometer is the cramp's own, so accelerometer motion inside a cramp is not motion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twitchwatch.contract import Reason

#: Claims in order of certainty: lower wins.
RANKS: dict[Reason | None, int] = {
    Reason.GAP: 0,
    Reason.ARTIFACT: 1,
    Reason.MOTION: 2,
    Reason.VOLUNTARY: 3,
    None: 4,  # a cramp's time
}


@dataclass(frozen=True, slots=True)
class Claim:
    """``[start_s, end_s)`` claimed for ``reason`` (None: a cramp), with what showed it."""

    start_s: float
    end_s: float
    reason: Reason | None
    evidence: str = ""
    #: True for accelerometer motion: a cramp's own tilt or tremor explains it.
    cramp_explains: bool = False


@dataclass(frozen=True, slots=True)
class Piece:
    """A part of the partition: excluded for ``reason`` (None: a cramp's time)."""

    start_s: float
    end_s: float
    reason: Reason | None
    evidence: str


def partition(claims: list[Claim], lo: float, hi: float) -> tuple[list[Piece], np.ndarray]:
    """Split ``[lo, hi)`` into excluded pieces and rest.

    Parameters
    ----------
    claims : list of Claim
        In any order; they may overlap and reach outside ``[lo, hi)``.
    lo, hi : float
        The stretch to partition, in seconds.

    Returns
    -------
    pieces : list of Piece
        Disjoint, sorted, each with the winning claim's reason and evidence; neighbours with the
        same reason and evidence are joined.
    rest : (k, 2) ndarray
        The spans no claim covers, sorted and disjoint: together with ``pieces`` exactly
        ``[lo, hi)``.
    """
    if hi <= lo:
        return [], np.zeros((0, 2))
    claims = [c for c in claims if c.start_s < hi and c.end_s > lo]
    if not claims:  # the usual case between activity, polled every few ms when live
        return [], np.array([[lo, hi]])
    # Ties between claims of one rank go by time, not by the order they were decided in (which
    # depends on how the input was chunked).
    claims = sorted(claims, key=lambda c: (RANKS[c.reason], c.start_s, -c.end_s, c.evidence))
    starts = np.array([c.start_s for c in claims])
    ends = np.array([c.end_s for c in claims])
    edges = np.unique(np.clip(np.concatenate(([lo, hi], starts, ends)), lo, hi))
    a, b = edges[:-1], edges[1:]
    mid = 0.5 * (a + b)
    cover = (starts[None, :] <= mid[:, None]) & (mid[:, None] < ends[None, :])
    is_cramp = np.array([c.reason is None for c in claims])
    explained = np.array([c.cramp_explains for c in claims])
    in_cramp = (cover & is_cramp[None, :]).any(axis=1)
    cover &= ~(in_cramp[:, None] & explained[None, :])
    keyed = np.where(cover, np.arange(len(claims), dtype=float)[None, :], np.inf)
    best = keyed.argmin(axis=1)
    covered = np.isfinite(keyed[np.arange(best.size), best])
    pieces: list[Piece] = []
    rest: list[list[float]] = []
    for i in range(a.size):
        if not covered[i]:
            if rest and rest[-1][1] == a[i]:
                rest[-1][1] = float(b[i])
            else:
                rest.append([float(a[i]), float(b[i])])
            continue
        claim = claims[int(best[i])]
        last = pieces[-1] if pieces else None
        if (
            last is not None
            and last.end_s == a[i]
            and last.reason is claim.reason
            and last.evidence == claim.evidence
        ):
            pieces[-1] = Piece(last.start_s, float(b[i]), last.reason, last.evidence)
        else:
            pieces.append(Piece(float(a[i]), float(b[i]), claim.reason, claim.evidence))
    return pieces, np.array(rest).reshape(-1, 2)
