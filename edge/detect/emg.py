"""The EMG front end: band-pass, mains removal when present, noise floor, candidate potentials.

Samples are processed in whole frames (``design.frame_n``) anchored at the stream's start, and
every step takes its state and returns the next one (filter ``zi``, the last frames' statistics,
the tail the peak finder must see again) without touching its arguments, as ``sosfilt`` does
with ``zi``: any chunking of the input gives the same output, and a state can be kept or replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import sosfilt, sosfilt_zi

from .design import EmgDesign
from .floor import FloorState, track_floor
from .mains import MainsState, cancel_mains
from .peaks import PeakTail, peaks_over
from .runs import SubframeGrid
from .templates import TemplateLibrary, confirm

_MAD_TO_SIGMA = 1.4826
#: Frames in the median that smooths per-frame statistics (1 s at 0.2 s frames).
_SMOOTH_FRAMES = 5


@dataclass(frozen=True, slots=True, eq=False)
class Subframes(SubframeGrid):
    """Activity features of consecutive subframes."""

    kurtosis: np.ndarray  # (n,) m4 / m2^2 of the cleaned signal
    busy: np.ndarray  # (n,) bool: activity above the floor (or a floor too high for rest)
    motion: np.ndarray  # (n,) bool: low-frequency step of the raw signal (motion artifact)
    artifact: np.ndarray  # (n,) bool: electrode pop, saturation or lead-off

    @property
    def n(self) -> int:
        return int(self.busy.size)


@dataclass(frozen=True, slots=True, eq=False)
class Candidates:
    """Candidate potentials: struct of arrays, one entry per peak, sorted by ``peak``."""

    peak: np.ndarray  # (k,) int64 absolute sample of the peak of |x|
    p2p_uv: np.ndarray  # (k,) peak-to-peak amplitude
    duration_s: np.ndarray  # (k,) 4 x RMS width of the potential's energy
    shape_ok: np.ndarray  # (k,) bool: duration and concentration of a potential
    template: np.ndarray  # (k, L) zero-mean, unit-norm snippet around the peak

    @staticmethod
    def empty(length: int) -> Candidates:
        """No candidates, with templates of ``length`` samples."""
        zeros = np.zeros(0)
        return Candidates(
            zeros.astype(np.int64), zeros, zeros, zeros.astype(bool), np.zeros((0, length))
        )

    @property
    def n(self) -> int:
        return int(self.peak.size)

    def take(self, keep: np.ndarray) -> Candidates:
        return Candidates(*[getattr(self, name)[keep] for name in _CANDIDATE_FIELDS])

    @staticmethod
    def concat(parts: list[Candidates]) -> Candidates:
        """One struct of the parts, in order (at least one part); empty parts are skipped."""
        parts = [p for p in parts if p.n] or parts[:1]
        if len(parts) == 1:
            return parts[0]
        return Candidates(
            *(np.concatenate([getattr(p, name) for p in parts]) for name in _CANDIDATE_FIELDS)
        )


#: Field names, looked up once: ``take`` runs hundreds of times per minute of signal.
_CANDIDATE_FIELDS = tuple(f.name for f in fields(Candidates))


@dataclass(frozen=True, slots=True, eq=False)
class FeatureState:
    """What ``activity_features`` carries from one call to the next."""

    floor: FloorState = field(default_factory=FloorState)  # of the cleaned signal
    last_means: np.ndarray | None = None  # raw means of the previous three subframes


@dataclass(frozen=True, slots=True, eq=False)
class EmgState:
    """Everything that crosses a chunk boundary of one EMG stream."""

    next_sample: int  # absolute index of pending[0]; frames are anchored at the first one
    pending: np.ndarray  # raw samples not yet making a whole frame
    tail: PeakTail  # cleaned samples the peak finder sees again
    bp_zi: np.ndarray | None = None
    mains: MainsState = field(default_factory=MainsState)
    features: FeatureState = field(default_factory=FeatureState)
    templates: TemplateLibrary = field(default_factory=TemplateLibrary)  # for weak candidates


def start_state(design: EmgDesign, origin: int) -> EmgState:
    """A fresh state for data starting at absolute sample ``origin`` (stream start or gap end)."""
    return EmgState(
        next_sample=origin, pending=np.zeros(0), tail=PeakTail.lead_in(_context_n(design))
    )


def _context_n(design: EmgDesign) -> int:
    """Samples each side of a peak that its tests read."""
    return max(design.refractory_n, design.shadow_n, design.feature_half_n, design.template_half_n)


def process(
    design: EmgDesign, state: EmgState, x_uv: np.ndarray
) -> tuple[Subframes | None, Candidates, EmgState]:
    """Feed contiguous raw EMG samples; return the features of every frame now complete.

    Parameters
    ----------
    design : EmgDesign
    state : EmgState
        What the previous call returned (``start_state`` at a start); not modified.
    x_uv : ndarray, shape (n,)
        Raw samples in µV, following ``state.next_sample + len(state.pending)``.

    Returns
    -------
    subframes : Subframes or None
        Features of the subframes completed by this call (None if no frame completed).
    candidates : Candidates
        Candidate potentials whose context is now complete.
    state : EmgState
        To pass to the next call.
    """
    raw = np.concatenate((state.pending, x_uv), dtype=np.float64)  # one pass from float32
    n_frames = raw.size // design.frame_n
    if n_frames == 0:
        return None, Candidates.empty(design.template_n), replace(state, pending=raw)
    used = n_frames * design.frame_n
    frames_raw = raw[:used]
    first = state.next_sample

    bp_zi = state.bp_zi if state.bp_zi is not None else design.sos_zi * frames_raw[0]
    y, bp_zi = bandpass(design.sos, bp_zi, frames_raw)
    frames, line_amp, mains = cancel_mains(design, state.mains, y.reshape(n_frames, design.frame_n))
    y = frames.reshape(-1)
    subframes, floor, features = activity_features(
        design, state.features, frames_raw, y, frames, line_amp, first
    )
    cfg = design.config
    # Peaks down to the weak tier are found; those under candidate_k must match a template.
    k = min(cfg.candidate_k, cfg.weak_candidate_k)
    thr = np.repeat(k * floor, design.frame_n)
    candidates, strong, tail = find_candidates(design, state.tail, y, thr, first, k)
    templates = state.templates
    if candidates.n:  # strong ones teach the library, weak ones must match it
        keep, templates = confirm(
            cfg,
            templates,
            candidates.template,
            candidates.p2p_uv,
            candidates.shape_ok,
            strong,
        )
        candidates = candidates.take(keep)
    after = EmgState(
        next_sample=first + used,
        pending=raw[used:],
        tail=tail,
        bp_zi=bp_zi,
        mains=mains,
        features=features,
        templates=templates,
    )
    return subframes, candidates, after


# --- steps ----------------------------------------------------------------------------------


def bandpass(
    sos: np.ndarray, zi: np.ndarray | None, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Causal band-pass of contiguous samples; returns (y, zi to carry). ``zi`` None: start in
    steady state on the first sample, so a DC offset is silent."""
    if zi is None:
        zi = sosfilt_zi(sos) * x[0]
    return sosfilt(sos, x, zi=zi)


