"""Rendering: one planned item's whole waveform on the EMG (µV) or accelerometer (g) grid.

An item is always drawn whole, from its own random streams ``(seed, DETAIL, segment, index,
Detail)``, so the samples it contributes never depend on the range being asked for. Loops run
over motor units or sinusoid components, never over samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.signal import butter, sosfilt

from .episodes import POP_EXTENT_TAUS, Episode
from .interference import LEADOFF_MAINS_HZ, draw_mains
from .model import EMG_RAIL_UV, TruthKind
from .plan import Item, Twitch
from .streams import Detail, Part, log_uniform, rng_for
from .units import UNIT_WIDTH_S, RenderContext
from .walking import walking_acc, walking_emg
from .waveforms import (
    gamma_train_s,
    grid,
    potential_kernel,
    ramp_envelope,
    sample_twitch,
    stamp,
    twitch_kernel,
)

#: Voluntary contraction: recruited units, thresholds on a 0-1 drive, discharge rates
#: (6-25 pps, detector.md §2; 8 pps at recruitment) and a regular ISI (CV 0.15).
VOLUNTARY_UNITS = 24
VOLUNTARY_THRESHOLD = (0.0, 0.8)
VOLUNTARY_RATE_PPS = (8.0, 25.0)
VOLUNTARY_ISI_CV = 0.15
VOLUNTARY_RAMP_S = (0.5, 3.0)
VOLUNTARY_MOVE_G = (0.02, 0.3)
VOLUNTARY_MOVE_HZ = (0.3, 2.0)
VOLUNTARY_TREMOR_HZ = (8.0, 12.0)  # physiological tremor
VOLUNTARY_TREMOR_G = (0.002, 0.01)
#: Limb motion (detector.md §2): 0.05-1 g at 0.5-5 Hz; its EMG artifact stays below 20 Hz.
MOTION_ACC_G = (0.05, 1.0)
MOTION_HZ = (0.5, 5.0)
MOTION_ARTIFACT_BAND_HZ = (1.0, 20.0)
#: Cramp (Minetto 2009, A13): 14.5 +- 5.1 pps, clipped 6-25, ISI CV 0.45.
CRAMP_RATE_PPS = (14.5, 5.1)
CRAMP_RATE_CLIP_PPS = (6.0, 25.0)
CRAMP_ISI_CV = 0.45
#: A cramp's foot tilt: this share of the model's ``cramp_tilt_deg``, reached over these times.
CRAMP_TILT_SHARE = (0.4, 1.0)
CRAMP_TILT_RAMP_S = (0.5, 3.0)
#: Margin drawn around discharges so no potential is cut at an episode's edge.
EMG_PAD_S = 0.02
ACC_TAIL_S = 1.0
POP_RISE_S = 0.0005
#: Lead-off: the floating input drifts to a DC level beyond the rail (times EMG_RAIL_UV) within
#: milliseconds of losing contact; once contact returns the front end's high-pass takes a few
#: hundred ms to pull it back. [M]
LEADOFF_LEVEL = (1.0, 1.5)
LEADOFF_RISE_S = (0.005, 0.05)
LEADOFF_RECOVERY_S = (0.1, 0.5)


def render_emg(item: Item, ctx: RenderContext) -> tuple[int, np.ndarray] | None:
    """The item's EMG: first absolute sample and samples (n,) in µV, or None if it has none."""
    if isinstance(item, Twitch):
        return item.emg_n0, item.emg_uv
    if item.walking:
        return walking_emg(item, ctx)
    return _EMG[item.kind](item, ctx)


def render_acc(item: Item, ctx: RenderContext) -> tuple[int, np.ndarray] | None:
    """The item's acceleration: first absolute sample and samples (3, n) in g, or None."""
    if isinstance(item, Twitch):
        unit = ctx.units[item.unit_id]
        n0, w = sample_twitch(item.acc_onset_s, unit.contraction_s, ctx.model.acc_fs_hz)
        return n0, np.outer(unit.acc_axis, w * item.acc_p2p_g)
    if item.walking:
        return walking_acc(item, ctx)
    acc = _ACC[item.kind]
    return None if acc is None else acc(item, ctx)


def _detail(ctx: RenderContext, ep: Episode, part: Detail) -> np.random.Generator:
    return rng_for(ctx.seed, Part.DETAIL, ep.key[0], ep.key[1], part)


