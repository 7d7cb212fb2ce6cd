"""Walking bouts: the gait on the accelerometer and what it does to the EMG of a calf.

A bout is a ``motion`` episode (the limb moves) with its own planning stream
``(seed, WALKING, segment)``, drawn after every other episode so adding walking changes no other
draw. Unlike the generic motion episode (a few sinusoids), a bout has steps:

- the accelerometer on the shank swings at the stride frequency (0.8-1 Hz, one leg) with its
  second harmonic, and each heel strike of this leg is an impact of 1-3 g ringing at 12-25 Hz
  for tens of ms; the other leg's strike, half a stride later, arrives weaker;
- the EMG holds the calf's push-off burst in every stance (an interference pattern of 50-300 µV
  RMS over ~40 % of the stride) and a step artefact at each heel strike: the electrodes shift on
  the skin, a sharp-onset transient of 100-800 µV ringing at 5-15 Hz.

Ranges are [M]: typical of shank-worn IMUs and surface EMG of the gastrocnemius in gait.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import butter, sosfilt

from .episodes import Episode
from .model import EMG_BAND_HZ, TruthKind
from .streams import SEGMENT_S, Detail, Part, log_uniform, rng_for
from .units import RenderContext
from .waveforms import grid, ramp_envelope

#: Bout length: at most MAX_REACH_S of the planner (an episode may reach that far past its segment).
WALKING_DURATION_S = (10.0, 40.0)
#: Least rest between two bouts: a bout drawn sooner after another (or inside it) is dropped.
WALKING_GAP_S = 2.0
STRIDE_S = (1.0, 1.25)  # one leg's stride: 0.8-1 Hz, i.e. 1.6-2 steps/s
STRIDE_CV = 0.03
SWING_G = (0.3, 0.8)
SWING_HARMONIC_G = (0.1, 0.3)
IMPACT_G = (1.0, 3.0)
IMPACT_HZ = (12.0, 25.0)
IMPACT_TAU_S = (0.015, 0.04)
OTHER_LEG_SHARE = (0.3, 0.5)
BURST_RMS_UV = (50.0, 300.0)
BURST_PHASE = (0.15, 0.55)  # share of the stride after this leg's heel strike
STEP_ARTIFACT_UV = (100.0, 800.0)
STEP_ARTIFACT_HZ = (5.0, 15.0)
STEP_ARTIFACT_TAU_S = (0.03, 0.08)
#: The electrodes' shift is also a jump that decays: a sharp edge, so broadband for a few ms.
STEP_ARTIFACT_JUMP = 0.5
#: The bout fades in and out over its first and last stride.
RAMP_S = 1.0


def plan_walking(ctx: RenderContext, segment: int, first_index: int) -> tuple[Episode, ...]:
    """Walking bouts starting in ``segment``, from ``(seed, WALKING, segment)`` and the raw draws
    of the segments before it: a bout is kept only if no earlier raw bout still runs (one person
    walks one walk at a time). Looking at raw draws, never at kept ones, keeps this local."""
    if ctx.model.walking_per_hour <= 0.0:
        return ()
    reach = math.ceil(WALKING_DURATION_S[1] / SEGMENT_S)
    earlier = [b for k in range(max(0, segment - reach), segment) for b in _raw_bouts(ctx, k)]
    out: list[Episode] = []
    busy_until_s = max((start_s + duration_s for start_s, duration_s, _ in earlier), default=-1.0)
    for start_s, duration_s, artifact_uv in _raw_bouts(ctx, segment):
        if start_s > busy_until_s + WALKING_GAP_S:
            key = (segment, first_index + len(out))
            out.append(Episode(key, TruthKind.MOTION, start_s, duration_s, artifact_uv, (), True))
        busy_until_s = max(busy_until_s, start_s + duration_s)
    return tuple(out)


def _raw_bouts(ctx: RenderContext, segment: int) -> list[tuple[float, float, float]]:
    """(start s, duration s, step artifact µV) of every bout drawn for ``segment``, by start."""
    rng = rng_for(ctx.seed, Part.WALKING, segment)
    n = int(rng.poisson(ctx.model.walking_per_hour * SEGMENT_S / 3600.0))
    starts_s = np.sort(segment * SEGMENT_S + rng.random(n) * SEGMENT_S)
    return [
        (float(start_s), rng.uniform(*WALKING_DURATION_S), log_uniform(rng, STEP_ARTIFACT_UV))
        for start_s in starts_s
    ]


def _strikes_s(ep: Episode, ctx: RenderContext) -> tuple[np.ndarray, float]:
    """This leg's heel strikes (s, absolute) and the mean stride, shared by both signals."""
    rng = rng_for(ctx.seed, Part.DETAIL, ep.key[0], ep.key[1], Detail.SHARED)
    stride_s = rng.uniform(*STRIDE_S)
    n = math.ceil(ep.duration_s / stride_s) + 2
    steps = stride_s * (1.0 + STRIDE_CV * rng.standard_normal(n))
    times = ep.start_s + rng.uniform(0.0, stride_s) + np.concatenate(([0.0], np.cumsum(steps)))
    return times[times < ep.end_s - 0.1], stride_s


