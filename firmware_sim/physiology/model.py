"""Configuration and ground truth of the simulated physiology of one body site.

The numbers come from DESIGN.md ("Physiology the simulator and detector must respect") and
research/detector.md §2; each constant names its source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: Sleutjes 2016: a discharge is isolated when no neighbour lies within 250 ms. Twitch centres are
#: kept 10 ms further apart so the *peaks* (which sit a few ms off the centre) stay >= 250 ms apart.
ISOLATION_S = 0.26
#: Kleine 2012: same-unit repeats 10-110 ms apart, peaking at 32 ms (benign) / 35 ms (ALS). The
#: interval is log-normal around 33 ms, clipped 1 ms inside the window so sampled peaks stay inside.
DOUBLET_INTERVAL_S = (0.011, 0.109)
DOUBLET_MEDIAN_S = 0.033
DOUBLET_LOG_SIGMA = 0.35
#: Mean doublet interval, for the rate correction of the isolation thinning.
DOUBLET_MEAN_S = DOUBLET_MEDIAN_S * math.exp(DOUBLET_LOG_SIGMA**2 / 2)
#: Surface fasciculation potentials: tens to hundreds of µV, occasionally > 1 mV.
TWITCH_AMP_CLAMP_UV = (30.0, 1500.0)
#: sEMG analysis band (SENIAM / De Luca 2010); the noise floor is specified inside it.
EMG_BAND_HZ = (20.0, 450.0)
#: Below this the 20-450 Hz band and 1-2 ms wide potentials cannot be sampled.
MIN_EMG_FS_HZ = 1000.0
#: Below this a 30 ms mechanical twitch has fewer than 3 samples in its rise.
MIN_ACC_FS_HZ = 100.0
#: Mains frequencies a site can pick up: 50 Hz (Europe, Asia, Africa, Oceania), 60 Hz (Americas).
POWERLINE_HZ = (50.0, 60.0)
#: Where the DIY front end saturates, in µV: the first value its int16 EMG stream cannot hold,
#: 2**15 counts x 0.2 µV/LSB (``firmware_sim.diy.firmware.EMG_SCALE_UV``, hardware/README.md §3.3,
#: "+-6.55 mV full range"). A sample on this rail comes out of the firmware as an int16 extreme
#: with the CLIPPED flag set, like the real ADC at 0 or 4095. Written out rather than imported
#: because firmware.py imports this package; tests/test_scenarios.py pins the two together.
EMG_RAIL_UV = 6553.6
#: Steepest coloured noise: 1/f**2 is Brownian; beyond it the low band would swamp the signal.
MAX_NOISE_COLOUR = 2.0


class TruthKind(StrEnum):
    """What a ground-truth event is. Spelled like the contract's event kinds and reasons."""

    TWITCH = "twitch"
    CRAMP = "cramp"
    VOLUNTARY = "voluntary"
    MOTION = "motion"
    POP = "artifact"  # an electrode pop is an artifact
    #: An electrode lost contact (mains pickup, EMG on the rail). Not a contract word: the contract
    #: has no lead-off reason, so detectors report both POP and LEADOFF as the reason "artifact".
    LEADOFF = "leadoff"


@dataclass(frozen=True, slots=True)
class TruthEvent:
    """One ground-truth event of a site's timeline.

    Times are seconds from sample 0 of the site (both streams start together).
    ``amplitude_uv`` is, for a twitch, the peak-to-peak amplitude of its rendered EMG potential;
    for a cramp the median peak-to-peak of its primary unit's potentials; for voluntary
    contraction the plateau RMS; for motion the peak of its EMG artifact; for a pop its peak; for
    a lead-off the amplitude of its mains pickup (before the signal is clipped at the rail).
    """

    kind: TruthKind
    start_s: float
    end_s: float
    peak_s: float  # twitch: sample of the potential's largest |value|; others: start_s
    amplitude_uv: float
    unit_id: int  # motor unit for twitch/cramp, -1 otherwise
    doublet: bool = False  # a same-unit repeat 10-110 ms after the previous twitch


