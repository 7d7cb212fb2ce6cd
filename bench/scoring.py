"""Scoring detections against ground truth: twitch matching, cramp overlap, per-site and overall figures.

Everything here is pure: arrays of seconds in, frozen figures out. Scoring is per site: the
caller passes one site's truth and detections at a time, then ``combine`` sums the sites.

Ratios never come out NaN. Where a ratio would be 0/0 it is defined so that doing nothing
when there is nothing to do scores perfectly:

- ``sensitivity`` = true positives / true twitches; **1.0 when there are no true twitches**
  (nothing was missed), whatever was detected. False detections then show in ``precision``.
- ``precision`` = true positives / detections; **1.0 when nothing was detected** (nothing was
  falsely claimed), whatever the truth. Missed twitches then show in ``sensitivity``.
- ``f1`` = 2·TP / (true twitches + detections), the harmonic mean of the two above whenever
  both are defined; **1.0 when both counts are 0**. It is 0.0 when exactly one of them is 0.
- ``false_per_hour_activity`` = false detections in activity / activity hours; **0.0 when there
  was no activity time and no such false detection**, ``inf`` when zero-length activity spans
  widened by ``pad_s`` still caught a false detection (the only way to get one without time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Largest dynamic-programming table (cells, float64) that ``match_twitches`` builds for one
#: cluster of nearby events: 8 MB. Denser clusters fall back to a linear sweep that finds the
#: same number of matches but may pair them less tightly (see ``match_twitches``).
_DP_MAX_CELLS = 1_000_000

_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class TwitchScore:
    """Twitch detection figures for one site (or, from ``combine``, for several).

    Ratios follow the module docstring's definitions for empty inputs; none is ever NaN.
    """

    n_true: int  # true twitches
    n_detected: int  # detected twitches
    true_positives: int  # one-to-one matches within the tolerance
    sensitivity: float  # true_positives / n_true; 1.0 when n_true == 0
    precision: float  # true_positives / n_detected; 1.0 when n_detected == 0
    f1: float  # 2·TP / (n_true + n_detected); 1.0 when both are 0
    false_in_activity: int  # unmatched detections in truth voluntary/motion spans ± pad_s
    activity_s: float  # total truth voluntary + motion time, overlaps counted once (not padded)
    false_per_hour_activity: float  # false_in_activity per hour of activity_s; see module docstring


@dataclass(frozen=True, slots=True)
class CrampScore:
    """Cramp detection figures for one site: each true cramp is found once, split or missed."""

    n_true: int  # true cramps
    n_detected: int  # detected cramps
    found_once: int  # true cramps overlapped by exactly one detected cramp
    missed: int  # true cramps overlapped by no detected cramp
    split: int  # true cramps overlapped by more than one detected cramp
    spurious: int  # detected cramps overlapping no true cramp


def match_twitches(
    true_s: np.ndarray, detected_s: np.ndarray, tolerance_s: float = 0.025
) -> np.ndarray:
    """Pair true and detected twitches one-to-one, as many pairs as possible, nearest first.

    A pair is allowed when ``|detected - true| <= tolerance_s`` (inclusive). Among all sets of
    allowed pairs in which no true twitch and no detection is used twice, the result has the
    **largest number of pairs**, and among those the **smallest total |dt|**. So a truth with two
    detections nearby takes the nearer one, but a nearest-first greedy choice is not allowed to
    cost a match: with truths at 0 and 30 ms, detections at 18 and 50 ms and a 25 ms tolerance,
    greedy would pair 30↔18 (12 ms) and leave 0 and 50 unmatched; this returns 0↔18 and 30↔50.

    Parameters
    ----------
    true_s : (n,) array of float
        True twitch times in seconds, any order. Must be finite.
    detected_s : (m,) array of float
        Detected twitch times in seconds, any order. Must be finite.
    tolerance_s : float
        Largest allowed ``|detected - true|`` in seconds, >= 0.

    Returns
    -------
    pairs : (k, 2) array of intp
        ``pairs[:, 0]`` indexes ``true_s``, ``pairs[:, 1]`` indexes ``detected_s``; sorted by
        true time. ``k <= min(n, m)``.

    Notes
    -----
    Events are split into clusters wherever consecutive times (truth and detections merged) are
    more than ``tolerance_s`` apart, since no allowed pair can span such a gap. Clusters with
    one truth or one detection (nearly all of them for sparse twitches) are solved at once with
    numpy: the nearest partner within tolerance. Each remaining cluster is solved exactly by a
    dynamic program over its sorted truths and detections (an optimal matching never needs to
    cross pairs, so an alignment table suffices), ``O(p·q)`` for ``p`` truths and ``q``
    detections. A cluster whose table would exceed ``_DP_MAX_CELLS`` cells (only when events are
    denser than the tolerance over a long stretch) uses a linear sweep instead: each truth in
    time order takes the earliest free detection within tolerance. That sweep also finds the
    largest number of pairs, but not necessarily the smallest total |dt|. Memory is
    ``O(n + m)`` plus at most one table.
    """
    true_s = _as_times(true_s, "true_s")
    detected_s = _as_times(detected_s, "detected_s")
    if not (math.isfinite(tolerance_s) and tolerance_s >= 0):
        raise ValueError(f"tolerance_s must be a finite number >= 0, got {tolerance_s!r}")
    if true_s.size == 0 or detected_s.size == 0:
        return np.empty((0, 2), dtype=np.intp)

    true_order = np.argsort(true_s, kind="stable")
    det_order = np.argsort(detected_s, kind="stable")
    t = true_s[true_order]
    d = detected_s[det_order]
    n, m = t.size, d.size

    # Merge both sorted lists; a cluster ends wherever the next event is out of reach.
    times = np.concatenate((t, d))
    merged = np.argsort(times, kind="stable")
    breaks = np.diff(times[merged]) > tolerance_s
    cluster_of = np.empty(n + m, dtype=np.intp)
    cluster_of[merged] = np.concatenate(([0], np.cumsum(breaks)))
    n_clusters = int(cluster_of[merged[-1]]) + 1
    t_cluster = cluster_of[:n]  # non-decreasing, since t is sorted
    d_cluster = cluster_of[n:]
    n_t = np.bincount(t_cluster, minlength=n_clusters)
    n_d = np.bincount(d_cluster, minlength=n_clusters)
    t_first = np.cumsum(n_t) - n_t  # index into t of each cluster's first truth
    d_first = np.cumsum(n_d) - n_d

    pieces: list[tuple[np.ndarray, np.ndarray]] = []

    # One truth, one or more detections: its nearest detection, if within tolerance.
    star_t = (n_t == 1) & (n_d >= 1)
    sel = star_t[d_cluster]
    pieces.append(
        _nearest_per_cluster(t, d, t_first, d_cluster, sel, tolerance_s, center_is_true=True)
    )
    # One detection, two or more truths (1-1 clusters were taken above).
    star_d = (n_d == 1) & (n_t >= 2)
    sel = star_d[t_cluster]
    pieces.append(
        _nearest_per_cluster(d, t, d_first, t_cluster, sel, tolerance_s, center_is_true=False)
    )

    # The rest: two or more of each. Rare unless twitches come closer than the tolerance.
    for c in np.flatnonzero((n_t >= 2) & (n_d >= 2)):
        t0, d0 = int(t_first[c]), int(d_first[c])
        a = t[t0 : t0 + n_t[c]]
        b = d[d0 : d0 + n_d[c]]
        if (a.size + 1) * (b.size + 1) <= _DP_MAX_CELLS:
            ia, ib = _match_dp(a, b, tolerance_s)
        else:
            ia, ib = _match_sweep(a, b, tolerance_s)
        pieces.append((ia + t0, ib + d0))

    ti = np.concatenate([p[0] for p in pieces])
    di = np.concatenate([p[1] for p in pieces])
    order = np.argsort(ti, kind="stable")
    return np.stack((true_order[ti[order]], det_order[di[order]]), axis=1).astype(np.intp)


def score_twitches(
    true_s: np.ndarray,
    detected_s: np.ndarray,
    activity_spans_s: np.ndarray,
    tolerance_s: float = 0.025,
    pad_s: float = 0.0,
) -> TwitchScore:
    """Score one site's detected twitches against its true twitches.

    Parameters
    ----------
    true_s : (n,) array of float
        True twitch times in seconds.
    detected_s : (m,) array of float
        Detected twitch times in seconds, on the same clock as ``true_s``.
    activity_spans_s : (k, 2) array of float
        Truth voluntary and motion episodes as ``[start, stop)`` seconds; may overlap.
        ``(0, 2)`` or an empty array when there were none.
    tolerance_s : float
        Largest ``|detected - true|`` for a match (``match_twitches``).
    pad_s : float
        Widen each activity span by this on both sides when deciding whether an unmatched
        detection lies in activity (filters ring after an episode ends). ``activity_s`` and
        the hourly rate's denominator stay the unpadded truth time.

    Returns
    -------
    TwitchScore
        Counts and ratios; see the module docstring for the empty cases.
    """
    true_s = _as_times(true_s, "true_s")
    detected_s = _as_times(detected_s, "detected_s")
    spans = _as_spans(activity_spans_s, "activity_spans_s", allow_empty_spans=True)
    if not (math.isfinite(pad_s) and pad_s >= 0):
        raise ValueError(f"pad_s must be a finite number >= 0, got {pad_s!r}")

    pairs = match_twitches(true_s, detected_s, tolerance_s)
    unmatched = np.ones(detected_s.size, dtype=bool)
    unmatched[pairs[:, 1]] = False

    starts, stops = _union(spans[:, 0], spans[:, 1])
    activity_s = float(np.sum(stops - starts))
    pad_starts, pad_stops = _union(spans[:, 0] - pad_s, spans[:, 1] + pad_s)
    false_in_activity = int(np.count_nonzero(_inside(detected_s[unmatched], pad_starts, pad_stops)))
    return _twitch_score(true_s.size, detected_s.size, len(pairs), false_in_activity, activity_s)


def combine(scores: Sequence[TwitchScore]) -> TwitchScore:
    """Overall figures over sites: counts and activity time summed, ratios recomputed.

    The ratios are pooled (micro-averaged), not a mean of per-site ratios, so a site with
    many twitches weighs more. No scores give the empty score (ratios 1.0, rate 0.0).
    """
    return _twitch_score(
        sum(s.n_true for s in scores),
        sum(s.n_detected for s in scores),
        sum(s.true_positives for s in scores),
        sum(s.false_in_activity for s in scores),
        math.fsum(s.activity_s for s in scores),
    )


def score_cramps(true_spans_s: np.ndarray, detected_spans_s: np.ndarray) -> CrampScore:
    """Score one site's detected cramps against its true cramps by overlap.

    Two spans overlap when they share time of positive length: ``[a, b)`` and ``[c, e)``
    overlap iff ``c < b and a < e``, so spans that only touch do not. A detected cramp that
    spans two true cramps makes each of them "found once"; such merges are not counted apart.

    Parameters
    ----------
    true_spans_s : (k, 2) array of float
        True cramps as ``[start, stop)`` seconds, stop > start.
    detected_spans_s : (m, 2) array of float
        Detected cramps as ``[start, stop)`` seconds, stop > start.

    Returns
    -------
    CrampScore
    """
    true_spans = _as_spans(true_spans_s, "true_spans_s", allow_empty_spans=False)
    det_spans = _as_spans(detected_spans_s, "detected_spans_s", allow_empty_spans=False)
    per_true = _count_overlaps(true_spans, det_spans)
    per_det = _count_overlaps(det_spans, true_spans)
    return CrampScore(
        n_true=len(true_spans),
        n_detected=len(det_spans),
        found_once=int(np.count_nonzero(per_true == 1)),
        missed=int(np.count_nonzero(per_true == 0)),
        split=int(np.count_nonzero(per_true > 1)),
        spurious=int(np.count_nonzero(per_det == 0)),
    )


# --- ratios ---------------------------------------------------------------------------------


def _twitch_score(
    n_true: int, n_detected: int, tp: int, false_in_activity: int, activity_s: float
) -> TwitchScore:
    """The one place the ratios and their empty-case definitions are computed."""
    sensitivity = tp / n_true if n_true else 1.0
    precision = tp / n_detected if n_detected else 1.0
    f1 = 2 * tp / (n_true + n_detected) if n_true + n_detected else 1.0
    if activity_s > 0:
        per_hour = false_in_activity / (activity_s / _SECONDS_PER_HOUR)
    else:
        per_hour = math.inf if false_in_activity else 0.0
    return TwitchScore(
        n_true=n_true,
        n_detected=n_detected,
        true_positives=tp,
        sensitivity=sensitivity,
        precision=precision,
        f1=f1,
        false_in_activity=false_in_activity,
        activity_s=activity_s,
        false_per_hour_activity=per_hour,
    )


# --- matching internals -------------------------------------------------------------------


def _nearest_per_cluster(
    centers: np.ndarray,
    leaves: np.ndarray,
    center_first: np.ndarray,
    leaf_cluster: np.ndarray,
    sel: np.ndarray,
    tolerance_s: float,
    *,
    center_is_true: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """In clusters with a single center event, pair it with its nearest leaf within tolerance.

    Returns (true indices, detection indices) into the sorted arrays.
    """
    leaf_idx = np.flatnonzero(sel)
    clusters = leaf_cluster[leaf_idx]
    center_idx = center_first[clusters]
    dist = np.abs(leaves[leaf_idx] - centers[center_idx])
    # Sort by cluster, then distance: the first row of each cluster is its nearest leaf
    # (ties go to the earlier leaf, as lexsort is stable).
    order = np.lexsort((dist, clusters))
    first = np.ones(order.size, dtype=bool)
    first[1:] = clusters[order][1:] != clusters[order][:-1]
    best = order[first]
    keep = best[dist[best] <= tolerance_s]
    if center_is_true:
        return center_idx[keep], leaf_idx[keep]
    return leaf_idx[keep], center_idx[keep]


def _match_dp(a: np.ndarray, b: np.ndarray, tolerance_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Most pairs, then least total |dt|, between sorted ``a`` and ``b`` (one cluster).

    ``F[i, j]`` is the best value using the first ``i`` of ``a`` and the first ``j`` of ``b``.
    A pair is worth ``1 - |dt| / (tolerance·(K+1))`` with ``K = min(p, q)``: the penalties of
    any matching add up to less than 1, so one more pair always beats any saving in |dt|.
    """
    p, q = a.size, b.size
    scale = 1.0 / (tolerance_s * (min(p, q) + 1)) if tolerance_s > 0 else 0.0
    table = np.zeros((p + 1, q + 1))
    for i in range(p):
        dist = np.abs(a[i] - b)
        gain = np.where(dist <= tolerance_s, 1.0 - dist * scale, -np.inf)
        best = table[i].copy()
        np.maximum(table[i, 1:], table[i, :-1] + gain, out=best[1:])
        # Skipping detection j keeps the value of the first j-1: a running maximum along the row.
        table[i + 1] = np.maximum.accumulate(best)

    ia: list[int] = []
    ib: list[int] = []
    i, j = p, q
    while i > 0 and j > 0:
        if table[i, j] == table[i, j - 1]:
            j -= 1
        elif table[i, j] == table[i - 1, j]:
            i -= 1
        else:  # the only other way to reach this value: a[i-1] paired with b[j-1]
            ia.append(i - 1)
            ib.append(j - 1)
            i -= 1
            j -= 1
    return np.array(ia[::-1], dtype=np.intp), np.array(ib[::-1], dtype=np.intp)


