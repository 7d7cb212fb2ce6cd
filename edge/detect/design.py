"""Designs: everything derived from (sampling rate, config) once, never per chunk."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, group_delay, sos2tf, sosfilt_zi

from edge.errors import RateError

from .config import DetectorConfig

#: Below this the band would end under 180 Hz, cutting most of a potential's energy (surface
#: FPs reach a few hundred Hz; 1 kHz or more is usual).
MIN_EMG_FS_HZ = 400.0
#: Frequency at which the band-pass delay is corrected: the bulk of a surface FP's energy.
_DELAY_REFERENCE_HZ = 150.0


@dataclass(frozen=True, slots=True, eq=False)
class EmgDesign:
    """Filters and sample counts of the EMG path at one sampling rate."""

    fs: float
    config: DetectorConfig
    sos: np.ndarray  # band-pass, second-order sections
    sos_zi: np.ndarray  # sosfilt_zi(sos): its steady state for a unit input, solved once
    band_hz: tuple[float, float]
    frame_n: int  # samples per frame (line fits, noise statistics)
    sub_n: int  # samples per subframe (activity)
    line_hz: np.ndarray  # (k,) candidate harmonics of every mains frequency, inside the band
    line_basis: np.ndarray  # (2k, frame_n) cosines then sines of line_hz over one frame
    line_basis_pinv: np.ndarray  # (2k, frame_n // line_step) projector, on every line_step-th
    line_step: int
    line_per_frame: np.ndarray  # (k,) cycles of each harmonic per frame: its phase advance
    delay_s: float  # band-pass group delay near 150 Hz: subtracted from peak times
    refractory_n: int
    shadow_n: int
    template_half_n: int
    feature_half_n: int  # samples each side of a peak that shape measures look at

    @classmethod
    @functools.cache
    def build(cls, fs: float, config: DetectorConfig) -> EmgDesign:
        low, high = config.emg_band_hz
        if fs < MIN_EMG_FS_HZ:
            raise RateError("EMG", fs, f"needs at least {MIN_EMG_FS_HZ:g} Hz")
        high = min(high, 0.45 * fs)
        sos = butter(config.emg_filter_order, (low, high), "bandpass", fs=fs, output="sos")
        sub_n = max(1, round(config.frame_s * fs / config.subframes_per_frame))
        frame_n = sub_n * config.subframes_per_frame
        line_hz = np.array(
            sorted(
                {
                    round(h * f, 6)
                    for f in config.mains_hz
                    for h in range(1, 1 + int(high // f))
                    if h * f < high
                }
            )
        )
        # Harmonics up to the band edge survive taking every line_step-th sample, which halves
        # (at 2 kHz) the cost of the projections.
        line_step = max(1, int(fs // (2.2 * high)))
        basis = _cos_sin(line_hz, np.arange(frame_n) / fs)  # subtracting: every sample
        sparse = basis[:, ::line_step]  # estimating: every line_step-th
        b, a = sos2tf(sos)
        _, gd = group_delay((b, a), w=[_DELAY_REFERENCE_HZ], fs=fs)
        return cls(
            fs=fs,
            config=config,
            sos=sos,
            sos_zi=sosfilt_zi(sos),
            band_hz=(low, high),
            frame_n=frame_n,
            sub_n=sub_n,
            line_hz=line_hz,
            line_basis=basis,
            line_basis_pinv=np.linalg.solve(sparse @ sparse.T, sparse),
            line_step=line_step,
            line_per_frame=line_hz * frame_n / fs,
            delay_s=float(gd[0]) / fs,
            refractory_n=max(1, round(config.refractory_s * fs)),
            shadow_n=max(1, round(config.shadow_s * fs)),
            template_half_n=max(2, round(config.template_half_s * fs)),
            feature_half_n=max(3, math.ceil(config.concentration_half_s * fs)),
        )

    @property
    def template_n(self) -> int:
        """Samples in a potential's snippet (its template): the peak and ``template_half_n``
        each side."""
        return 2 * self.template_half_n + 1

    @property
    def sub_s(self) -> float:
        return self.sub_n / self.fs


def _cos_sin(hz: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """(2k, n): cosines then sines of each frequency at the given times."""
    phase = 2 * np.pi * hz[:, None] * t_s
    return np.concatenate((np.cos(phase), np.sin(phase)))


@dataclass(frozen=True, slots=True, eq=False)
class AccDesign:
    """Filters and sample counts of the accelerometer path at one sampling rate."""

    fs: float
    config: DetectorConfig
    sos: np.ndarray  # band-pass at fs: visible twitches
    motion_sos: np.ndarray  # high-pass at the subframe rate: gravity out, movement in
    sub_n: int
    sos_zi: np.ndarray  # steady states for a unit input (sosfilt_zi), solved once
    motion_zi: np.ndarray

    @classmethod
    @functools.cache
    def build(cls, fs: float, config: DetectorConfig) -> AccDesign:
        low, high = config.acc_band_hz
        high = min(high, 0.4 * fs)
        if high < 4 * low or fs < 20:
            raise RateError("acceleration", fs, "needs at least 20 Hz")
        sos = butter(config.acc_filter_order, (low, high), "bandpass", fs=fs, output="sos")
        sub_n = max(1, round(config.frame_s * fs / config.subframes_per_frame))
        motion_sos = butter(config.acc_filter_order, low, "highpass", fs=fs / sub_n, output="sos")
        return cls(
            fs=fs,
            config=config,
            sos=sos,
            motion_sos=motion_sos,
            sub_n=sub_n,
            sos_zi=sosfilt_zi(sos),
            motion_zi=sosfilt_zi(motion_sos),
        )

    @property
    def sub_s(self) -> float:
        return self.sub_n / self.fs