def activity_features(
    design: EmgDesign,
    state: FeatureState,
    raw: np.ndarray,
    y: np.ndarray,
    frames: np.ndarray,
    line_amp: np.ndarray,
    first: int,
) -> tuple[Subframes, np.ndarray, FeatureState]:
    """Activity features per subframe, the noise floor per frame, and the state to carry.

    ``raw`` and ``y`` are the frames' raw and cleaned samples (n,), ``frames`` the cleaned ones
    as (n_frames, frame_n), ``line_amp`` what ``cancel_mains`` returned, ``first`` the absolute
    index of the first sample.

    The floor's level for a frame is 1.4826 x the median of |x| (MAD): a few discharging units
    (a cramp, the end of a contraction) occupy few samples and leave it at the noise, where an
    RMS would rise with them. Every other sample is enough: the band ends near fs / 4.
    """
    cfg = design.config
    per = cfg.subframes_per_frame
    sub = y.reshape(-1, design.sub_n)
    power = sub * sub
    # Row sums as products (BLAS, einsum): several times faster than reductions over short rows.
    m2 = power @ np.ones(design.sub_n) / design.sub_n
    m4 = np.einsum("ij,ij->i", power, power) / design.sub_n
    rms = np.sqrt(m2)
    kurt = m4 / np.maximum(m2 * m2, 1e-12)
    # Flat: saturated, or an open input on the rail. Real inputs have noise; and a flat stretch
    # says nothing about the noise, so it does not move the floor.
    flat = rms < cfg.flat_rms_uv
    half = np.abs(frames[:, ::2])
    middle = half.shape[1] // 2
    half.partition(middle, axis=1)  # in place: half is this call's own temporary
    level = _MAD_TO_SIGMA * half[:, middle]
    frame_flat = flat.reshape(-1, per).any(axis=1)
    rise = cfg.floor_rise_per_s ** (design.frame_n / design.fs)
    floor, floor_state = track_floor(
        state.floor, np.where(frame_flat, np.inf, level), _SMOOTH_FRAMES, rise
    )
    floor_sub = np.repeat(floor, per)
    busy = (rms > cfg.busy_k * np.minimum(floor_sub, cfg.noise_max_uv)) | (
        floor_sub > cfg.noise_max_uv
    )
    means = raw.reshape(-1, design.sub_n) @ np.ones(design.sub_n) / design.sub_n
    last_means = state.last_means if state.last_means is not None else np.full(3, means[0])
    ext = np.concatenate((last_means, means))
    step = np.abs(np.diff(ext[2:]))
    # Motion jolts the electrodes: the raw mean changes course abruptly (a step, a knock, a cable
    # swinging at 1-20 Hz). Skin and electrode drift (0.05-0.3 Hz, hundreds of µV) changes it
    # smoothly: its change barely changes from one 50 ms to the next (0.3 Hz, 400 µV: < 4 µV),
    # and the band-pass removes it, so drift is never motion. Muscle activity moves the mean
    # too (big units' potentials, needle emgdb): where the band is busy the EMG alone cannot
    # tell a jolt from a contraction, and only the accelerometer may call it motion.
    # Means over 100 ms (5 cycles of 50 Hz, 6 of 60 Hz) leave mains out.
    pairs = 0.5 * (ext[1:] + ext[:-1])
    jolt = np.abs(pairs[2:] - 2.0 * pairs[1:-1] + pairs[:-2])
    leadoff = (
        np.repeat(line_amp.max(axis=1) > cfg.leadoff_line_uv, per)
        if line_amp.shape[1]
        else np.zeros(rms.size, bool)
    )
    subframes = Subframes(
        first_sample=first,
        sub_n=design.sub_n,
        fs=design.fs,
        kurtosis=kurt,
        busy=busy,
        motion=(jolt > cfg.emg_motion_step_uv) & ~busy,
        artifact=(step > cfg.emg_artifact_step_uv) | leadoff | flat,
    )
    return subframes, floor, FeatureState(floor_state, ext[-3:].copy())


