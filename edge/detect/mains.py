"""Mains interference (50/60 Hz and harmonics), cancelled only where it is present.

Each frame's band-passed signal is projected on a cosine/sine pair per candidate harmonic. A
mains line is coherent: from frame to frame its phase advances by exactly ``2 pi f frame_n /
fs``, so de-rotated projections average to its amplitude, while twitches (random phases) average
away. The line predicted from the previous frames is subtracted from the next one. Unlike a
notch filter, this does not ring after a twitch, and nothing is touched when no line is there
(a notch removes EMG in its band whether or not mains is present; CleanEMG, detector.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import EmgDesign
from .floor import median_last

#: Frames in the line estimate: 2 s, long enough to outvote a few frames with twitches or a pop,
#: short enough to follow the mains' phase drift.
COHERENT_FRAMES = 10


#: The estimate is renewed every this many frames (1 s) and held in between: the line is
#: stationary, and medians are the costly part.
ESTIMATE_EVERY = 5


@dataclass(frozen=True, slots=True, eq=False)
class MainsState:
    frame: int = 0  # frames since the stream's origin: the phase reference
    history: np.ndarray | None = None  # (<= COHERENT_FRAMES, k) complex de-rotated projections
    estimate: np.ndarray | None = None  # (k,) complex de-rotated line in force
    on: np.ndarray | None = None  # (k,) bool: harmonic being cancelled (hysteresis)


def cancel_mains(
    design: EmgDesign, state: MainsState, frames: np.ndarray
) -> tuple[np.ndarray, np.ndarray, MainsState]:
    """Subtract the predicted mains line from each frame where it is present.

    Parameters
    ----------
    design : EmgDesign
    state : MainsState
        What the previous call returned (``MainsState()`` at a start).
    frames : ndarray, shape (n_frames, frame_n)
        Band-passed EMG in µV (not modified).

    Returns
    -------
    frames : ndarray, shape (n_frames, frame_n)
        The cleaned frames: ``frames`` itself where no line is cancelled, else a new array.
    amplitude : ndarray, shape (n_frames, k)
        Amplitude of the line cancelled in each frame per harmonic in µV (0 where none): a
        lead-off shows here as mains pickup of hundreds of µV. Coherent by construction, so a
        big motor-unit potential (which projects on 50 Hz too) never counts.
    state : MainsState
        To pass to the next call.
    """
    k = design.line_hz.size
    n_frames = frames.shape[0]
    if k == 0:
        return frames, np.zeros((n_frames, 0)), state
    coef = frames[:, :: design.line_step] @ design.line_basis_pinv.T
    z = coef[:, :k] - 1j * coef[:, k:]  # x = Re(z exp(i w t)) within a frame
    index = state.frame + np.arange(n_frames)
    # Whole cycles per frame (5 Hz multiples in 0.2 s frames, at most rates): every phase is
    # exactly 0, and de-rotating by exp(0) = 1 would change no value.
    rotation = None
    if np.any(design.line_per_frame % 1.0):
        rotation = np.exp(2j * np.pi * (np.outer(index, design.line_per_frame) % 1.0))
    history = state.history if state.history is not None else np.zeros((0, k), complex)
    joined = np.concatenate((history, z if rotation is None else z / rotation))

    # Renew the estimate at every ESTIMATE_EVERY-th frame from the frames before it; hold it.
    renew = np.flatnonzero(index % ESTIMATE_EVERY == 0)
    estimate = np.zeros((renew.size, k), complex)
    spread = np.zeros((renew.size, k))
    for j, i in enumerate(renew):
        if history.shape[0] + i >= COHERENT_FRAMES:
            break
        before = joined[max(0, history.shape[0] + i - COHERENT_FRAMES) : history.shape[0] + i]
        if before.shape[0]:  # just after a start: the median of the few frames there are
            estimate[j], spread[j] = _median_and_spread_parts(before.real.T, before.imag.T)
    full = renew[history.shape[0] + renew >= COHERENT_FRAMES]
    if full.size:
        rows = history.shape[0] + full[:, None] + np.arange(-COHERENT_FRAMES, 0)
        # Real and imaginary parts apart, (k, frames): gathers then give (k, w, m) rows that
        # lie contiguous in memory, which is how the medians' sorts run fastest.
        re, im = np.ascontiguousarray(joined.real.T), np.ascontiguousarray(joined.imag.T)
        med, dev = _median_and_spread_parts(re[:, rows], im[:, rows])
        estimate[-full.size :], spread[-full.size :] = med.T, dev.T
    level = np.abs(estimate)
    # Coherent: a line's projections agree with their median far better than its own size.
    # Random projections (voluntary activity, pops) spread as widely as their median is large.
    cfg = design.config
    present = (level > cfg.line_min_uv) & (level > cfg.line_coherence * spread)
    absent = ~present & ((level < 0.5 * cfg.line_min_uv) | (level < spread))
    # Hysteresis, once per second: each renewal keeps the last decisive verdict (present or
    # absent) at or before it, or the one in force before this call.
    previous_on = state.on if state.on is not None else np.zeros(k, bool)
    steps = np.arange(renew.size)[:, None]
    last = np.maximum.accumulate(np.where(present | absent, steps, -1), axis=0)
    on_renewed = np.where(
        last >= 0, np.take_along_axis(present, np.maximum(last, 0), axis=0), previous_on
    )

    # Row 0: what was in force before this call; row j + 1: the j-th renewal.
    previous = state.estimate if state.estimate is not None else np.zeros(k, complex)
    held = np.searchsorted(renew, np.arange(n_frames), side="right")
    in_force = np.concatenate((previous[None], estimate))
    line_est = in_force[held]
    on_in_force = np.concatenate((previous_on[None], on_renewed))
    on = on_in_force[held]
    line = np.where(on, line_est if rotation is None else line_est * rotation, 0.0)
    # |line| is the held estimate's size (the rotation has modulus 1): once per renewal.
    amplitude = np.where(on_in_force, np.abs(in_force), 0.0)[held]
    if on.any():
        used = np.flatnonzero(on.any(axis=0))
        basis = np.concatenate((design.line_basis[used], design.line_basis[k + used]))
        weights = np.concatenate((line[:, used].real, -line[:, used].imag), axis=1)
        line_wave = weights @ basis  # cos rows then sin rows, as in the design
        frames = np.subtract(frames, line_wave, out=line_wave)

    after = MainsState(
        frame=state.frame + n_frames,
        history=joined[-COHERENT_FRAMES:],
        estimate=line_est[-1].copy(),
        on=on[-1].copy(),
    )
    return frames, amplitude, after


def _median_and_spread_parts(re: np.ndarray, im: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The median over the last axis of complex values given as their real and imaginary parts
    (..., m), taken apart (a pop or a big twitch in one frame hardly moves it), (...) complex,
    and the median distance |z - median| from it (the same values as on complex z)."""
    med_re, med_im = median_last(re), median_last(im)
    dev = np.empty(re.shape, complex)
    dev.real, dev.imag = re - med_re[..., None], im - med_im[..., None]
    return med_re + 1j * med_im, median_last(np.abs(dev))
