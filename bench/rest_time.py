"""Time spans as (k, 2) arrays of [start_s, end_s): union, total, intersection, complement.

Pure and small: the accuracy bench uses them for "rest kept as rest" (how much of the true rest
a detector excluded) and for the quiet stretches of real recordings.
"""

from __future__ import annotations

import numpy as np


def as_spans(pairs: object) -> np.ndarray:
    """Any sequence of (start, end) pairs as a float (k, 2) array (empty gives (0, 2))."""
    return np.asarray(pairs, dtype=np.float64).reshape(-1, 2)


def union(spans: np.ndarray) -> np.ndarray:
    """Sorted, non-overlapping spans covering the same time; empty spans are dropped."""
    spans = as_spans(spans)
    spans = spans[spans[:, 1] > spans[:, 0]]
    out: list[list[float]] = []
    for a, b in spans[np.argsort(spans[:, 0], kind="stable")]:
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([float(a), float(b)])
    return as_spans(out)


def total_s(spans: np.ndarray) -> float:
    """Seconds covered, overlaps counted once."""
    u = union(spans)
    return float(np.sum(u[:, 1] - u[:, 0]))


def intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spans covered by both ``a`` and ``b``."""
    ua, ub = union(a), union(b)
    out = []
    i = j = 0
    while i < len(ua) and j < len(ub):
        lo, hi = max(ua[i, 0], ub[j, 0]), min(ua[i, 1], ub[j, 1])
        if lo < hi:
            out.append((lo, hi))
        if ua[i, 1] < ub[j, 1]:
            i += 1
        else:
            j += 1
    return as_spans(out)


def complement(spans: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """Spans of [start_s, end_s) that ``spans`` does not cover."""
    out, t = [], start_s
    for a, b in union(spans):
        if a > t:
            out.append((t, min(a, end_s)))
        t = max(t, b)
        if t >= end_s:
            break
    if t < end_s:
        out.append((t, end_s))
    return union(as_spans(out))


def shrink(spans: np.ndarray, by_s: float, min_s: float = 0.0) -> np.ndarray:
    """Each span cut by ``by_s`` at both ends; spans left shorter than ``min_s`` are dropped."""
    u = union(spans) + np.array([by_s, -by_s])
    return u[u[:, 1] - u[:, 0] >= max(min_s, 1e-12)]


def inside(t_s: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Boolean mask of the times ``t_s`` that lie in ``spans`` (half-open)."""
    u = union(spans)
    i = np.searchsorted(u[:, 0], t_s, side="right") - 1
    ok = i >= 0
    ok[ok] &= t_s[ok] < u[i[ok], 1]
    return ok