def _match_sweep(a: np.ndarray, b: np.ndarray, tolerance_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Most pairs between sorted ``a`` and ``b``: each ``a`` takes the earliest free ``b`` in reach.

    Optimal in count by the usual exchange argument (the earliest usable detection is the one
    later truths can least use). Detections passed over are out of reach of every later truth,
    so one forward pointer suffices: O(p + q).
    """
    al, bl = a.tolist(), b.tolist()  # Python floats: this loop runs per event
    q = len(bl)
    ia: list[int] = []
    ib: list[int] = []
    j = 0
    for i, ai in enumerate(al):
        while j < q and ai - bl[j] > tolerance_s:
            j += 1
        if j < q and bl[j] - ai <= tolerance_s:
            ia.append(i)
            ib.append(j)
            j += 1
    return np.array(ia, dtype=np.intp), np.array(ib, dtype=np.intp)


# --- spans ----------------------------------------------------------------------------------


def _union(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint sorted ``[start, stop)`` spans covering the same time; touching spans merge."""
    if starts.size == 0:
        return starts.copy(), stops.copy()
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], stops[order]
    reach = np.maximum.accumulate(e)
    new = np.empty(s.size, dtype=bool)
    new[0] = True
    new[1:] = s[1:] > reach[:-1]
    first = np.flatnonzero(new)
    return s[first], np.maximum.reduceat(e, first)


