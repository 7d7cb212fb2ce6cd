"""Pure array functions that draw waveforms on a sample grid: potentials, twitches, envelopes.

Every function evaluates an analytic shape at absolute sample times, so a waveform depends only
on its parameters and the sampling rate, never on which range of the signal is being rendered.
"""

from __future__ import annotations

import math

import numpy as np

#: A potential is drawn over +-5 widths (Gaussian sigma): its tails are < 0.05 % of its peak.
POTENTIAL_HALF_WIDTHS = 5.0
#: A mechanical twitch is drawn for 8 contraction times: its tail is < 0.2 % of its peak.
TWITCH_CONTRACTION_TIMES = 8.0


def grid(start_s: float, stop_s: float, fs_hz: float) -> tuple[int, np.ndarray]:
    """Samples whose time lies in ``[start_s, stop_s)``.

    Parameters
    ----------
    start_s, stop_s : float
        Time span in s from sample 0.
    fs_hz : float
        Sampling rate in Hz.

    Returns
    -------
    n0 : int
        Index of the first sample.
    x_s : ndarray, shape (n,)
        Time of each sample relative to ``start_s``, in s (>= 0).
    """
    n0 = math.ceil(start_s * fs_hz)
    n1 = max(n0, math.ceil(stop_s * fs_hz))
    return n0, np.arange(n0, n1) / fs_hz - start_s


def potential(x_s: np.ndarray, coef: tuple[float, float, float], width_s: float) -> np.ndarray:
    """A motor-unit potential: a mix of the 1st-3rd derivatives of a Gaussian.

    Each derivative integrates to zero, so the potential has no DC; the 1st is biphasic, the 2nd
    triphasic.

    Parameters
    ----------
    x_s : ndarray, shape (n,)
        Time from the potential's centre, in s.
    coef : tuple of 3 float
        Weights of the Hermite functions He1, He2, He3 (unitless).
    width_s : float
        Gaussian sigma, in s.

    Returns
    -------
    ndarray, shape (n,)
        Unscaled potential (arbitrary units).
    """
    u = x_s / width_s
    u2 = u * u
    return (coef[0] * u + coef[1] * (u2 - 1.0) + coef[2] * (u2 - 3.0) * u) * np.exp(-0.5 * u2)


def sample_potential(
    centre_s: float, coef: tuple[float, float, float], width_s: float, fs_hz: float
) -> tuple[int, np.ndarray]:
    """A potential centred at ``centre_s`` (sub-sample exact), scaled to 1 peak-to-peak.

    Returns
    -------
    n0 : int
        Absolute index of the first sample.
    w : ndarray, shape (n,)
        The potential, peak-to-peak exactly 1 on this grid (unitless).
    """
    half_s = POTENTIAL_HALF_WIDTHS * width_s
    n0, x_s = grid(centre_s - half_s, centre_s + half_s, fs_hz)
    w = potential(x_s - half_s, coef, width_s)
    return n0, w / np.ptp(w)


def potential_kernel(
    coef: tuple[float, float, float], width_s: float, fs_hz: float
) -> tuple[np.ndarray, int]:
    """A potential centred on a sample, scaled to 1 peak-to-peak, for :func:`stamp`.

    Returns
    -------
    kernel : ndarray, shape (2 * h + 1,)
        The potential (unitless).
    centre : int
        Index of the centre sample, ``h``.
    """
    h = math.ceil(POTENTIAL_HALF_WIDTHS * width_s * fs_hz)
    w = potential(np.arange(-h, h + 1) / fs_hz, coef, width_s)
    return w / np.ptp(w), h


def twitch_shape(x_s: np.ndarray, contraction_s: float) -> np.ndarray:
    """Surface acceleration of a single-unit mechanical twitch.

    The time derivative of the twitch ``(x/T)^2 exp(2 (1 - x/T))``: it starts smoothly at 0,
    is biphasic, and integrates to zero (the skin returns where it was).

    Parameters
    ----------
    x_s : ndarray, shape (n,)
        Time from twitch onset, in s; values < 0 give 0.
    contraction_s : float
        Contraction time ``T`` (time to peak force), in s.

    Returns
    -------
    ndarray, shape (n,)
        Unscaled acceleration (arbitrary units).
    """
    u = np.maximum(x_s, 0.0) / contraction_s
    return u * (1.0 - u) * np.exp(2.0 * (1.0 - u))


