"""Continuous EMG interference of a site: powerline (mains) pickup and baseline wander.

Both are analytic functions of the absolute sample index, with parameters drawn once per site
from their own random streams ``(seed, MAINS)`` and ``(seed, WANDER)``. A sample's value thus
depends on nothing but its index, which keeps rendering chunk-invariant with no state at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model import SiteModel
from .streams import Part, rng_for

#: Odd harmonics of the mains (rectifier and transformer loads distort it symmetrically) and the
#: range of each one's amplitude relative to the fundamental. [M] typical of indoor pickup.
MAINS_HARMONICS = (3, 5, 7)
MAINS_HARMONIC_FRACTION = ((0.2, 0.4), (0.08, 0.2), (0.04, 0.12))
#: Slow amplitude modulation of the pickup (the person shifts, cables move, loads switch):
#: at most +-20 %, with periods of 10-50 s.
MAINS_AM_DEPTH = 0.2
MAINS_AM_HZ = (0.02, 0.1)
#: Lead-off pickup frequency when the model has no powerline: 50 Hz is the most common mains.
LEADOFF_MAINS_HZ = 50.0
#: Baseline wander (electrode half-cell potential drift, breathing at ~0.2-0.4 Hz): a few slow
#: sinusoids, all well below 1 Hz and the 20 Hz high-pass of the detector.
WANDER_HZ = (0.05, 0.5)
WANDER_COMPONENTS = 4
#: Electrode/skin drift (issue 13: dry skin, sweat, a cable that moves): slow excursions of
#: 150-400 µV at 0.05-0.3 Hz, far larger than the wander. Many components, so the envelope beats
#: between small and large excursions instead of repeating one sinusoid. [M] ranges.
DRIFT_HZ = (0.05, 0.3)
DRIFT_COMPONENTS = 12


@dataclass(frozen=True, slots=True, eq=False)
class Mains:
    """A site's mains waveform: harmonic mix and slow modulation. Arrays are per component."""

    orders: np.ndarray  # (h,) 1 (the fundamental), 3, 5, 7
    fractions: np.ndarray  # (h,) amplitude relative to the fundamental
    phases: np.ndarray  # (h,) rad, at sample 0
    am_hz: np.ndarray  # (2,) modulation frequencies
    am_phases: np.ndarray  # (2,) rad
    am_weights: np.ndarray  # (2,) sum to 1, so the modulation stays within +-MAINS_AM_DEPTH

    def wave(self, n: np.ndarray, fs_hz: float, mains_hz: float) -> np.ndarray:
        """Mains at absolute samples ``n`` with a fundamental of amplitude 1, no modulation.

        Parameters
        ----------
        n : ndarray of int, shape (k,)
            Absolute sample indices.
        fs_hz, mains_hz : float
            Sampling rate and mains frequency, in Hz. The frequency is exact: grid frequency
            drift (normally within +-0.05 Hz, over minutes [M]) only matters to filters
            narrower than that, and no detector here uses one.

        Returns
        -------
        ndarray, shape (k,)
            Unitless; harmonics at or above Nyquist are left out (they would alias).
        """
        orders = self.orders[self.orders * mains_hz < fs_hz / 2]
        # Whole cycles are dropped exactly (fmod of integers times a frequency) before the
        # sine, so the phase stays accurate for recordings of any length.
        cycles = np.mod(np.multiply.outer(orders * mains_hz, n.astype(np.float64)), fs_hz) / fs_hz
        k = orders.size
        phases = 2 * np.pi * cycles + self.phases[:k, None]
        return self.fractions[:k] @ np.sin(phases)

    def modulation(self, n: np.ndarray, fs_hz: float) -> np.ndarray:
        """Slow gain of the pickup at absolute samples ``n``: (k,), within 1 +- MAINS_AM_DEPTH."""
        t_s = n / fs_hz
        waves = np.sin(2 * np.pi * np.multiply.outer(self.am_hz, t_s) + self.am_phases[:, None])
        return 1.0 + MAINS_AM_DEPTH * (self.am_weights @ waves)


