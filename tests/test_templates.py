"""The weak candidate tier: kept only when a confident, earlier candidate has its shape."""

from __future__ import annotations

import numpy as np

from edge.detect.config import DetectorConfig
from edge.detect.templates import TemplateLibrary, confirm


def _unit(v: np.ndarray) -> np.ndarray:
    v = v - v.mean()
    return v / np.linalg.norm(v)


SHAPE = _unit(np.sin(np.linspace(0, 2 * np.pi, 21)) * np.hanning(21))
OTHER = _unit(np.random.default_rng(3).normal(size=21))


def _confirm(lib, rows, p2p, strong):
    """(keep, library after)."""
    k = len(rows)
    return confirm(
        DetectorConfig(), lib, np.array(rows), np.array(p2p, float), np.ones(k, bool),
        np.array(strong),
    )  # fmt: skip


def test_weak_kept_only_after_a_strong_match_of_its_size() -> None:
    # weak before its template: dropped; weak after: kept; wrong shape or far too small: dropped
    keep, _ = _confirm(
        TemplateLibrary(), [SHAPE, SHAPE, SHAPE, OTHER, SHAPE], [50, 100, 60, 60, 10],
        [False, True, False, False, False],
    )  # fmt: skip
    assert keep.tolist() == [False, True, True, False, False]


def test_library_carries_across_calls_like_one_call() -> None:
    rows, p2p = [SHAPE, SHAPE, OTHER, SHAPE], [100, 60, 100, 60]
    strong = [True, False, True, False]
    whole, _ = _confirm(TemplateLibrary(), rows, p2p, strong)
    first, lib = _confirm(TemplateLibrary(), rows[:1], p2p[:1], strong[:1])
    rest, _ = _confirm(lib, rows[1:], p2p[1:], strong[1:])
    split = np.concatenate([first, rest])
    assert whole.tolist() == split.tolist() == [True, True, True, True]
