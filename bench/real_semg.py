"""Real surface-EMG recordings in the accuracy bench: their quiet stretches, and semi-real signals.

The recordings (tests/data/real_semg/SOURCE.md: PLUX and BioSPPy examples, MIT and BSD-3) hold
real noise, quantisation, brief voluntary bursts and low-level motor-unit trains, but no labelled
fasciculations. Two uses:

1. **Quiet stretches.** Where a recording is quiet and holds no isolated potential, every twitch
   a detector counts is a false one. The rule that judges it, on the 20-450 Hz band-passed
   signal (band top at most 0.45 fs):

   - the noise floor is the 10th percentile of the RMS in 250 ms windows, among the windows
     that may hold only noise: those within 2x the quietest (1st percentile). A recording of
     repeated contractions (plux_emg_fatigue) is quiet less than a tenth of the time, and the
     10th percentile of all its windows was low-level firing at 2.3x its noise;
   - a window is *near the floor* when its RMS is <= 1.5x the floor; runs of such windows of at
     least 2 s, less 0.5 s at each end (away from bursts), are quiet;
   - a *potential* is a peak of |x| above 5x the floor RMS (Gaussian noise crosses that about
     once a minute at 1 kHz), potentials closer than 20 ms are one; a potential is part of a
     *train* when it and at least two others follow each other by <= 0.5 s (a unit firing
     steadily at >= 2 pps: SOURCE.md's "trains ~0.3 s apart or closer"), otherwise it is
     *isolated* (it may be a true fasciculation);
   - 0.5 s either side of every potential, isolated or in a train, is not judged.

   What remains, noise near the floor and nothing else, is judged: twitches counted there per
   minute (target <= 1), and how much of it the detector excluded, by reason. The low-level
   trains are scored on their own: of their potentials outside bursts (windows above 4x the
   floor RMS, and 0.5 s around them: voluntary contraction), how many the detector counted as
   twitches (none should be: they are not isolated).

2. **Semi-real condition.** Simulated fasciculation potentials from the physiology (the
   simulator's own waveforms and units, with truth) are added onto each recording, only inside
   its judged stretches, and scored there like a scenario. They are small on purpose (median
   60 µV peak-to-peak, as the low_snr scenario) so that the real noise and trains matter.

The files travel with the repository; ``TWITCHWATCH_REAL_SEMG`` may point elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

from bench.rest_time import as_spans, complement, inside, intersection, shrink, total_s, union
from edge.detect import Detections, SiteDetector
from edge.edf.read import open_recording
from firmware_sim.physiology import SiteGenerator, SiteModel, TruthKind
from twitchwatch.contract import Kind

ROOT = Path(__file__).resolve().parents[1]
#: Where the recordings are: the copy in the repository, unless the variable points elsewhere.
REAL_SEMG_DIR = ROOT / "tests" / "data" / "real_semg"
REAL_SEMG_ENV = "TWITCHWATCH_REAL_SEMG"
#: The quiet-stretch rule (module docstring).
WINDOW_S = 0.25
FLOOR_PERCENTILE = 10.0
QUIETEST_PERCENTILE = 1.0
MAY_BE_NOISE = 2.0
NEAR_FLOOR = 1.5
BURST_X_FLOOR = 4.0
MIN_QUIET_S = 2.0
EDGE_S = 0.5
POTENTIAL_X_FLOOR = 5.0
MERGE_S = 0.02
TRAIN_GAP_S = 0.5
TRAIN_MIN = 3
ISOLATED_MARGIN_S = 0.5
#: A train potential counts as counted when a twitch lies this close to it.
TRAIN_MATCH_S = 0.025
#: Simulated potentials of the semi-real condition.
SEMI_REAL_MODEL = {
    "noise_uv_rms": 0.0,
    "acc_noise_g_rms": 0.0,
    "twitch_rate_per_min": 30.0,  # dense, so the short quiet stretches hold enough truth
    "twitch_amp_uv_median": 60.0,
    "n_units": 4,
}
SEMI_REAL_SEED = 141
#: A simulated potential is kept when this much time around its extent is judged quiet.
SEMI_REAL_MARGIN_S = 0.05


@dataclass(frozen=True, slots=True)
class RealRecording:
    name: str  # file stem
    site: str
    fs: float
    signal_uv: np.ndarray  # (n,) float64


@dataclass(frozen=True, slots=True)
class Quiet:
    """What the quiet-stretch rule found in one recording."""

    floor_uv: float  # RMS noise floor in the band
    near_floor: np.ndarray  # (k, 2) quiet spans before isolated potentials are cut out
    judged: np.ndarray  # (k, 2) quiet spans with no potential at all: where counts are false
    potentials_s: np.ndarray  # every potential above POTENTIAL_X_FLOOR x floor
    in_train: np.ndarray  # bool per potential: part of a train
    low_level: np.ndarray  # (k, 2) all but bursts (and EDGE_S around them)


def real_semg_dir() -> Path:
    """The folder of the recordings; a clear error when it is missing."""
    folder = Path(os.environ.get(REAL_SEMG_ENV) or REAL_SEMG_DIR)
    if not any(folder.glob("*.edf")):
        fallback = ROOT.parent / "shared" / "data" / "real" / "semg"
        if any(fallback.glob("*.edf")):
            return fallback
        raise FileNotFoundError(
            f"no real sEMG recordings (*.edf) in {folder} nor {fallback}: restore "
            f"tests/data/real_semg or set {REAL_SEMG_ENV} to their folder"
        )
    return folder


def real_recordings() -> list[RealRecording]:
    """Every recording of the folder, its first site's EMG in µV, sorted by name."""
    out = []
    for path in sorted(real_semg_dir().glob("*.edf")):
        with open_recording(path) as rec:
            site = next(s for s in rec.sites.values() if s.emg_fs is not None)
            parts = [
                data[0]
                for name, kind, _, data in rec.chunks()
                if name == site.site and kind is Kind.EMG
            ]
        assert site.emg_fs is not None
        out.append(
            RealRecording(
                path.stem, site.site, site.emg_fs, np.concatenate(parts).astype(np.float64)
            )
        )
    return out