def find_candidates(
    design: EmgDesign, tail: PeakTail, y: np.ndarray, thr: np.ndarray, first: int, k: float
) -> tuple[Candidates, np.ndarray, PeakTail]:
    """Peaks of |y| over threshold (``k`` noise sigmas), one per refractory period, not in a
    bigger peak's shadow; (k,) bool: the peak reaches ``candidate_k`` sigmas; and the tail.

    The last ``2 h`` samples (h = the widest context a test reads) are returned as the tail and
    seen again next call, so a peak near a chunk edge is judged with its whole neighbourhood.
    """
    cfg = design.config
    h = _context_n(design)
    ext = np.concatenate((tail.x, y))
    ext_thr = np.concatenate((tail.thr, thr))
    ext_start = first - tail.x.size
    tail = PeakTail(ext[-2 * h :].copy(), ext_thr[-2 * h :].copy())
    mag = np.abs(ext)
    shadow = (design.shadow_n, cfg.shadow_fraction)
    idx = peaks_over(mag, ext_thr, design.refractory_n, h, shadow)
    if idx.size == 0:
        return Candidates.empty(design.template_n), np.zeros(0, bool), tail

    thr_at = ext_thr[idx]
    t_half = design.template_half_n
    p_half = (3 * t_half) // 2
    f_half = design.feature_half_n
    # One gather holds every window the measures read (nested around the peak), squared once.
    c = max(f_half, 2 * t_half, p_half)
    win = sliding_window_view(ext, 2 * c + 1)[idx - c]  # rows copied, no index matrix
    sq = win * win
    snip = win[:, c - t_half : c + t_half + 1]
    near = win[:, c - p_half : c + p_half + 1]
    p2p = near.max(axis=1) - near.min(axis=1)
    e_wide = sq[:, c - f_half : c + f_half + 1].sum(axis=1)
    e_near = sq[:, c - t_half : c + t_half + 1].sum(axis=1)
    offsets = np.arange(-2 * t_half, 2 * t_half + 1) / design.fs
    e_win = sq[:, c - 2 * t_half : c + 2 * t_half + 1]
    e_total = e_win.sum(axis=1)
    centre = (e_win * offsets).sum(axis=1) / e_total
    width_s = np.sqrt((e_win * (offsets - centre[:, None]) ** 2).sum(axis=1) / e_total)
    duration_s = 4.0 * width_s
    low_s, high_s = cfg.potential_duration_s
    shape_ok = (
        (duration_s >= low_s)
        & (duration_s <= high_s)
        & (e_near >= cfg.min_concentration * e_wide)
        & (p2p <= cfg.potential_max_uv)
        & (p2p >= cfg.potential_min_uv)
        & (p2p >= cfg.candidate_p2p_k * thr_at / k)
    )
    strong = mag[idx] > thr_at * (cfg.candidate_k / k)
    template = snip - snip.mean(axis=1, keepdims=True)
    template /= np.maximum(np.linalg.norm(template, axis=1, keepdims=True), 1e-12)
    return (
        Candidates(
            peak=(idx + ext_start).astype(np.int64),
            p2p_uv=p2p,
            duration_s=duration_s,
            shape_ok=shape_ok,
            template=template,
        ),
        strong,
        tail,
    )
