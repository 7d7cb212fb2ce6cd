"""Offline analysis of an EDF+/BDF recording: the live detector, run over a file.

``analyze_file`` streams the file in chunks through one :class:`~edge.detect.SiteDetector` per
site (the same code path as live, so the results agree) and returns the JSON document pinned in
DESIGN.md. Samples inside annotated gaps are never fed: the detector sees a gap, not zeros.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import defaultdict
from typing import Any

import numpy as np

from twitchwatch.contract import INTERNAL_UNIT, EventKind, Kind, Reason

from .detect import Detections, DetectorConfig, DetectorInputError, RateError, SiteDetector
from .edf.read import Recording, RecordingError, open_recording

#: Chunk read from the file at a time: memory stays flat in the recording's length.
CHUNK_S = 60.0
#: A rate needs this much observed rest (detector.md §6: 60-120 s; Zhou 2012, Mills 2011).
MIN_REST_FOR_RATE_S = 60.0


#: Named in the document's ``detector`` record; raised when the detector's decisions change.
DETECTOR_NAME = "twitchwatch.edge.detect"
# 3: no potential under 10 µV, derecruitment tail, tonic trains; 4: short holes bridged
DETECTOR_VERSION = "4"


def detector_record(config: DetectorConfig | None = None) -> dict[str, Any]:
    """Provenance of the results: which detector, which version, with which settings."""
    settings = dataclasses.asdict(config or DetectorConfig())
    return {
        "name": DETECTOR_NAME,
        "version": DETECTOR_VERSION,
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
    }


def analyze_file(
    path: str | os.PathLike[str], config: DetectorConfig | None = None
) -> dict[str, Any]:
    """Detect twitches in every site of an EDF+/BDF file.

    Returns
    -------
    dict
        ``{"file", "duration_s", "sites", "events", "excluded", "summary"}`` as pinned in
        DESIGN.md, times in seconds from the start of the file; additive fields: each excluded
        span's ``"evidence"`` and the ``"detector"`` record (name, version, settings).
        Exclusions of a site are disjoint: excluded time plus rest is at most the recording.

    Raises
    ------
    RecordingError
        The file cannot be read or holds no usable channel.
    """
    with open_recording(path) as recording:
        try:
            detectors = {
                site: SiteDetector(
                    site, emg_fs=signals.emg_fs, acc_fs=signals.acc_fs, config=config
                )
                for site, signals in recording.sites.items()
            }
        except RateError as exc:
            raise RecordingError(path, str(exc)) from exc
        found: dict[str, Detections] = {site: Detections() for site in detectors}
        try:
            for site, kind, start, data in recording.chunks(CHUNK_S):
                for piece_start, piece in _outside_gaps(recording, site, kind, start, data):
                    detectors[site].feed(kind, piece_start, piece)
                found[site].extend(detectors[site].poll())
            for site, detector in detectors.items():
                found[site].extend(detector.finish())
        except DetectorInputError as exc:  # blocks out of order: a reader bug, named with the file
            raise RecordingError(path, str(exc)) from exc
        return _document(recording, found) | {"detector": detector_record(config)}


def _outside_gaps(
    recording: Recording, site: str, kind: Kind, start: int, data: np.ndarray
) -> list[tuple[int, np.ndarray]]:
    """The parts of a chunk that no gap annotation covers, with their first sample."""
    signals = recording.sites[site]
    fs = signals.emg_fs if kind is Kind.EMG else signals.acc_fs
    assert fs is not None
    n = data.shape[-1]
    keep = np.ones(n, bool)
    for gap_start_s, gap_end_s in recording.gaps(site, kind):
        a = max(math.ceil(gap_start_s * fs) - start, 0)
        b = min(math.ceil(gap_end_s * fs) - start, n)
        if a < b:
            keep[a:b] = False
    if keep.all():
        return [(start, data)]
    edges = np.diff(np.concatenate(([0], keep.astype(np.int8), [0])))
    firsts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(start + int(a), data[..., a:b]) for a, b in zip(firsts, stops, strict=True)]


def _document(recording: Recording, found: dict[str, Detections]) -> dict[str, Any]:
    duration_s = recording.duration_s
    events: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    summary: dict[str, dict[str, Any]] = {}
    for site, det in found.items():
        for t, amp, dur in zip(
            det.twitch_t_s, det.twitch_amplitude, det.twitch_duration_s, strict=True
        ):
            events.append(
                {
                    "t": round(float(t), 4),
                    "site": site,
                    "kind": EventKind.TWITCH.value,
                    "duration_s": None if math.isnan(dur) else round(float(dur), 4),
                    "amplitude": _amplitude(float(amp), det.unit),
                    "unit": det.unit,
                }
            )
        for cramp in det.cramps:
            events.append(
                {
                    "t": round(cramp.start_s, 4),
                    "site": site,
                    "kind": EventKind.CRAMP.value,
                    "duration_s": round(cramp.end_s - cramp.start_s, 4),
                    "amplitude": _amplitude(cramp.amplitude_uv, INTERNAL_UNIT[Kind.EMG]),
                    "unit": INTERNAL_UNIT[Kind.EMG],
                }
            )
        for interval in det.excluded:  # disjoint: one reason per instant (the detector's partition)
            a, b = max(interval.start_s, 0.0), min(interval.end_s, duration_s)
            if b > a:
                excluded.append(
                    {
                        "start": round(a, 4),
                        "end": round(b, 4),
                        "site": site,
                        "reason": interval.reason.value,
                        "evidence": interval.evidence,
                    }
                )
        rest_s = min(det.rest_s, duration_s)
        count = int(det.twitch_t_s.size)
        summary[site] = {
            "twitches": count,
            "rest_s": round(rest_s, 2),
            "twitches_per_min": (
                round(count / (rest_s / 60.0), 2) if rest_s >= MIN_REST_FOR_RATE_S else None
            ),
            "cramps": len(det.cramps),
        }
    events.sort(key=lambda e: (e["t"], e["site"]))
    excluded.sort(key=lambda e: (e["start"], e["site"], e["reason"]))
    return {
        "file": str(recording.path),
        "duration_s": round(duration_s, 4),
        "sites": list(found),
        "events": events,
        "excluded": excluded,
        "summary": summary,
    }


def _amplitude(value: float, unit: str) -> float:
    return round(value, 1) if unit == INTERNAL_UNIT[Kind.EMG] else round(value, 5)


#: Excluded-time columns of the table and their widths.
_COLUMNS = ((Reason.VOLUNTARY, 10), (Reason.MOTION, 8), (Reason.ARTIFACT, 9), (Reason.GAP, 7))


def format_table(doc: dict[str, Any]) -> str:
    """A readable report of :func:`analyze_file`'s document."""
    lines = [
        f"{doc['file']}: {doc['duration_s']:.1f} s, {len(doc['sites'])} site(s)",
        "",
        f"{'site':<18} {'twitches':>8} {'rest':>9} {'per min':>8} {'cramps':>6}"
        f" {'voluntary':>10} {'motion':>8} {'artifact':>9} {'gap':>7}",
    ]
    excluded_s: dict[tuple[str, str], float] = defaultdict(float)
    for span in doc["excluded"]:
        excluded_s[(span["site"], span["reason"])] += span["end"] - span["start"]
    for site in doc["sites"]:
        s = doc["summary"][site]
        rate = "-" if s["twitches_per_min"] is None else f"{s['twitches_per_min']:.1f}"
        lines.append(
            f"{site:<18} {s['twitches']:>8} {s['rest_s']:>8.0f}s {rate:>8} {s['cramps']:>6}"
            + "".join(f" {excluded_s[(site, r.value)]:>{w - 1}.0f}s" for r, w in _COLUMNS)
        )
    cramps = [e for e in doc["events"] if e["kind"] == EventKind.CRAMP.value]
    if cramps:
        lines += ["", "Cramps:"]
        lines += [f"  {c['site']}: at {c['t']:.1f} s for {c['duration_s']:.1f} s" for c in cramps]
    if any(s["twitches_per_min"] is None for s in doc["summary"].values()):
        lines += ["", f"per min: shown after {MIN_REST_FOR_RATE_S:.0f} s of observed rest."]
    lines += [
        "",
        "rest: time at rest in which twitches could be counted; voluntary, motion, artifact and",
        "gap time is excluded, never counted as 'no twitches'. Measurements, not a diagnosis.",
    ]
    return "\n".join(lines)


__all__ = ["RecordingError", "analyze_file", "format_table"]
