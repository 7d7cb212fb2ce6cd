"""Planning: what happens in each fixed time segment of a site, drawn from (seed, segment).

Nothing here depends on what was rendered or asked for before, so any segment can be planned on
its own and always comes out the same:

- the motor units of the site are drawn once from ``(seed, UNITS)``;
- episodes (voluntary, motion, cramp, pop, lead-off) *starting* in segment ``k`` are drawn from
  ``(seed, EPISODES, k)`` only; each is complete once drawn, however far it runs;
- twitch candidates of segment ``k`` are a Poisson process drawn from ``(seed, TWITCHES, k)``;
  a candidate is kept if the previous candidate (which may sit in segment ``k - 1``) ended at
  least :data:`~.model.ISOLATION_S` earlier, and if it lies clear of every episode that can
  reach segment ``k``. Both tests look only at raw draws of neighbouring segments.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from scipy.special import lambertw

from .model import (
    DOUBLET_INTERVAL_S,
    DOUBLET_LOG_SIGMA,
    DOUBLET_MEDIAN_S,
    ISOLATION_S,
    TWITCH_AMP_CLAMP_UV,
    SiteModel,
    TruthEvent,
    TruthKind,
    dead_time_s,
)
from .waveforms import POTENTIAL_HALF_WIDTHS, sample_potential

#: Planning segment length. Events are drawn per segment; long episodes may run past its end.
SEGMENT_S = 10.0
#: Longest time any planned item reaches past the end of its segment: the longest cramp (40 s)
#: plus the tail of its last mechanical twitch (a lead-off lasts at most 30 s).
MAX_REACH_S = 42.0
#: Twitches closer than this to an episode are not generated: they would not be seen at rest.
REST_MARGIN_S = 0.25
#: Within-unit spread of potential amplitude (log-normal sigma): same unit, nearly same size.
UNIT_AMP_JITTER = 0.1
#: Gaussian sigma of unit potentials: drawn over +-5 sigma they last 9-20 ms.
UNIT_WIDTH_S = (0.0009, 0.002)
#: Mechanical twitch delay after the EMG peak (detector.md §2, A12); its contraction time range is
#: the model's (``twitch_contraction_s_min`` / ``_max``, 30-100 ms by default).
TWITCH_ACC_DELAY_S = (0.02, 0.05)
#: Episode durations in s and amplitudes (detector.md §2: A13 cramp, voluntary, motion).
VOLUNTARY_DURATION_S = (2.0, 20.0)
VOLUNTARY_RMS_UV = (50.0, 1000.0)
MOTION_DURATION_S = (1.0, 10.0)
MOTION_ARTIFACT_UV = (20.0, 300.0)
CRAMP_DURATION_S = (10.0, 40.0)
#: Spread of the cramp-only units' sizes around ``cramp_extra_amp_uv`` (log-normal sigma).
CRAMP_EXTRA_AMP_LOG_SIGMA = 0.3
#: Share of cramps, when the site has cramp-only units, made of them alone; the others are made
#: of its twitching units. Cramps of unseen units cannot lean on templates of earlier twitches.
CRAMP_UNSEEN_SHARE = 0.5
#: Electrode pop: peak (kept inside the DIY front end's +-6.5 mV) and decay time constant.
POP_AMP_UV = (1500.0, 5000.0)
POP_TAU_S = (0.03, 0.12)
POP_EXTENT_TAUS = 8.0
#: Lead-off: an electrode loses contact for seconds (a cable tugged, a dry electrode lifting) until
#: it settles back; mains pickup on the floating input is hundreds of µV to mV. [M] ranges.
LEADOFF_DURATION_S = (2.0, 30.0)
LEADOFF_PICKUP_UV = (500.0, 3000.0)


class Part(IntEnum):
    """Random streams, the first element of every seed key after the site seed."""

    UNITS = 1
    EPISODES = 2
    TWITCHES = 3
    EMG_NOISE = 4
    ACC_NOISE = 5
    DETAIL = 6  # per-episode details: (DETAIL, segment, index, Detail)
    # New streams go last so every existing seed keeps drawing exactly what it drew before.
    MAINS = 7  # the site's mains profile: harmonics, phases, slow amplitude modulation
    WANDER = 8  # the site's baseline wander: slow sinusoids
    DRIFT = 9  # electrode/skin drift: slow sinusoids of 0.05-0.3 Hz
    CRAMP_UNITS = 10  # large units that fire only in cramps
    EMG_COLOURED = 11  # white noise that the 1/f filter colours, per block
    WALKING = 12  # walking bouts: (WALKING, segment) plans them, after every other episode


class Detail(IntEnum):
    """Sub-streams of one episode: shared by both signals, or private to one."""

    SHARED = 0
    EMG = 1
    ACC = 2
    TILT = 3  # a cramp's foot tilt


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """The generator for one random stream: ``SeedSequence(seed, spawn_key=key)``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


