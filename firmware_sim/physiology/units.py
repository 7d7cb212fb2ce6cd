"""The site's motor units: drawn once from ``(seed, UNITS)`` and ``(seed, CRAMP_UNITS)``.

Each unit has a fixed potential shape, size and mechanics; every twitch and cramp of the site is
made of them. :class:`RenderContext` carries them to planning and rendering.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .model import TWITCH_AMP_CLAMP_UV, SiteModel
from .streams import Part, rng_for

#: Gaussian sigma of unit potentials: drawn over +-5 sigma they last 9-20 ms.
UNIT_WIDTH_S = (0.0009, 0.002)
#: Mechanical twitch delay after the EMG peak (detector.md §2, A12); its contraction time range is
#: the model's (``twitch_contraction_s_min`` / ``_max``, 30-100 ms by default).
TWITCH_ACC_DELAY_S = (0.02, 0.05)
#: Spread of the cramp-only units' sizes around ``cramp_extra_amp_uv`` (log-normal sigma).
CRAMP_EXTRA_AMP_LOG_SIGMA = 0.3


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
