"""The accelerometer front end: gravity removed, motion found, visible twitches as candidates.

The accelerometer's main job is to see limb motion, which is excluded on every channel of the
site. A single motor unit's mechanical twitch is only 1-3 mg (Cescon 2004), near a MEMS noise
floor, so twitch candidates from acceleration are used only where a site has no EMG.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import sosfilt

from .design import AccDesign
from .floor import FloorState, track_floor
from .peaks import PeakTail, peaks_over, window_max
from .runs import SubframeGrid

#: Subframes in the median that smooths the motion floor (1 s).
_SMOOTH_SUBFRAMES = 20
#: One visible twitch per 250 ms: the humps of one mechanical twitch (contraction, relaxation:
#: 40-150 ms, with the band-pass's small undershoot) stay within it, the larger hump wins; the
#: twitches of a burst (myokymia, eyelid) come 0.25-0.5 s apart and are each counted.
_ACC_REFRACTORY_S = 0.25
#: The 0.3 Hz high-pass answers a twitch (a pulse of area A) with an undershoot of ~A x 2 pi x
#: 0.3 Hz over the next ~0.5 s: up to a quarter of its peak (hence 0.3). A peak under this fraction of a
#: larger one in this time before it is that undershoot.
_UNDERSHOOT_FRACTION = 0.3
_UNDERSHOOT_S = 0.7


@dataclass(frozen=True, slots=True, eq=False)
class AccSubframes(SubframeGrid):
    """Motion of consecutive subframes."""

    moving: np.ndarray  # (n,) bool: dynamic acceleration above the motion threshold
    rms_g: np.ndarray  # (n,) dynamic acceleration

    @property
    def n(self) -> int:
        return int(self.moving.size)


@dataclass(frozen=True, slots=True, eq=False)
class AccCandidates:
    peak: np.ndarray  # (k,) absolute sample of the peak of |dynamic acceleration|
    peak_g: np.ndarray  # (k,)


@dataclass(frozen=True, slots=True, eq=False)
class AccState:
    """Everything that crosses a chunk boundary of one accelerometer stream."""

    next_sample: int  # absolute index of pending[0]; subframes are anchored at the first one
    pending: np.ndarray  # (n_axes, m) raw samples not yet making a whole subframe
    tail: PeakTail  # band-passed |a| the twitch finder sees again
    zi: np.ndarray | None = None  # full-rate band-pass (twitches)
    motion_zi: np.ndarray | None = None  # high-pass of the subframe means (motion)
    floor: FloorState = field(default_factory=FloorState)
    twitch_floor: FloorState = field(default_factory=FloorState)  # of the band-passed |a|


def start_state(design: AccDesign, origin: int) -> AccState:
    """A fresh state for data starting at absolute sample ``origin`` (stream start or gap end)."""
    return AccState(
        next_sample=origin, pending=np.zeros((3, 0)), tail=PeakTail.lead_in(_context_n(design))
    )


def _refractory_n(design: AccDesign) -> int:
    return max(1, round(_ACC_REFRACTORY_S * design.fs))


def _context_n(design: AccDesign) -> int:
    """Samples each side of a peak that its tests read."""
    return max(_refractory_n(design), round(_UNDERSHOOT_S * design.fs) + 2)


def process(
    design: AccDesign, state: AccState, x_g: np.ndarray, find_twitches: bool
) -> tuple[AccSubframes | None, AccCandidates, AccState]:
    """Feed contiguous raw samples (n_axes, n) in g; return features of the subframes now
    complete, the twitch candidates found, and the state for the next call (``state`` itself is
    not modified).

    Three axes (x, y, z) or one (a one-axis sensor, as the BITalino's): motion is judged on the
    axes there are, so a single axis sees only the movement along it.

    Motion is judged on 50 ms subframes: their means, high-passed at the subframe rate to drop
    gravity and posture, carry the 0.3-10 Hz movement; the variance inside each subframe carries
    what is faster (tremor, impacts). That costs a fraction of filtering every sample, which is
    needed only where twitches are looked for in the acceleration (``find_twitches``: sites
    without EMG).
    """
    raw = (
        np.concatenate((state.pending, x_g), axis=1, dtype=np.float64)  # one pass from float32
        if state.pending.size
        else np.asarray(x_g, dtype=np.float64)
    )
    n_sub = raw.shape[1] // design.sub_n
    none = AccCandidates(np.zeros(0, np.int64), np.zeros(0))
    if n_sub == 0:  # raw may be the caller's own array: keep a copy
        return None, none, replace(state, pending=raw.copy())
    used = n_sub * design.sub_n
    x = raw[:, :used]
    first = state.next_sample
    blocks = x.reshape(x.shape[0], n_sub, design.sub_n)
    # Sums as products: BLAS sums a short row several times faster than a reduction does.
    means = blocks @ np.ones(design.sub_n) / design.sub_n
    # Variance as E[x^2] - E[x]^2: two passes instead of three; in float64 gravity (1 g) leaves
    # ~1e-16 g^2 of rounding beside a MEMS noise variance of ~1e-6 g^2.
    power = np.einsum("ijk,ijk->ij", blocks, blocks) / design.sub_n
    inside = np.sum(power - means * means, axis=0).clip(min=0.0)
    motion_zi = state.motion_zi
    if motion_zi is None:  # steady state on the first mean: gravity does not ring
        motion_zi = design.motion_zi[:, None, :] * means[None, :, 0, None]
    slow, motion_zi = sosfilt(design.motion_sos, means, axis=-1, zi=motion_zi)
    rms = np.sqrt(np.sum(slow * slow, axis=0) + inside)
    floor, floor_state = track_floor(state.floor, rms, _SMOOTH_SUBFRAMES, 1.02)
    cfg = design.config
    subframes = AccSubframes(
        first_sample=first,
        sub_n=design.sub_n,
        fs=design.fs,
        # A noisy sensor raises the bar, but never above a few times acc_motion_g: the floor
        # creeps up during sustained movement and must not come to take it for rest.
        moving=rms > np.maximum(cfg.acc_motion_g, 4.0 * np.minimum(floor, cfg.acc_motion_g)),
        rms_g=rms,
    )
    # raw is a new array (or the caller's x_g, when nothing was pending): copy what is kept.
    after = replace(
        state,
        next_sample=first + used,
        pending=raw[:, used:].copy(),
        motion_zi=motion_zi,
        floor=floor_state,
    )
    if not find_twitches:
        return subframes, none, after
    zi = state.zi
    if zi is None:
        zi = design.sos_zi[:, None, :] * x[None, :, 0, None]
    dyn, zi = sosfilt(design.sos, x, axis=-1, zi=zi)
    mag = np.sqrt(np.sum(dyn * dyn, axis=0))
    # The twitch threshold stands on the noise in the twitch band, not on the full-band noise
    # that motion is judged on (at 200-416 Hz most of a MEMS noise lies above 20 Hz).
    level = np.median(mag.reshape(n_sub, design.sub_n), axis=1)
    twitch_floor, twitch_floor_state = track_floor(
        state.twitch_floor, level, _SMOOTH_SUBFRAMES, 1.02
    )
    thr = np.repeat(
        np.maximum(cfg.acc_candidate_k * twitch_floor, cfg.acc_twitch_min_g), design.sub_n
    )
    candidates, tail = find_twitch_candidates(design, state.tail, mag, thr, first)
    return subframes, candidates, replace(after, zi=zi, twitch_floor=twitch_floor_state, tail=tail)


def find_twitch_candidates(
    design: AccDesign, tail: PeakTail, mag: np.ndarray, thr: np.ndarray, first: int
) -> tuple[AccCandidates, PeakTail]:
    """Visible twitches: peaks of the band-passed |a| (``mag``, (n,)) over ``thr``, one per
    refractory period and not the high-pass's undershoot of a bigger one before; and the tail of
    samples to see again next call (so a peak near a chunk edge has its whole context)."""
    h = _context_n(design)
    ext = np.concatenate((tail.x, mag))
    ext_thr = np.concatenate((tail.thr, thr))
    ext_start = first - tail.x.size
    tail = PeakTail(ext[-2 * h :].copy(), ext_thr[-2 * h :].copy())
    idx = peaks_over(ext, ext_thr, _refractory_n(design), h)
    if idx.size:
        half = round(_UNDERSHOOT_S * design.fs) // 2  # the window just before each peak
        before = window_max(ext, idx - half - 1, half)
        idx = idx[ext[idx] >= _UNDERSHOOT_FRACTION * before]
    return AccCandidates((idx + ext_start).astype(np.int64), ext[idx]), tail
