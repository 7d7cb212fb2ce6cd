"""A lower tier of candidates confirmed by shape: small potentials of units seen before.

A site's fasciculations come from a few motor units whose potentials repeat. Noise at 3.5-5
sigma is as tall as the smallest of them and separable only by shape, so a peak under the
candidate threshold is kept only when it matches (high correlation, similar size) the template
of a confident candidate seen EARLIER in the stream. Candidates arrive in time order and the
library is carried across calls, so any chunking of the input gives the same decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import DetectorConfig


@dataclass(frozen=True, slots=True, eq=False)
class TemplateLibrary:
    """The latest confident templates of one stream (zero-mean, unit-norm rows) and sizes."""

    shapes: np.ndarray | None = None  # (m, L)
    p2p_uv: np.ndarray = field(default_factory=lambda: np.zeros(0))


def same_unit(
    template: np.ndarray,
    p2p_uv: np.ndarray,
    lib: np.ndarray,
    lib_p2p_uv: np.ndarray,
    min_r: float,
    amp_ratio: tuple[float, float],
) -> np.ndarray:
    """(k, m) bool: potential i has the shape (correlation >= ``min_r``) and the size (ratio in
    ``amp_ratio``) of library potential j. Rows of ``template`` and ``lib`` are zero-mean and
    unit-norm, so their products are correlations."""
    r = template @ lib.T
    ratio = p2p_uv[:, None] / np.maximum(lib_p2p_uv[None, :], 1e-9)
    low, high = amp_ratio
    return (r >= min_r) & (ratio >= low) & (ratio <= high)


def confirm(
    cfg: DetectorConfig,
    lib: TemplateLibrary,
    template: np.ndarray,
    p2p_uv: np.ndarray,
    shape_ok: np.ndarray,
    strong: np.ndarray,
) -> tuple[np.ndarray, TemplateLibrary]:
    """Which candidates to keep: strong ones always; weak ones that match a strong, well-shaped
    one before them (this call's or the library's).

    Parameters
    ----------
    lib : TemplateLibrary
        What the previous call returned (``TemplateLibrary()`` at a start).
    template : ndarray, shape (k, L)
        Zero-mean, unit-norm snippets, in time order.
    p2p_uv, shape_ok, strong : ndarray, shape (k,)

    Returns
    -------
    keep : ndarray, shape (k,), bool
    lib : TemplateLibrary
        The library after these candidates, to pass to the next call.
    """
    keep_n = cfg.weak_library
    if lib.shapes is None:  # a start: the snippets' length is known from the first call
        lib = TemplateLibrary(np.zeros((0, template.shape[1])), lib.p2p_uv)
    teach = strong & shape_ok
    shapes = np.concatenate((lib.shapes, template[teach]))
    sizes = np.concatenate((lib.p2p_uv, p2p_uv[teach]))
    keep = strong.copy()
    weak = np.flatnonzero(~strong & shape_ok)
    if weak.size and shapes.shape[0]:
        # Row i of the library is usable by candidate j when it was seen before j, and among
        # the last keep_n seen before j (the library's memory at that moment).
        known = lib.shapes.shape[0] + np.cumsum(teach)[weak]  # rows seen before each weak one
        rows = np.arange(shapes.shape[0])
        usable = (rows[None, :] < known[:, None]) & (rows[None, :] >= known[:, None] - keep_n)
        same = same_unit(
            template[weak], p2p_uv[weak], shapes, sizes, cfg.weak_match_r, cfg.weak_amp_ratio
        )
        keep[weak] = (usable & same).any(axis=1)
    return keep, TemplateLibrary(shapes[-keep_n:], sizes[-keep_n:])
