"""Coloured (1/f) EMG noise and ADC quantisation, both chunk-invariant.

Electrode and amplifier noise is not white: below a few hundred Hz its spectrum rises roughly as
1/f (flicker noise of the electrode-skin interface and the amplifier) [M]. It is made here by a
linear-phase FIR whose gain falls as f**(-colour/2), flat below :data:`CORNER_HZ`, applied to
white noise. Block ``b`` of the output filters the white noise of blocks ``b - 1`` and ``b``
(overlap-save), each drawn from its own stream, so every block is a pure function of its index.

Quantisation rounds to the steps of an ``adc_bits`` converter spanning +-EMG_RAIL_UV, as a
cheap 12-bit front end does (its step is then 3.2 µV, about the noise floor).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import fftconvolve

from .model import EMG_BAND_HZ, EMG_RAIL_UV
from .streams import Part, rng_for

#: Below this the coloured noise is flat: slower wander and drift are modelled on their own.
CORNER_HZ = 1.0


def colour_filter(colour: float, fs_hz: float, n_taps: int, band_rms: float) -> np.ndarray:
    """FIR taps (n_taps,) giving unit-variance white noise a 1/f**colour spectrum whose RMS in
    the EMG band (20-450 Hz) is ``band_rms``."""
    freqs_hz = np.fft.rfftfreq(n_taps, 1 / fs_hz)
    gain = (np.maximum(freqs_hz, CORNER_HZ) / CORNER_HZ) ** (-colour / 2)
    taps = np.fft.fftshift(np.fft.irfft(gain, n_taps)) * np.hanning(n_taps)
    # The band RMS of the filtered noise from the taps' own response (window included).
    n_fft = 1 << math.ceil(math.log2(4 * n_taps))
    response = np.abs(np.fft.rfft(taps, n_fft)) ** 2
    grid_hz = np.fft.rfftfreq(n_fft, 1 / fs_hz)
    low, high = EMG_BAND_HZ[0], min(EMG_BAND_HZ[1], fs_hz / 2)
    band = (grid_hz >= low) & (grid_hz <= high)
    band_var = 2.0 / fs_hz * float(np.sum(response[band])) * (grid_hz[1] - grid_hz[0])
    return taps * (band_rms / math.sqrt(band_var))


def coloured_block(seed: int, index: int, block_n: int, taps: np.ndarray) -> np.ndarray:
    """Block ``index`` (1, block_n) of coloured noise; white block ``b`` is stream ``b + 1``."""
    white = np.concatenate(
        [
            rng_for(seed, Part.EMG_COLOURED, b + 1).standard_normal(block_n)
            for b in (index - 1, index)
        ]
    )
    return fftconvolve(white, taps, mode="full")[block_n : 2 * block_n][None, :]


def quantise(x: np.ndarray, bits: int) -> np.ndarray:
    """``x`` in µV rounded to the steps of a ``bits`` ADC over +-EMG_RAIL_UV, clipped to it."""
    step = 2 * EMG_RAIL_UV / 2**bits
    return np.clip(np.round(x / step) * step, -EMG_RAIL_UV, EMG_RAIL_UV)