def _inside(x: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Which of ``x`` fall in one of the disjoint sorted spans ``[start, stop)``."""
    if starts.size == 0:
        return np.zeros(x.size, dtype=bool)
    k = np.searchsorted(starts, x, side="right") - 1
    return (k >= 0) & (x < stops[np.maximum(k, 0)])


def _count_overlaps(spans: np.ndarray, others: np.ndarray) -> np.ndarray:
    """For each span, how many of ``others`` share positive-length time with it.

    Counts others starting before the span stops, minus others that stopped by the time it
    starts; the second set lies inside the first because every span has stop > start.
    """
    started = np.searchsorted(np.sort(others[:, 0]), spans[:, 1], side="left")
    finished = np.searchsorted(np.sort(others[:, 1]), spans[:, 0], side="right")
    return started - finished


# --- validation -----------------------------------------------------------------------------


def _as_times(x: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of seconds, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} must be finite, got {np.count_nonzero(~np.isfinite(arr))} NaN/inf"
        )
    return arr


def _as_spans(x: np.ndarray, name: str, *, allow_empty_spans: bool) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (k, 2) of [start, stop) seconds, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    length = arr[:, 1] - arr[:, 0]
    bad = length < 0 if allow_empty_spans else length <= 0
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        need = "stop >= start" if allow_empty_spans else "stop > start"
        raise ValueError(f"{name} row {row} must have {need}, got {arr[row].tolist()}")
    return arr