@dataclass(frozen=True, slots=True)
class MotorUnit:
    """A fasciculating motor unit of the site: fixed shape, size and mechanics."""

    unit_id: int
    coef: tuple[float, float, float]  # He1..He3 weights of its potential
    width_s: float  # Gaussian sigma of its potential
    amp_uv: float  # median peak-to-peak amplitude of its potentials
    share: float  # probability that a twitch of the site is this unit's
    acc_g: float  # median peak-to-peak of its mechanical twitch
    acc_axis: tuple[float, float, float]  # unit vector of the twitch in sensor axes
    contraction_s: float
    acc_delay_s: float  # mechanical twitch onset after the EMG peak


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What rendering an item needs besides the item: the model, the seed and the units."""

    model: SiteModel
    seed: int
    units: tuple[MotorUnit, ...]  # the twitching units, ids 0..n_units-1
    cramp_units: tuple[MotorUnit, ...] = ()  # units that fire only in cramps, ids from n_units

    def unit(self, unit_id: int) -> MotorUnit:
        """Any unit of the site by id: a twitching one or a cramp-only one."""
        n = len(self.units)
        return self.units[unit_id] if unit_id < n else self.cramp_units[unit_id - n]


@dataclass(frozen=True, slots=True, eq=False)
class Twitch:
    """One fasciculation potential with its mechanical twitch. The EMG is drawn at planning."""

    key: tuple[int, int]  # (segment, index): fixes the summation order
    unit_id: int
    emg_n0: int
    emg_uv: np.ndarray  # (n,) the potential in µV, from sample emg_n0
    acc_onset_s: float
    acc_p2p_g: float
    truth: TruthEvent

    @property
    def span_s(self) -> tuple[float, float]:
        """Time span reached by either signal, in s (conservative)."""
        return self.truth.start_s - 0.02, self.acc_onset_s + 1.0


@dataclass(frozen=True, slots=True)
class Episode:
    """A voluntary contraction, limb motion, cramp, electrode pop or lead-off. Drawn at render."""

    key: tuple[int, int]
    kind: TruthKind
    start_s: float
    duration_s: float
    amplitude_uv: float
    unit_ids: tuple[int, ...]  # cramp: discharging units, primary first; else ()
    walking: bool = False  # a motion episode with steps (see :mod:`.walking`)

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    @property
    def span_s(self) -> tuple[float, float]:
        """Time span reached by either signal, in s (conservative)."""
        return self.start_s - 0.05, self.end_s + 1.0

    @property
    def truth(self) -> TruthEvent:
        unit = self.unit_ids[0] if self.unit_ids else -1
        return TruthEvent(
            self.kind, self.start_s, self.end_s, self.start_s, self.amplitude_uv, unit
        )


Item = Twitch | Episode


def raw_twitch_rate_per_s(model: SiteModel) -> float:
    """Candidate rate whose dead-time thinning leaves ``model.twitch_rate_per_min``, in 1/s.

    Keeping a candidate needs a gap >= d after the previous one: kept rate = r exp(-r d), solved
    on its lower branch with the Lambert W function.
    """
    target = model.twitch_rate_per_min / 60.0
    d = dead_time_s(model.doublet_prob)
    return float(-lambertw(-target * d, 0).real / d)


def draw_units(model: SiteModel, seed: int) -> tuple[MotorUnit, ...]:
    """The site's fasciculating units, from ``(seed, UNITS)``; loops over units, not samples."""
    return _draw_units(model, rng_for(seed, Part.UNITS), model.n_units, 0, model.twitch_amp_uv_median,
                       model.twitch_amp_log_sigma)  # fmt: skip


