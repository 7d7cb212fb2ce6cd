"""Mains interference (50/60 Hz and harmonics), cancelled only where it is present.

Each frame's band-passed signal is projected on a cosine/sine pair per candidate harmonic. A
mains line is coherent: from frame to frame its phase advances by exactly ``2 pi f frame_n /
fs``, so de-rotated projections average to its amplitude, while twitches (random phases) average
away. The line predicted from the previous frames is subtracted from the next one. Unlike a
notch filter, this does not ring after a twitch, and nothing is touched when no line is there
(a notch removes EMG in its band whether or not mains is present; CleanEMG, detector.md §2).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .design import EmgDesign

#: Frames in the line estimate: 2 s, long enough to outvote a few frames with twitches or a pop,
#: short enough to follow the mains' phase drift.
COHERENT_FRAMES = 10


@dataclass(slots=True)
class MainsState:
    frame: int = 0  # frames since the stream's origin: the phase reference
    history: np.ndarray | None = None  # (<= COHERENT_FRAMES, k) complex de-rotated projections
    on: np.ndarray | None = None  # (k,) bool: harmonic being cancelled (hysteresis)


def cancel_mains(
    design: EmgDesign, state: MainsState, frames: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Subtract the predicted mains line from each frame where it is present.

    Parameters
    ----------
    design : EmgDesign
    state : MainsState
        Updated in place.
    frames : ndarray, shape (n_frames, frame_n)
        Band-passed EMG in µV; modified in place.

    Returns
    -------
    frames : ndarray, shape (n_frames, frame_n)
        The cleaned frames (the same array).
    amplitude : ndarray, shape (n_frames, k)
        Each frame's own projection amplitude per harmonic in µV (lead-off shows here).
    """
    k = design.line_hz.size
    n_frames = frames.shape[0]
    if k == 0:
        return frames, np.zeros((n_frames, 0))
    coef = frames @ design.line_basis_pinv.T
    z = coef[:, :k] - 1j * coef[:, k:]  # x = Re(z exp(i w t)) within a frame
    index = state.frame + np.arange(n_frames)
    turns = np.outer(index, design.line_hz * design.frame_n / design.fs) % 1.0
    rotation = np.exp(2j * np.pi * turns)
    history = state.history if state.history is not None else np.zeros((0, k), complex)
    joined = np.concatenate((history, z / rotation))
    # Prediction for frame i: the median (real and imaginary parts apart) of the frames before
    # it; a pop or a big twitch in one frame hardly moves it. Frames before the stream's start
    # are missing (NaN) and ignored.
    missing = np.full((COHERENT_FRAMES - history.shape[0], k), np.nan + 0j)
    padded = np.concatenate((missing, joined))[:-1]
    windows = sliding_window_view(padded, COHERENT_FRAMES, axis=0)  # (n_frames, k, M)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN window: the very first frame
        predicted = np.nanmedian(windows.real, axis=-1) + 1j * np.nanmedian(windows.imag, axis=-1)
        spread = np.nanmedian(np.abs(windows - predicted[..., None]), axis=-1)
    level = np.nan_to_num(np.abs(predicted))
    # Coherent: a line's projections agree with their median far better than its own size.
    # Random projections (voluntary activity, pops) spread as widely as their median is large.
    cfg = design.config
    present = (level > cfg.line_min_uv) & (level > cfg.line_coherence * np.nan_to_num(spread))
    absent = ~present & ((level < 0.5 * cfg.line_min_uv) | (level < np.nan_to_num(spread)))
    decided = np.where(present, 1, np.where(absent, 0, -1))
    rows = np.where(decided >= 0, np.arange(n_frames)[:, None], -1)
    last = np.maximum.accumulate(rows, axis=0)
    previous = state.on if state.on is not None else np.zeros(k, bool)
    on = np.where(last >= 0, decided[np.maximum(last, 0), np.arange(k)] == 1, previous)
    predicted = np.nan_to_num(predicted)

    line = np.where(on, predicted * rotation, 0.0)
    if on.any():
        used = np.flatnonzero(on.any(axis=0))
        basis = np.concatenate(
            (design.line_basis[used], design.line_basis[k + used])
        )  # (2u, frame_n) cos rows then sin rows
        weights = np.concatenate((line[:, used].real, -line[:, used].imag), axis=1)
        frames -= weights @ basis

    state.frame += n_frames
    state.history = joined[-COHERENT_FRAMES:]
    state.on = on[-1].copy()
    return frames, np.abs(z)