def _directions(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 3) random unit vectors."""
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


# --- voluntary contraction -----------------------------------------------------------------


def _voluntary_ramps_s(ep: Episode, ctx: RenderContext) -> tuple[float, float]:
    rng = _detail(ctx, ep, Detail.SHARED)
    top_s = min(VOLUNTARY_RAMP_S[1], max(VOLUNTARY_RAMP_S[0], ep.duration_s / 3.0))
    return rng.uniform(VOLUNTARY_RAMP_S[0], top_s), rng.uniform(VOLUNTARY_RAMP_S[0], top_s)


def _voluntary_emg(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    """Interference pattern: units recruited in size order as the drive ramps, rate coding."""
    fs_hz = ctx.model.emg_fs_hz
    rng = _detail(ctx, ep, Detail.EMG)
    n0, x_s = grid(ep.start_s, ep.end_s, fs_hz)
    drive = ramp_envelope(x_s, ep.duration_s, *_voluntary_ramps_s(ep, ctx))
    thresholds = np.sort(rng.uniform(*VOLUNTARY_THRESHOLD, VOLUNTARY_UNITS))
    sizes = np.exp(2.3 * thresholds / VOLUNTARY_THRESHOLD[1])  # size principle: ~10x range
    low_pps, high_pps = VOLUNTARY_RATE_PPS
    gamma_shape = 1.0 / VOLUNTARY_ISI_CV**2
    out = np.zeros(x_s.size)
    for threshold, size in zip(thresholds, sizes, strict=True):
        coef = rng.uniform(-1.0, 1.0, 3) * (1.0, 1.0, 0.5)
        kernel, centre = potential_kernel(tuple(coef), rng.uniform(*UNIT_WIDTH_S), fs_hz)
        above = (drive - threshold) / (1.0 - threshold)  # 0 at recruitment, 1 at full drive
        rate_pps = np.where(above > 0.0, low_pps + (high_pps - low_pps) * above, 0.0)
        phase = np.cumsum(rate_pps) / fs_hz  # discharges at unit steps of phase (time rescaling)
        total = float(phase[-1]) if phase.size else 0.0
        n_draw = math.ceil(total + 6.0 * math.sqrt(total) + 4.0)
        targets = rng.random() + np.cumsum(rng.gamma(gamma_shape, 1.0 / gamma_shape, n_draw))
        at = np.searchsorted(phase, targets[targets < total])
        weights = size * np.exp(rng.normal(0.0, 0.05, at.size))
        out += stamp(out.size, at, weights, kernel, centre)
    plateau = out[drive >= 0.999]
    rms = _rms(plateau if plateau.size else out)
    return n0, out * (ep.amplitude_uv / rms) if rms > 0.0 else out


def _voluntary_acc(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    """Limb movement (0.3-2 Hz) plus physiological tremor, both under the drive envelope."""
    rng = _detail(ctx, ep, Detail.ACC)
    n0, x_s = grid(ep.start_s, ep.end_s, ctx.model.acc_fs_hz)
    envelope = ramp_envelope(x_s, ep.duration_s, *_voluntary_ramps_s(ep, ctx))
    freqs_hz = rng.uniform(*VOLUNTARY_MOVE_HZ, 2)
    phases = rng.uniform(0.0, 2 * np.pi, 2)
    move = _directions(rng, 2).T @ np.sin(2 * np.pi * freqs_hz[:, None] * x_s + phases[:, None])
    peak = float(np.linalg.norm(move, axis=0).max()) if x_s.size else 1.0
    move *= log_uniform(rng, VOLUNTARY_MOVE_G) / peak
    tremor = np.sin(2 * np.pi * rng.uniform(*VOLUNTARY_TREMOR_HZ) * x_s + rng.uniform(0, 2 * np.pi))
    tremor_axis = _directions(rng, 1)[0] * rng.uniform(*VOLUNTARY_TREMOR_G)
    return n0, (move + np.outer(tremor_axis, tremor)) * envelope


# --- limb motion ---------------------------------------------------------------------------


def _motion_components(
    ep: Episode, ctx: RenderContext
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Shared by both signals: frequencies, phases, axes (k, 3), EMG gains, acc peak g, taper s."""
    rng = _detail(ctx, ep, Detail.SHARED)
    k = int(rng.integers(1, 4))
    freqs_hz = rng.uniform(*MOTION_HZ, k)
    phases = rng.uniform(0.0, 2 * np.pi, k)
    axes = _directions(rng, k) * rng.uniform(0.3, 1.0, (k, 1))
    gains = rng.uniform(-1.0, 1.0, k)
    acc_g = log_uniform(rng, MOTION_ACC_G)
    return freqs_hz, phases, axes, gains, acc_g, min(0.5, ep.duration_s / 4.0)