def draw_cramp_units(model: SiteModel, seed: int) -> tuple[MotorUnit, ...]:
    """The site's cramp-only units, from ``(seed, CRAMP_UNITS)``: large, never twitching."""
    if model.cramp_extra_units == 0:
        return ()
    rng = rng_for(seed, Part.CRAMP_UNITS)
    units = _draw_units(model, rng, model.cramp_extra_units, model.n_units,
                        model.cramp_extra_amp_uv, CRAMP_EXTRA_AMP_LOG_SIGMA)  # fmt: skip
    return tuple(dataclasses.replace(u, share=0.0) for u in units)


def _draw_units(
    model: SiteModel,
    rng: np.random.Generator,
    n: int,
    first_id: int,
    amp_median_uv: float,
    amp_log_sigma: float,
) -> tuple[MotorUnit, ...]:
    triphasic = rng.random(n) < 0.5
    coef = np.where(triphasic[:, None], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0])
    coef = (coef + rng.uniform(-0.35, 0.35, (n, 3)) * [1.0, 1.0, 0.6]) * rng.choice([-1, 1], n)[
        :, None
    ]
    width_s = rng.uniform(*UNIT_WIDTH_S, n)
    amp_uv = np.clip(
        amp_median_uv * np.exp(rng.normal(0.0, amp_log_sigma, n)), *TWITCH_AMP_CLAMP_UV
    )
    share = rng.dirichlet(np.full(n, 2.0))
    acc_g = model.twitch_acc_g * np.exp(rng.normal(0.0, model.twitch_acc_log_sigma, n))
    axis = (
        np.column_stack((rng.normal(0.0, 0.3, (n, 2)), np.ones(n)))
        * rng.choice([-1, 1], n)[:, None]
    )
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    contraction_s = rng.uniform(model.twitch_contraction_s_min, model.twitch_contraction_s_max, n)
    delay_s = rng.uniform(*TWITCH_ACC_DELAY_S, n)
    return tuple(
        MotorUnit(
            unit_id=first_id + i,
            coef=(float(coef[i, 0]), float(coef[i, 1]), float(coef[i, 2])),
            width_s=float(width_s[i]),
            amp_uv=float(amp_uv[i]),
            share=float(share[i]),
            acc_g=float(acc_g[i]),
            acc_axis=(float(axis[i, 0]), float(axis[i, 1]), float(axis[i, 2])),
            contraction_s=float(contraction_s[i]),
            acc_delay_s=float(delay_s[i]),
        )
        for i in range(n)
    )


@dataclass(frozen=True, slots=True, eq=False)
class Candidates:
    """Raw twitch candidates of one segment, before isolation and rest tests. Arrays (k,)."""

    centre_s: np.ndarray
    unit: np.ndarray
    amp_log: np.ndarray  # log-normal jitter of the first potential
    doublet: np.ndarray  # bool: a repeat follows
    interval_s: np.ndarray  # repeat delay (used where doublet)
    repeat_amp_log: np.ndarray

    @property
    def end_s(self) -> np.ndarray:
        """Centre of the candidate's last potential (the repeat when there is one), in s."""
        return self.centre_s + np.where(self.doublet, self.interval_s, 0.0)


