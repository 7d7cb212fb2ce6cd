"""Claims on time: what the EMG's episodes and the streams' runs exclude from rest, and why.

Pure functions from decided evidence to ``Claim`` values, in a user's words (the "evidence" of
analyze's excluded entries); the site detector collects them and ``judge`` partitions them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from twitchwatch.contract import EventKind, Kind, Reason

from .activity import Episode
from .config import DetectorConfig
from .detections import Cramp
from .partition import Claim
from .runs import EPS_S, Run

EVIDENCE_GAP = "no samples arrived (then the filters settle for a moment)"
EVIDENCE_BRIDGED = "a few samples are missing (a lost radio packet): only they are set aside"
EVIDENCE_START = "the filters settle after the start"
EVIDENCE_END = "the end of the recording: the last samples cannot be judged"
EVIDENCE_ARTIFACT = "EMG electrode artefact: a jump, saturation, a flat or an open input"
EVIDENCE_ACC_MOTION = "the accelerometer shows the limb moving"
EVIDENCE_EMG_MOTION = "EMG motion artefact: abrupt low-frequency jolts of the electrodes"
NO_ACC = "; this site has no accelerometer to confirm the movement"
EVIDENCE_EPISODE = {
    Reason.VOLUNTARY: "EMG: continual firing of motor units, as in a voluntary contraction",
    Reason.ARTIFACT: "EMG activity explained by an electrode artefact",
}


def episode_claims(episodes: list[Episode], cfg: DetectorConfig) -> tuple[list[Cramp], list[Claim]]:
    """Cramps found, and the time each episode takes from rest (padded; a cramp's own time is
    not rest but no exclusion either: reason None)."""
    pad = cfg.exclusion_pad_s
    cramps, claims = [], []
    for ep in episodes:
        tail = pad if ep.kind is Reason.ARTIFACT else max(pad, cfg.derecruitment_s)
        if ep.kind is EventKind.CRAMP:
            cramps.append(Cramp(ep.start_s, ep.end_s, ep.amplitude_uv))
            claims.append(Claim(ep.start_s - pad, ep.end_s + tail, None, ""))
        else:
            reason = Reason(ep.kind)
            claims.append(
                Claim(ep.start_s - pad, ep.end_s + tail, reason, EVIDENCE_EPISODE[reason])
            )
    return cramps, claims


def run_claims(
    runs: list[Run],
    reason: Reason,
    cfg: DetectorConfig,
    *,
    motion_min_s: float = 0.0,
    evidence: str = EVIDENCE_ARTIFACT,
    explains: Callable[[Run], bool] | None = None,
) -> list[Claim]:
    """Artifact runs, padded; motion runs at least ``motion_min_s`` long, padded, with whether a
    cramp going on would explain the movement (``explains``, asked of those runs only)."""
    claims = []
    for run in runs:
        if reason is Reason.ARTIFACT:
            pad = cfg.exclusion_pad_s
            claims.append(Claim(run.start_s - pad, run.end_s + pad, reason, EVIDENCE_ARTIFACT))
        elif run.duration_s >= motion_min_s - EPS_S:
            pad = cfg.motion_pad_s
            cramp_explains = explains(run) if explains is not None else False
            claims.append(
                Claim(run.start_s - pad, run.end_s + pad, reason, evidence, cramp_explains)
            )
    return claims


def motion_min_s(cfg: DetectorConfig, source: Kind, has_emg: bool) -> float:
    """Shortest movement excluded. Where the accelerometer also carries the twitches, a burst of
    a few visible twitches (each 40-150 ms) is not limb movement."""
    if source is Kind.ACC and not has_emg:
        return max(cfg.acc_motion_min_s, cfg.acc_only_motion_min_s)
    return cfg.acc_motion_min_s


def slight(
    moving_t: np.ndarray, moving_g: np.ndarray, run: Run, tilt_g: float
) -> tuple[bool, np.ndarray, np.ndarray]:
    """Whether the movement of ``run`` stays as small as a cramp's own tilt or tremor (a cramp
    explains it, where one is going on), and the moving subframes later runs still need."""
    inside = (moving_t >= run.start_s - EPS_S) & (moving_t < run.end_s)
    peak = float(moving_g[inside].max()) if inside.any() else 0.0
    keep = moving_t >= run.end_s
    return peak < tilt_g, moving_t[keep], moving_g[keep]