def band(signal_uv: np.ndarray, fs: float) -> np.ndarray:
    """20-450 Hz (top at most 0.45 fs), zero phase: the band the floor is judged in."""
    sos = butter(4, (20.0, min(450.0, 0.45 * fs)), btype="bandpass", fs=fs, output="sos")
    return sosfiltfilt(sos, signal_uv)


def quiet_stretches(signal_uv: np.ndarray, fs: float) -> Quiet:
    """Apply the rule of the module docstring to one recording."""
    x = band(signal_uv, fs)
    w = max(1, round(WINDOW_S * fs))
    n = x.size // w
    rms = np.sqrt(np.mean(x[: n * w].reshape(n, w) ** 2, axis=1))
    may_be_noise = rms <= MAY_BE_NOISE * np.percentile(rms, QUIETEST_PERCENTILE)
    floor = float(np.percentile(rms[may_be_noise], FLOOR_PERCENTILE))
    near = rms <= NEAR_FLOOR * floor
    edges = np.flatnonzero(np.diff(np.concatenate(([0], near.astype(np.int8), [0]))))
    runs = as_spans([(a * w / fs, b * w / fs) for a, b in edges.reshape(-1, 2)])
    near_floor = shrink(runs[runs[:, 1] - runs[:, 0] >= MIN_QUIET_S], EDGE_S)
    peaks, _ = find_peaks(
        np.abs(x), height=POTENTIAL_X_FLOOR * floor, distance=max(1, round(MERGE_S * fs))
    )
    t = peaks / fs
    in_train = np.zeros(t.size, bool)
    close = np.diff(t) <= TRAIN_GAP_S
    # Runs of close neighbours: a run of k close gaps links k + 1 potentials.
    edges = np.flatnonzero(np.diff(np.concatenate(([0], close.astype(np.int8), [0]))))
    for a, b in edges.reshape(-1, 2):
        if b - a + 1 >= TRAIN_MIN:
            in_train[a : b + 1] = True
    cut = as_spans(np.column_stack((t - ISOLATED_MARGIN_S, t + ISOLATED_MARGIN_S)))
    judged = intersection(near_floor, complement(cut, 0.0, x.size / fs))
    burst = rms > BURST_X_FLOOR * floor
    edges = np.flatnonzero(np.diff(np.concatenate(([0], burst.astype(np.int8), [0]))))
    bursts = as_spans([(a * w / fs - EDGE_S, b * w / fs + EDGE_S) for a, b in edges.reshape(-1, 2)])
    low_level = complement(bursts, 0.0, x.size / fs)
    return Quiet(floor, near_floor, judged, t, in_train, low_level)


@dataclass(frozen=True, slots=True)
class SemiReal:
    """One recording with simulated potentials added inside its judged stretches."""

    signal_uv: np.ndarray
    true_peak_s: np.ndarray
    scored: np.ndarray  # (k, 2) where truth and detections are scored: the judged stretches


def semi_real(recording: RealRecording, quiet: Quiet, index: int) -> SemiReal:
    """Add the physiology's twitches (SEMI_REAL_MODEL) to ``recording`` inside ``quiet.judged``.

    Only potentials whose whole extent (plus a margin) lies in a judged stretch are added, so no
    simulated potential hides in a burst; the others are cut out of the simulated signal.
    """
    fs = recording.fs
    model = SiteModel(**SEMI_REAL_MODEL, emg_fs_hz=fs, acc_fs_hz=100.0)
    gen = SiteGenerator(model, SEMI_REAL_SEED + index)
    seconds = recording.signal_uv.size / fs
    twitches = [e for e in gen.events(0.0, seconds) if e.kind is TruthKind.TWITCH]
    extent = as_spans(
        [(e.start_s - SEMI_REAL_MARGIN_S, e.end_s + SEMI_REAL_MARGIN_S) for e in twitches]
    )
    kept = np.array(
        [
            total_s(intersection(span[None, :], quiet.judged)) >= span[1] - span[0] - 1e-9
            for span in extent
        ],
        bool,
    )
    sim = gen.emg(0, recording.signal_uv.size)
    keep_mask = np.zeros(sim.size, bool)
    for a, b in union(extent[kept]) if kept.any() else []:
        keep_mask[max(0, round(a * fs)) : round(b * fs)] = True
    peaks = np.array([e.peak_s for e, k in zip(twitches, kept, strict=True) if k])
    return SemiReal(recording.signal_uv + np.where(keep_mask, sim, 0.0), peaks, quiet.judged)