def draw_candidates(ctx: RenderContext, segment: int, raw_rate_per_s: float) -> Candidates:
    """Raw twitch candidates of ``segment``, from ``(seed, TWITCHES, segment)`` only."""
    rng = rng_for(ctx.seed, Part.TWITCHES, segment)
    n = int(rng.poisson(raw_rate_per_s * SEGMENT_S))
    centre_s = np.sort(segment * SEGMENT_S + rng.random(n) * SEGMENT_S)
    share = np.array([u.share for u in ctx.units])
    unit = rng.choice(len(ctx.units), size=n, p=share / share.sum())
    amp_log = rng.normal(0.0, UNIT_AMP_JITTER, n)
    doublet = rng.random(n) < ctx.model.doublet_prob
    interval_s = np.clip(
        DOUBLET_MEDIAN_S * np.exp(rng.normal(0.0, DOUBLET_LOG_SIGMA, n)), *DOUBLET_INTERVAL_S
    )
    repeat_amp_log = rng.normal(0.0, UNIT_AMP_JITTER, n)
    return Candidates(centre_s, unit, amp_log, doublet, interval_s, repeat_amp_log)


def plan_episodes(ctx: RenderContext, segment: int) -> tuple[Episode, ...]:
    """Episodes starting in ``segment``, sorted by start, from ``(seed, EPISODES, segment)``."""
    m = ctx.model
    rng = rng_for(ctx.seed, Part.EPISODES, segment)
    drawn: list[tuple[float, TruthKind, float, float, tuple[int, ...]]] = []
    per_segment = SEGMENT_S / 3600.0
    for kind, per_hour in (
        (TruthKind.VOLUNTARY, m.voluntary_per_hour),
        (TruthKind.MOTION, m.motion_per_hour),
        (TruthKind.CRAMP, m.cramp_per_hour),
        (TruthKind.POP, m.pop_per_hour),
        # Last: its draws come after every other kind's, so adding it changes none of theirs.
        (TruthKind.LEADOFF, m.leadoff_per_hour),
    ):
        n = int(rng.poisson(per_hour * per_segment))
        starts_s = segment * SEGMENT_S + rng.random(n) * SEGMENT_S
        for start_s in starts_s:
            duration_s, amplitude_uv, units = _draw_episode(ctx, kind, rng)
            drawn.append((float(start_s), kind, duration_s, amplitude_uv, units))
    drawn.sort(key=lambda d: d[0])
    return tuple(
        Episode((segment, i), kind, start_s, duration_s, amplitude_uv, units)
        for i, (start_s, kind, duration_s, amplitude_uv, units) in enumerate(drawn)
    )


def _draw_episode(
    ctx: RenderContext, kind: TruthKind, rng: np.random.Generator
) -> tuple[float, float, tuple[int, ...]]:
    """Duration in s, amplitude in µV and units of one episode (see :class:`TruthEvent`)."""
    if kind is TruthKind.VOLUNTARY:
        return rng.uniform(*VOLUNTARY_DURATION_S), log_uniform(rng, VOLUNTARY_RMS_UV), ()
    if kind is TruthKind.MOTION:
        return rng.uniform(*MOTION_DURATION_S), log_uniform(rng, MOTION_ARTIFACT_UV), ()
    if kind is TruthKind.CRAMP:
        m = ctx.model
        n = int(rng.integers(m.cramp_units_min, m.cramp_units_max + 1))
        first, pool = 0, len(ctx.units)
        # Only sites with cramp-only units draw the coin: every other seed draws as before.
        if ctx.cramp_units and rng.random() < CRAMP_UNSEEN_SHARE:
            first, pool = len(ctx.units), len(ctx.cramp_units)
        picked = rng.choice(pool, size=min(n, pool), replace=False)
        units = tuple(first + int(u) for u in picked)
        return rng.uniform(*CRAMP_DURATION_S), ctx.unit(units[0]).amp_uv, units
    if kind is TruthKind.POP:
        tau_s = rng.uniform(*POP_TAU_S)
        return POP_EXTENT_TAUS * tau_s, log_uniform(rng, POP_AMP_UV), ()
    # Lead-off: many short losses of contact, few long ones.
    return log_uniform(rng, LEADOFF_DURATION_S), log_uniform(rng, LEADOFF_PICKUP_UV), ()