@dataclass(frozen=True, slots=True)
class SiteModel:
    """Physiology parameters of one site; defaults follow DESIGN.md / detector.md numbers.

    Rates of episodes are per hour of site time; twitch rate is per minute of rest (twitches that
    would fall inside an episode are not generated, so counts per rest minute match the rate).
    Doublet repeats come on top of ``twitch_rate_per_min``. Powerline and baseline wander are
    continuous EMG interference over the whole recording; lead-off is an episode.
    """

    emg_fs_hz: float
    acc_fs_hz: float
    noise_uv_rms: float = 3.0  # sEMG noise floor in the 20-450 Hz band
    twitch_rate_per_min: float = 12.0  # isolated (non-doublet) twitches per minute of rest
    twitch_amp_uv_median: float = 150.0  # median of the units' median peak-to-peak amplitudes
    twitch_amp_log_sigma: float = 0.5  # log-normal spread of unit amplitudes around the median
    n_units: int = 4  # fasciculating motor units, each with its own waveform and amplitude
    doublet_prob: float = 0.05  # probability that a twitch is followed by a same-unit repeat
    voluntary_per_hour: float = 0.0  # interference-pattern contractions, 2-20 s
    motion_per_hour: float = 0.0  # limb motion 0.05-1 g, 0.5-5 Hz, 1-10 s, with EMG artifact
    cramp_per_hour: float = 0.0  # 1-3 units at 6-25 pps for 10-40 s
    pop_per_hour: float = 0.0  # electrode pops: mV spikes decaying over ~100 ms
    acc_noise_g_rms: float = 0.001  # MEMS noise ~1 mg RMS
    twitch_acc_g: float = 0.002  # peak-to-peak mechanical twitch of a median unit (1-3 mg)
    gravity_g: tuple[float, float, float] = (0.0, 0.0, 1.0)  # static orientation
    powerline_hz: float = 0.0  # mains frequency picked up by the EMG: 0 (none), 50 or 60
    powerline_uv: float = 0.0  # amplitude of its fundamental; odd harmonics come on top
    wander_uv: float = 0.0  # peak of the EMG baseline wander (electrode drift, breathing), < 1 Hz
    leadoff_per_hour: float = 0.0  # electrode loses contact for 2-30 s: mains pickup, EMG on rail
    # --- realism v2 (issue 13); every default leaves the signals of v1 bit for bit unchanged ---
    drift_uv: float = 0.0  # electrode/skin drift: RMS-equivalent amplitude, 0.05-0.3 Hz, in µV
    walking_per_hour: float = 0.0  # walking bouts: steps on the ACC, step artefacts in the EMG
    cramp_units_min: int = 1  # units discharging in one cramp
    cramp_units_max: int = 3
    cramp_extra_units: int = 0  # large units that fire only in cramps, never seen twitching
    cramp_extra_amp_uv: float = 400.0  # median peak-to-peak of those units' potentials
    cramp_tilt_deg: float = 0.0  # largest foot tilt during a cramp (gravity turns on the ACC)
    twitch_contraction_s_min: float = 0.03  # mechanical twitch contraction time range (A12)
    twitch_contraction_s_max: float = 0.1
    twitch_acc_log_sigma: float = 0.3  # log-normal spread of the units' mechanical twitches
    noise_colour: float = 0.0  # EMG noise spectrum 1/f**colour (0 white, 1 pink), same band RMS
    adc_bits: int = 0  # EMG quantised to this many bits over +-EMG_RAIL_UV; 0 = not quantised

    def __post_init__(self) -> None:
        if not self.emg_fs_hz >= MIN_EMG_FS_HZ:
            raise ValueError(f"emg_fs_hz must be >= {MIN_EMG_FS_HZ:g}, got {self.emg_fs_hz}")
        if not self.acc_fs_hz >= MIN_ACC_FS_HZ:
            raise ValueError(f"acc_fs_hz must be >= {MIN_ACC_FS_HZ:g}, got {self.acc_fs_hz}")
        for name in (
            "noise_uv_rms",
            "twitch_rate_per_min",
            "twitch_amp_log_sigma",
            "voluntary_per_hour",
            "motion_per_hour",
            "cramp_per_hour",
            "pop_per_hour",
            "acc_noise_g_rms",
            "twitch_acc_g",
            "powerline_uv",
            "wander_uv",
            "leadoff_per_hour",
            "drift_uv",
            "walking_per_hour",
            "cramp_extra_amp_uv",
            "cramp_tilt_deg",
            "twitch_acc_log_sigma",
            "noise_colour",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")
        low, high = TWITCH_AMP_CLAMP_UV
        if not low <= self.twitch_amp_uv_median <= high:
            raise ValueError(
                f"twitch_amp_uv_median must be in [{low:g}, {high:g}], "
                f"got {self.twitch_amp_uv_median}"
            )
        if self.n_units < 1:
            raise ValueError(f"n_units must be >= 1, got {self.n_units}")
        if not 0.0 <= self.doublet_prob <= 1.0:
            raise ValueError(f"doublet_prob must be in [0, 1], got {self.doublet_prob}")
        top = max_twitch_rate_per_min(self.doublet_prob)
        if self.twitch_rate_per_min >= top:
            raise ValueError(
                f"twitch_rate_per_min must be < {top:.1f} (isolated twitches need "
                f"{ISOLATION_S * 1000:.0f} ms apart), got {self.twitch_rate_per_min}"
            )
        if not 1 <= self.cramp_units_min <= self.cramp_units_max:
            raise ValueError(
                f"cramp units must satisfy 1 <= min <= max, got "
                f"{self.cramp_units_min}..{self.cramp_units_max}"
            )
        if self.cramp_extra_units < 0:
            raise ValueError(f"cramp_extra_units must be >= 0, got {self.cramp_extra_units}")
        if not 0.0 < self.twitch_contraction_s_min <= self.twitch_contraction_s_max <= 0.5:
            raise ValueError(
                "twitch contraction times must satisfy 0 < min <= max <= 0.5 s, got "
                f"{self.twitch_contraction_s_min}..{self.twitch_contraction_s_max}"
            )
        if self.noise_colour > MAX_NOISE_COLOUR:
            raise ValueError(f"noise_colour must be <= {MAX_NOISE_COLOUR}, got {self.noise_colour}")
        if self.adc_bits != 0 and not 8 <= self.adc_bits <= 24:
            raise ValueError(f"adc_bits must be 0 (off) or 8-24, got {self.adc_bits}")
        if self.powerline_hz != 0.0 and self.powerline_hz not in POWERLINE_HZ:
            raise ValueError(f"powerline_hz must be 0, 50 or 60, got {self.powerline_hz}")
        if self.powerline_hz == 0.0 and self.powerline_uv > 0.0:
            raise ValueError(
                f"powerline_uv is {self.powerline_uv} but powerline_hz is 0: set it to 50 or 60"
            )
        if len(self.gravity_g) != 3 or not all(math.isfinite(g) for g in self.gravity_g):
            raise ValueError(f"gravity_g must be 3 finite numbers, got {self.gravity_g!r}")


def dead_time_s(doublet_prob: float) -> float:
    """Mean time after a twitch candidate in which the next one is dropped, in s."""
    return ISOLATION_S + doublet_prob * DOUBLET_MEAN_S


def max_twitch_rate_per_min(doublet_prob: float) -> float:
    """Highest isolated-twitch rate the dead-time thinning can reach: 1 / (e * dead time)."""
    return 60.0 / (math.e * dead_time_s(doublet_prob))


#: Named parameter sets: ``SiteModel(**PRESETS["busy"], emg_fs_hz=2000.0, acc_fs_hz=416.0)``.
PRESETS: dict[str, dict[str, Any]] = {
    # Twitches only: a calm person resting, default rate and amplitude.
    "rest": {},
    # Noise floor and gravity only: for false-positive tests.
    "quiet": {"twitch_rate_per_min": 0.0},
    # Small hand muscle: ~0.29 Hz in ALS and BFS alike (de Carvalho & Swash 2016), few units.
    "hand": {"twitch_rate_per_min": 17.0, "twitch_amp_uv_median": 100.0, "n_units": 3},
    # Large muscle at the SPiQE median (40.5/min, Bashford 2020), more active units (Sleutjes 2016).
    "large_muscle": {"twitch_rate_per_min": 40.5, "twitch_amp_uv_median": 200.0, "n_units": 9},
    # A day in real life: twitches plus everything the detector must exclude.
    "busy": {
        "voluntary_per_hour": 20.0,
        "motion_per_hour": 30.0,
        "cramp_per_hour": 2.0,
        "pop_per_hour": 6.0,
    },
    # Twitches at home with a cheap sensor: 50 Hz mains from nearby wiring, baseline wander,
    # electrode pops and the odd lead-off.
    "noisy_home": {
        "powerline_hz": 50.0,
        "powerline_uv": 20.0,
        "wander_uv": 50.0,
        "pop_per_hour": 6.0,
        "leadoff_per_hour": 2.0,
    },
}


def default_site_model(emg_fs_hz: float, acc_fs_hz: float, **overrides: Any) -> SiteModel:
    """A :class:`SiteModel` with the documented defaults and the given fields replaced."""
    return SiteModel(emg_fs_hz=emg_fs_hz, acc_fs_hz=acc_fs_hz, **overrides)