@dataclass(frozen=True, slots=True, eq=False)
class Wander:
    """A site's baseline wander: slow sinusoids whose amplitudes sum to 1 (peak <= 1)."""

    hz: np.ndarray  # (c,)
    phases: np.ndarray  # (c,) rad
    weights: np.ndarray  # (c,) sum to 1

    def wave(self, n: np.ndarray, fs_hz: float) -> np.ndarray:
        """Wander at absolute samples ``n``: (k,), unitless, |value| <= 1."""
        t_s = n / fs_hz
        return self.weights @ np.sin(
            2 * np.pi * np.multiply.outer(self.hz, t_s) + self.phases[:, None]
        )


def draw_mains(seed: int) -> Mains:
    """The site's mains profile, from ``(seed, MAINS)``: the same for pickup and lead-off."""
    rng = rng_for(seed, Part.MAINS)
    h = len(MAINS_HARMONICS)
    low, high = np.array(MAINS_HARMONIC_FRACTION).T
    return Mains(
        orders=np.array((1, *MAINS_HARMONICS)),
        fractions=np.concatenate(([1.0], rng.uniform(low, high, h))),
        phases=rng.uniform(0.0, 2 * np.pi, h + 1),
        am_hz=rng.uniform(*MAINS_AM_HZ, 2),
        am_phases=rng.uniform(0.0, 2 * np.pi, 2),
        am_weights=rng.dirichlet((1.0, 1.0)),
    )


def draw_wander(seed: int) -> Wander:
    """The site's baseline wander, from ``(seed, WANDER)``."""
    rng = rng_for(seed, Part.WANDER)
    # Log-uniform frequencies: as many components near breathing as in the slower drift.
    hz = np.exp(rng.uniform(math.log(WANDER_HZ[0]), math.log(WANDER_HZ[1]), WANDER_COMPONENTS))
    phases = rng.uniform(0.0, 2 * np.pi, WANDER_COMPONENTS)
    return Wander(hz, phases, rng.dirichlet(np.ones(WANDER_COMPONENTS)))


def draw_drift(seed: int) -> Wander:
    """The site's electrode drift, from ``(seed, DRIFT)``, scaled to unit RMS times sqrt(2).

    So ``drift_uv`` is the amplitude of the sinusoid with the same RMS: excursions beat between
    about half and one and a half times it.
    """
    rng = rng_for(seed, Part.DRIFT)
    lo, hi = math.log(DRIFT_HZ[0]), math.log(DRIFT_HZ[1])
    hz = np.exp(rng.uniform(lo, hi, DRIFT_COMPONENTS))
    phases = rng.uniform(0.0, 2 * np.pi, DRIFT_COMPONENTS)
    weights = rng.rayleigh(1.0, DRIFT_COMPONENTS)
    return Wander(hz, phases, weights / math.sqrt(float(np.sum(weights**2))))


class Interference:
    """Powerline, wander and electrode drift of one site, in µV at any absolute EMG sample.

    Parameters
    ----------
    model : SiteModel
        Gives ``powerline_hz``, ``powerline_uv``, ``wander_uv`` and ``emg_fs_hz``.
    seed : int
        The site's seed.
    """

    def __init__(self, model: SiteModel, seed: int) -> None:
        self._model = model
        self._mains = draw_mains(seed)
        self._wander = draw_wander(seed)
        self._drift = draw_drift(seed)

    @property
    def active(self) -> bool:
        """False when the model has neither powerline nor wander (nothing to add)."""
        m = self._model
        return m.powerline_uv > 0.0 or m.wander_uv > 0.0 or m.drift_uv > 0.0

    def emg(self, start: int, stop: int) -> np.ndarray:
        """Interference at EMG samples ``[start, stop)``: (stop - start,) in µV."""
        m = self._model
        n = np.arange(start, stop, dtype=np.int64)
        out = np.zeros(n.size)
        if m.powerline_uv > 0.0:
            gain = m.powerline_uv * self._mains.modulation(n, m.emg_fs_hz)
            out += gain * self._mains.wave(n, m.emg_fs_hz, m.powerline_hz)
        if m.wander_uv > 0.0:
            out += m.wander_uv * self._wander.wave(n, m.emg_fs_hz)
        if m.drift_uv > 0.0:
            out += m.drift_uv * self._drift.wave(n, m.emg_fs_hz)
        return out