def log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """A number drawn uniformly on a log scale between ``bounds``."""
    return float(math.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


def plan_twitches(
    ctx: RenderContext,
    segment: int,
    candidates: Candidates,
    previous: Candidates | None,
    episodes: list[Episode],
    first_index: int,
) -> list[Twitch]:
    """Twitches of ``segment``: the isolated candidates clear of every nearby episode.

    Parameters
    ----------
    ctx : RenderContext
        Model, seed and units of the site.
    segment : int
        Index of the segment, from 0.
    candidates, previous : Candidates
        Raw draws of this segment and of the one before (None for segment 0).
    episodes : list of Episode
        Every episode that can reach this segment (started up to :data:`MAX_REACH_S` earlier).
    first_index : int
        Index of the first twitch in the segment's item order.

    Returns
    -------
    list of Twitch
        In time order; a doublet's repeat follows its first potential.
    """
    prev_end_s = previous.end_s[-1] if previous is not None and previous.end_s.size else -np.inf
    ends_s = candidates.end_s
    gaps_s = candidates.centre_s - np.concatenate(([prev_end_s], ends_s[:-1]))
    half_s = np.array([u.width_s for u in ctx.units])[candidates.unit] * POTENTIAL_HALF_WIDTHS
    # Isolated, and whole: a potential cut by the start of the recording is not a truth event.
    keep = (gaps_s >= ISOLATION_S) & (candidates.centre_s - half_s >= 0.0)
    if episodes:
        lo_s = np.array([e.start_s for e in episodes]) - REST_MARGIN_S
        hi_s = np.array([e.end_s for e in episodes]) + REST_MARGIN_S
        busy = ((candidates.centre_s - half_s)[:, None] < hi_s) & (
            (ends_s + half_s)[:, None] > lo_s
        )
        keep &= ~busy.any(axis=1)
    twitches: list[Twitch] = []
    for i in np.flatnonzero(keep):
        unit = ctx.units[candidates.unit[i]]
        key = (segment, first_index + len(twitches))
        twitches.append(_twitch(ctx, key, unit, candidates.centre_s[i], candidates.amp_log[i]))
        if candidates.doublet[i]:
            key = (segment, first_index + len(twitches))
            centre_s = candidates.centre_s[i] + candidates.interval_s[i]
            repeat = _twitch(ctx, key, unit, centre_s, candidates.repeat_amp_log[i], True)
            twitches.append(repeat)
    return twitches


def _twitch(
    ctx: RenderContext,
    key: tuple[int, int],
    unit: MotorUnit,
    centre_s: float,
    amp_log: float,
    doublet: bool = False,
) -> Twitch:
    """Draw one potential; its truth (peak, extent, amplitude) is measured on the samples."""
    fs_hz = ctx.model.emg_fs_hz
    amp_uv = float(np.clip(unit.amp_uv * math.exp(amp_log), *TWITCH_AMP_CLAMP_UV))
    n0, w = sample_potential(float(centre_s), unit.coef, unit.width_s, fs_hz)
    emg_uv = w * amp_uv
    magnitude = np.abs(emg_uv)
    visible = np.flatnonzero(magnitude >= 0.02 * magnitude.max())  # 2 % of the peak
    peak_s = (n0 + int(np.argmax(magnitude))) / fs_hz
    truth = TruthEvent(
        TruthKind.TWITCH,
        (n0 + int(visible[0])) / fs_hz,
        (n0 + int(visible[-1])) / fs_hz,
        peak_s,
        float(np.ptp(emg_uv)),
        unit.unit_id,
        doublet,
    )
    acc_p2p_g = unit.acc_g * amp_uv / unit.amp_uv
    return Twitch(key, unit.unit_id, n0, emg_uv, peak_s + unit.acc_delay_s, acc_p2p_g, truth)
