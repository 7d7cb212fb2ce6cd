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

This module plans the twitches; the random streams are in :mod:`.streams`, the units in
:mod:`.units` and the episodes in :mod:`.episodes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import lambertw

from .episodes import Episode
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
from .streams import SEGMENT_S, Part, rng_for
from .units import MotorUnit, RenderContext
from .waveforms import POTENTIAL_HALF_WIDTHS, sample_potential

#: Longest time any planned item reaches past the end of its segment: the longest cramp (40 s)
#: plus the tail of its last mechanical twitch (a lead-off lasts at most 30 s).
MAX_REACH_S = 42.0
#: Twitches closer than this to an episode are not generated: they would not be seen at rest.
REST_MARGIN_S = 0.25
#: Within-unit spread of potential amplitude (log-normal sigma): same unit, nearly same size.
UNIT_AMP_JITTER = 0.1


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


Item = Twitch | Episode


def raw_twitch_rate_per_s(model: SiteModel) -> float:
    """Candidate rate whose dead-time thinning leaves ``model.twitch_rate_per_min``, in 1/s.

    Keeping a candidate needs a gap >= d after the previous one: kept rate = r exp(-r d), solved
    on its lower branch with the Lambert W function.
    """
    target = model.twitch_rate_per_min / 60.0
    d = dead_time_s(model.doublet_prob)
    return float(-lambertw(-target * d, 0).real / d)


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
