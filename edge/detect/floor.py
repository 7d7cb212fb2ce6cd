"""A robust noise floor that follows quiet stretches at once and activity only slowly."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


@dataclass(frozen=True, slots=True, eq=False)
class FloorState:
    """The last values of the smoothing median and the floor itself (log), carried over."""

    history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    log_floor: float = math.inf


def running_median(history: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Median of each value with the ``n - 1`` before it; returns (medians, new history).

    At a start (short history) the first value stands in for the missing ones.
    """
    joined = np.concatenate((history, values))
    lead = history.shape[0]
    if lead < n - 1:
        joined = np.concatenate((np.repeat(joined[:1], n - 1 - lead, axis=0), joined))
    windows = sliding_window_view(joined, n, axis=0)
    return median_last(windows)[-values.shape[0] :], joined[-(n - 1) :]


def median_last(x: np.ndarray) -> np.ndarray:
    """``np.median(x, axis=-1)``, the same values, for a short last axis: sorting a few values
    costs far less than the general median's partition and bookkeeping."""
    m = x.shape[-1]
    s = np.sort(x, axis=-1)
    if m % 2:
        return s[..., m // 2]
    return (s[..., m // 2 - 1] + s[..., m // 2]) / 2


def track_floor(
    state: FloorState, level: np.ndarray, smooth_n: int, rise_per_step: float
) -> tuple[np.ndarray, FloorState]:
    """Floor per step: the running median of ``level`` followed down at once, up slowly.

    ``L[i] = min(log m[i], L[i-1] + a)`` with ``a = log(rise_per_step)``, evaluated for all steps
    at once as a running minimum of ``log m[j] - j a``.

    Parameters
    ----------
    state : FloorState
        What the previous call returned (``FloorState()`` at a start).
    level : ndarray, shape (n,)
        A robust level per step (per-frame sigma, per-subframe RMS), > 0; ``inf`` where a step
        says nothing about the noise (the floor then only keeps rising slowly).
    smooth_n : int
        Steps in the running median that smooths ``level`` first.
    rise_per_step : float
        Largest factor by which the floor may rise from one step to the next.

    Returns
    -------
    floor : ndarray, shape (n,)
        The floor in force at each step, in the unit of ``level``.
    state : FloorState
        To pass to the next call.
    """
    smooth, history = running_median(state.history, level, smooth_n)
    a = math.log(rise_per_step)
    j = np.arange(smooth.size)
    # Digital silence (level 0) must not pin the floor at zero for ever.
    log_level = np.log(np.maximum(smooth, 1e-9))
    running = np.minimum.accumulate(log_level - j * a) + j * a
    log_floor = np.minimum(running, state.log_floor + (j + 1) * a)
    return np.exp(log_floor), FloorState(history, float(log_floor[-1]))