def _detail(ctx: RenderContext, ep: Episode, part: Detail) -> np.random.Generator:
    return rng_for(ctx.seed, Part.DETAIL, ep.key[0], ep.key[1], part)


def _ringing(
    x_s: np.ndarray, at_s: np.ndarray, gains: np.ndarray, hz: float, tau_s: float, jump: float = 0.0
) -> np.ndarray:
    """Damped sines starting at ``at_s`` (s from the grid start), ``gains`` high, each plus a
    decaying jump of ``jump`` times its gain."""
    fine = np.linspace(0.0, 6 * tau_s, 4001)
    peak = float(np.abs(np.exp(-fine / tau_s) * (np.sin(2 * np.pi * hz * fine) + jump)).max())
    gains = gains / peak  # so each transient peaks at its gain
    out = np.zeros(x_s.size)
    for t0, gain in zip(at_s, gains, strict=True):
        lo = int(np.searchsorted(x_s, t0))
        hi = int(np.searchsorted(x_s, t0 + 6 * tau_s))
        u = x_s[lo:hi] - t0
        out[lo:hi] += gain * np.exp(-u / tau_s) * (np.sin(2 * np.pi * hz * u) + jump)
    return out


def walking_acc(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    """Shank acceleration (3, n) in g: the swing, its harmonic and the heel-strike impacts."""
    strikes_s, stride_s = _strikes_s(ep, ctx)
    rng = _detail(ctx, ep, Detail.ACC)
    n0, x_s = grid(ep.start_s, ep.end_s, ctx.model.acc_fs_hz)
    t_s = ep.start_s + x_s
    # Gait phase: 0 at each heel strike, +1 per stride, interpolated between strikes.
    phase = np.interp(t_s, strikes_s, np.arange(strikes_s.size), left=np.nan, right=np.nan)
    phase = np.where(np.isnan(phase), (t_s - strikes_s[0]) / stride_s, phase)
    axes = rng.normal(size=(3, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    swing = log_uniform(rng, SWING_G) * np.sin(2 * np.pi * phase + rng.uniform(0, 2 * np.pi))
    harmonic = log_uniform(rng, SWING_HARMONIC_G) * np.sin(
        4 * np.pi * phase + rng.uniform(0, 2 * np.pi)
    )
    own = log_uniform(rng, IMPACT_G) * np.exp(rng.normal(0.0, 0.1, strikes_s.size))
    other = own * rng.uniform(*OTHER_LEG_SHARE)
    hz, tau_s = rng.uniform(*IMPACT_HZ), rng.uniform(*IMPACT_TAU_S)
    impacts = _ringing(x_s, strikes_s - ep.start_s, own, hz, tau_s)
    impacts += _ringing(x_s, strikes_s - ep.start_s + stride_s / 2, other, hz, tau_s)
    down = np.array(ctx.model.gravity_g, dtype=np.float64)
    down = down / max(float(np.linalg.norm(down)), 1e-12)
    wave = np.outer(axes[0], swing) + np.outer(axes[1], harmonic) + np.outer(down, impacts)
    return n0, wave * ramp_envelope(x_s, ep.duration_s, RAMP_S, RAMP_S)


def walking_emg(ep: Episode, ctx: RenderContext) -> tuple[int, np.ndarray]:
    """EMG (n,) in µV: the push-off burst of every stance and a step artefact at each strike."""
    fs_hz = ctx.model.emg_fs_hz
    strikes_s, stride_s = _strikes_s(ep, ctx)
    rng = _detail(ctx, ep, Detail.EMG)
    n0, x_s = grid(ep.start_s, ep.end_s, fs_hz)
    high_hz = min(EMG_BAND_HZ[1], 0.45 * fs_hz)
    sos = butter(4, (EMG_BAND_HZ[0], high_hz), btype="bandpass", fs=fs_hz, output="sos")
    pattern = sosfilt(sos, rng.standard_normal(x_s.size))
    pattern /= max(float(np.sqrt(np.mean(pattern**2))), 1e-12)
    rms_uv = log_uniform(rng, BURST_RMS_UV)
    envelope = np.zeros(x_s.size)
    for t0 in strikes_s - ep.start_s:
        lo_s, hi_s = t0 + BURST_PHASE[0] * stride_s, t0 + BURST_PHASE[1] * stride_s
        inside = (x_s >= lo_s) & (x_s < hi_s)
        u = (x_s[inside] - lo_s) / (hi_s - lo_s)
        envelope[inside] += np.sin(np.pi * u) ** 2 * math.exp(rng.normal(0.0, 0.2))
    burst = rms_uv * envelope * pattern  # rms_uv at the top of each burst
    gains = (
        ep.amplitude_uv
        * rng.uniform(0.5, 1.0, strikes_s.size)
        * rng.choice([-1, 1], strikes_s.size)
    )
    hz, tau_s = rng.uniform(*STEP_ARTIFACT_HZ), rng.uniform(*STEP_ARTIFACT_TAU_S)
    steps = _ringing(x_s, strikes_s - ep.start_s, gains, hz, tau_s, STEP_ARTIFACT_JUMP)
    return n0, (burst + steps) * ramp_envelope(x_s, ep.duration_s, RAMP_S, RAMP_S)