def sample_twitch(onset_s: float, contraction_s: float, fs_hz: float) -> tuple[int, np.ndarray]:
    """A mechanical twitch starting at ``onset_s``, scaled to 1 peak-to-peak.

    Returns
    -------
    n0 : int
        Absolute index of the first sample.
    w : ndarray, shape (n,)
        Acceleration, peak-to-peak 1 (unitless).
    """
    stop_s = onset_s + TWITCH_CONTRACTION_TIMES * contraction_s
    n0, x_s = grid(onset_s, stop_s, fs_hz)
    w = twitch_shape(x_s, contraction_s)
    return n0, w / np.ptp(w)


def twitch_kernel(contraction_s: float, fs_hz: float) -> np.ndarray:
    """:func:`twitch_shape` from an onset on a sample, 1 peak-to-peak, (n,), for :func:`stamp`."""
    n = math.ceil(TWITCH_CONTRACTION_TIMES * contraction_s * fs_hz)
    w = twitch_shape(np.arange(n) / fs_hz, contraction_s)
    return w / np.ptp(w)


def ramp_envelope(x_s: np.ndarray, duration_s: float, up_s: float, down_s: float) -> np.ndarray:
    """0 -> 1 -> 0 with smoothstep ramps of ``up_s`` and ``down_s`` at the ends of ``duration_s``.

    Parameters
    ----------
    x_s : ndarray, shape (n,)
        Time from the episode start, in s.

    Returns
    -------
    ndarray, shape (n,)
        Envelope in [0, 1].
    """
    rising = np.clip(x_s / up_s, 0.0, 1.0)
    falling = np.clip((duration_s - x_s) / down_s, 0.0, 1.0)
    e = np.minimum(rising, falling)
    return e * e * (3.0 - 2.0 * e)


def stamp(
    n: int, at: np.ndarray, weights: np.ndarray, kernel: np.ndarray, centre: int
) -> np.ndarray:
    """Place ``kernel`` (its sample ``centre`` on each index of ``at``) scaled by ``weights``.

    Parameters
    ----------
    n : int
        Output length in samples.
    at : ndarray of int, shape (k,)
        Sample index of each discharge, in ``[0, n)``.
    weights : ndarray, shape (k,)
        Scale of each discharge.
    kernel : ndarray, shape (m,)
        Waveform of one discharge.
    centre : int
        Index of the kernel sample that lands on ``at``.

    Returns
    -------
    ndarray, shape (n,)
        Sum of the scaled kernels (direct convolution; deterministic).
    """
    train = np.bincount(at, weights=weights, minlength=n)[:n]
    return np.convolve(train, kernel)[centre : centre + n]


def gamma_train_s(
    rng: np.random.Generator, rate_pps: float, cv: float, start_s: float, stop_s: float
) -> np.ndarray:
    """Discharge times of a gamma renewal process in ``[start_s, stop_s)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; consumed deterministically.
    rate_pps : float
        Mean discharge rate in pulses per second.
    cv : float
        Coefficient of variation of the inter-spike interval.
    start_s, stop_s : float
        Span in s. The first discharge falls a random fraction of an interval after ``start_s``.

    Returns
    -------
    ndarray, shape (k,)
        Increasing discharge times in s.
    """
    shape = 1.0 / (cv * cv)
    expected = (stop_s - start_s) * rate_pps
    n = math.ceil(expected + 6.0 * math.sqrt(expected + 1.0) * cv + 4.0)
    isi_s = rng.gamma(shape, 1.0 / (shape * rate_pps), n)
    times = start_s + rng.random() * isi_s[0] + np.cumsum(isi_s[1:])
    while times[-1] < stop_s:  # rare: the margin above is > 6 sd
        more = rng.gamma(shape, 1.0 / (shape * rate_pps), n)
        times = np.concatenate((times, times[-1] + np.cumsum(more)))
    return times[times < stop_s]