def _motion_emg(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    """Low-frequency artifact: the movement itself plus 1-20 Hz cable/skin noise."""
    fs_hz = ctx.model.emg_fs_hz
    freqs_hz, phases, _, gains, _, taper_s = _motion_components(ep, ctx)
    rng = _detail(ctx, ep, Detail.EMG)
    n0, x_s = grid(ep.start_s, ep.end_s, fs_hz)
    slow = gains @ np.sin(2 * np.pi * freqs_hz[:, None] * x_s + phases[:, None])
    sos = butter(2, MOTION_ARTIFACT_BAND_HZ, btype="bandpass", fs=fs_hz, output="sos")
    wobble = sosfilt(sos, rng.standard_normal(x_s.size))
    share = rng.uniform(0.2, 0.6)
    slow /= max(_rms(slow), 1e-12)
    wobble /= max(_rms(wobble), 1e-12)
    artifact = (1 - share) * slow + share * wobble
    artifact *= ramp_envelope(x_s, ep.duration_s, taper_s, taper_s)
    peak = float(np.abs(artifact).max()) if x_s.size else 0.0
    return n0, artifact * (ep.amplitude_uv / peak) if peak > 0.0 else artifact


def _motion_acc(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    """A few 0.5-5 Hz sinusoids along random axes, tapered, peak |a| = the drawn 0.05-1 g."""
    freqs_hz, phases, axes, _, acc_g, taper_s = _motion_components(ep, ctx)
    n0, x_s = grid(ep.start_s, ep.end_s, ctx.model.acc_fs_hz)
    wave = axes.T @ np.sin(2 * np.pi * freqs_hz[:, None] * x_s + phases[:, None])
    wave *= ramp_envelope(x_s, ep.duration_s, taper_s, taper_s)
    peak = float(np.linalg.norm(wave, axis=0).max()) if x_s.size else 0.0
    return n0, wave * (acc_g / peak) if peak > 0.0 else wave


# --- cramp ---------------------------------------------------------------------------------


def _cramp_trains(ep: Episode, ctx: RenderContext) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per unit: id, discharge times (s) and relative amplitudes. The primary unit spans it all."""
    rng = _detail(ctx, ep, Detail.SHARED)
    trains = []
    for i, unit_id in enumerate(ep.unit_ids):
        mean_pps, sd_pps = CRAMP_RATE_PPS
        rate_pps = float(np.clip(rng.normal(mean_pps, sd_pps), *CRAMP_RATE_CLIP_PPS))
        on_s, off_s = (0.0, 0.0) if i == 0 else rng.uniform(0.0, 0.3 * ep.duration_s, 2)
        times_s = gamma_train_s(rng, rate_pps, CRAMP_ISI_CV, ep.start_s + on_s, ep.end_s - off_s)
        trains.append((unit_id, times_s, np.exp(rng.normal(0.0, 0.1, times_s.size))))
    return trains


def _cramp_emg(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    fs_hz = ctx.model.emg_fs_hz
    n0, x_s = grid(ep.start_s - EMG_PAD_S, ep.end_s + EMG_PAD_S, fs_hz)
    out = np.zeros(x_s.size)
    for unit_id, times_s, weights in _cramp_trains(ep, ctx):
        unit = ctx.unit(unit_id)
        kernel, centre = potential_kernel(unit.coef, unit.width_s, fs_hz)
        at = np.round(times_s * fs_hz).astype(np.int64) - n0
        out += stamp(out.size, at, weights * unit.amp_uv, kernel, centre)
    return n0, out


def _cramp_acc(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    """Unfused tetanus: the units' mechanical twitches summed at each discharge."""
    fs_hz = ctx.model.acc_fs_hz
    n0, x_s = grid(ep.start_s, ep.end_s + ACC_TAIL_S, fs_hz)
    out = np.zeros((3, x_s.size))
    for unit_id, times_s, weights in _cramp_trains(ep, ctx):
        unit = ctx.unit(unit_id)
        at = np.round((times_s + unit.acc_delay_s) * fs_hz).astype(np.int64) - n0
        kernel = twitch_kernel(unit.contraction_s, fs_hz)
        out += np.outer(unit.acc_axis, stamp(x_s.size, at, weights * unit.acc_g, kernel, 0))
    if ctx.model.cramp_tilt_deg > 0.0:
        out += _cramp_tilt(ep, ctx, x_s)
    return n0, out


def _cramp_tilt(ep: Episode, ctx: RenderContext, x_s: np.ndarray) -> np.ndarray:
    """The foot turns a few degrees as the calf pulls and back as it lets go: gravity rotates.

    Up to ``cramp_tilt_deg`` about a random horizontal axis, reached and left over 0.5-3 s.
    Slow and small: no acceleration of a moving limb, only a changed orientation.
    """
    rng = _detail(ctx, ep, Detail.TILT)
    angle = math.radians(ctx.model.cramp_tilt_deg * rng.uniform(*CRAMP_TILT_SHARE))
    gravity = np.array(ctx.model.gravity_g, dtype=np.float64)
    g = float(np.linalg.norm(gravity))
    if g == 0.0:
        return np.zeros((3, x_s.size))
    down = gravity / g
    axis = np.cross(down, _directions(rng, 1)[0])
    axis /= max(float(np.linalg.norm(axis)), 1e-12)
    # Rodrigues: the gravity vector turned by ``angle`` about ``axis``, minus where it was.
    turned = gravity * math.cos(angle) + np.cross(axis, gravity) * math.sin(angle)
    up_s, down_s = rng.uniform(*CRAMP_TILT_RAMP_S, 2)
    envelope = ramp_envelope(x_s, ep.duration_s, up_s, down_s)
    return np.outer(turned - gravity, envelope)


# --- electrode pop -------------------------------------------------------------------------


def _pop_emg(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    """A fast step of a few mV decaying exponentially, tapered to 0 over its last quarter."""
    tau_s = ep.duration_s / POP_EXTENT_TAUS
    sign = 1.0 if _detail(ctx, ep, Detail.SHARED).random() < 0.5 else -1.0
    n0, x_s = grid(ep.start_s, ep.end_s, ctx.model.emg_fs_hz)
    w = -np.expm1(-x_s / POP_RISE_S) * np.exp(-x_s / tau_s)
    tail = np.clip((ep.duration_s - x_s) / (0.25 * ep.duration_s), 0.0, 1.0)
    w *= tail * tail * (3.0 - 2.0 * tail)
    peak = float(w.max()) if w.size else 0.0
    return n0, w * (sign * ep.amplitude_uv / peak) if peak > 0.0 else w


# --- lead-off --------------------------------------------------------------------------------


def _leadoff_emg(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    """A DC step past the rail plus mains pickup; the generator clips the sum at the rail.

    The pickup uses the site's own mains profile (same harmonics and phase as its powerline), at
    ``powerline_hz`` or, without one, at :data:`~.interference.LEADOFF_MAINS_HZ`.
    """
    m = ctx.model
    rng = _detail(ctx, ep, Detail.SHARED)
    sign = 1.0 if rng.random() < 0.5 else -1.0
    level_uv = sign * EMG_RAIL_UV * rng.uniform(*LEADOFF_LEVEL)
    rise_s = rng.uniform(*LEADOFF_RISE_S)
    recovery_s = min(rng.uniform(*LEADOFF_RECOVERY_S), ep.duration_s / 2)
    n0, x_s = grid(ep.start_s, ep.end_s, m.emg_fs_hz)
    mains_hz = m.powerline_hz or LEADOFF_MAINS_HZ
    n = np.arange(n0, n0 + x_s.size, dtype=np.int64)
    pickup = ep.amplitude_uv * draw_mains(ctx.seed).wave(n, m.emg_fs_hz, mains_hz)
    return n0, (level_uv + pickup) * ramp_envelope(x_s, ep.duration_s, rise_s, recovery_s)


Renderer = Callable[[Episode, RenderContext], tuple[int, np.ndarray]]

_EMG: dict[TruthKind, Renderer] = {
    TruthKind.VOLUNTARY: _voluntary_emg,
    TruthKind.MOTION: _motion_emg,
    TruthKind.CRAMP: _cramp_emg,
    TruthKind.POP: _pop_emg,
    TruthKind.LEADOFF: _leadoff_emg,
}
_ACC: dict[TruthKind, Renderer | None] = {
    TruthKind.VOLUNTARY: _voluntary_acc,
    TruthKind.MOTION: _motion_acc,
    TruthKind.CRAMP: _cramp_acc,
    TruthKind.POP: None,
    TruthKind.LEADOFF: None,  # contact loss is electrical: nothing moves
}
