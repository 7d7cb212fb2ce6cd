"""Episodes (voluntary, motion, cramp, pop, lead-off) starting in one segment, from
``(seed, EPISODES, segment)`` only: each is complete once drawn, however far it runs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import TruthEvent, TruthKind
from .streams import SEGMENT_S, Part, log_uniform, rng_for
from .units import RenderContext

#: Episode durations in s and amplitudes (detector.md §2: A13 cramp, voluntary, motion).
VOLUNTARY_DURATION_S = (2.0, 20.0)
VOLUNTARY_RMS_UV = (50.0, 1000.0)
MOTION_DURATION_S = (1.0, 10.0)
MOTION_ARTIFACT_UV = (20.0, 300.0)
CRAMP_DURATION_S = (10.0, 40.0)
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