def in_spans(t_s: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """``t_s`` that lie inside ``spans``."""
    return t_s[inside(t_s, spans)]


# --- running the detector on them ----------------------------------------------------------

#: Semi-real: each recording is used this many times, each with other simulated potentials.
SEMI_REAL_PASSES = 4
CHUNK_S = 60.0


def detect_emg(site: str, fs: float, signal_uv: np.ndarray) -> Detections:
    """Stream an EMG recording through the detector in CHUNK_S chunks, as ``analyze`` reads."""
    det = SiteDetector(site, emg_fs=fs, acc_fs=None)
    found = det.poll()
    step = round(CHUNK_S * fs)
    for a in range(0, signal_uv.size, step):
        det.feed(Kind.EMG, a, signal_uv[a : a + step])
        found.extend(det.poll())
    found.extend(det.finish())
    return found


def excluded_spans(found: Detections) -> dict[str, np.ndarray]:
    """Per reason (and "cramp" for detected cramps): the union of what the detector set aside."""
    out: dict[str, list[tuple[float, float]]] = {}
    for i in found.excluded:
        out.setdefault(i.reason.value, []).append((i.start_s, i.end_s))
    for c in found.cramps:
        out.setdefault("cramp", []).append((c.start_s, c.end_s))
    return {reason: union(as_spans(spans)) for reason, spans in out.items()}


def all_excluded(found: Detections) -> np.ndarray:
    """Everything the detector did not keep as rest: exclusions of any reason and cramps."""
    spans = list(excluded_spans(found).values())
    return union(np.concatenate(spans)) if spans else as_spans([])


@dataclass(frozen=True, slots=True)
class RealRow:
    """The detector on one real recording."""

    name: str
    seconds: float
    floor_uv: float
    judged_s: float
    train_potentials: int  # potentials of low-level trains (outside bursts)
    train_counted: int  # of them, counted as twitches (within the match tolerance)
    counted: int  # twitches the detector counted inside the judged stretches
    counted_total: int  # ... anywhere in the recording
    excluded_judged_s: dict[str, float]  # per reason, inside the judged stretches
    excluded_s: dict[str, float]  # per reason, over the recording

    @property
    def per_min(self) -> float:
        return self.counted / (self.judged_s / 60.0) if self.judged_s > 0 else 0.0


def real_row(recording: RealRecording, quiet: Quiet) -> RealRow:
    found = detect_emg(recording.site, recording.fs, recording.signal_uv)
    spans = excluded_spans(found)
    trains = quiet.potentials_s[quiet.in_train]
    trains = trains[inside(trains, quiet.low_level)]
    near = np.abs(found.twitch_t_s[None, :] - trains[:, None]) <= TRAIN_MATCH_S
    return RealRow(
        recording.name,
        recording.signal_uv.size / recording.fs,
        quiet.floor_uv,
        total_s(quiet.judged),
        int(trains.size),
        int(near.any(axis=1).sum()) if found.twitch_t_s.size else 0,
        int(inside(found.twitch_t_s, quiet.judged).sum()),
        int(found.twitch_t_s.size),
        {r: total_s(intersection(s, quiet.judged)) for r, s in spans.items()},
        {r: total_s(s) for r, s in spans.items()},
    )


@dataclass(frozen=True, slots=True)
class SemiRealResult:
    """The semi-real condition on one recording, all passes together."""

    name: str
    true_s: list[np.ndarray]  # per pass: true peaks
    found_s: list[np.ndarray]  # per pass: detections inside the scored stretches
    scored_s: float  # judged seconds per pass
    kept_s: float  # of them, summed over passes: not excluded by the detector


def semi_real_result(recording: RealRecording, quiet: Quiet, index: int) -> SemiRealResult:
    true_s, found_s, kept_s = [], [], 0.0
    for p in range(SEMI_REAL_PASSES):
        made = semi_real(recording, quiet, index * SEMI_REAL_PASSES + p)
        found = detect_emg(recording.site, recording.fs, made.signal_uv)
        true_s.append(made.true_peak_s)
        found_s.append(in_spans(found.twitch_t_s, made.scored))
        kept_s += total_s(made.scored) - total_s(intersection(made.scored, all_excluded(found)))
    return SemiRealResult(recording.name, true_s, found_s, total_s(quiet.judged), kept_s)
