"""Export a named scenario: an EDF+ recording (the pinned labels) and its ground truth (JSON).

Any detector, ours or another, can then be judged on the file alone: ``twitchwatch analyze``
reads it, EDFbrowser shows it, and the truth lists every twitch, cramp and episode it holds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from edge.edf import EdfRecorder
from edge.stream import Block, StreamInfo
from twitchwatch.contract import Kind

from .physiology import SiteGenerator
from .scenario import ACC_UNITS, Scenario
from .scenario_truth import truth_json

#: Samples are generated and written this many seconds at a time: memory stays flat.
_PIECE_S = 10.0
#: A fixed start time, so the same scenario always gives the same file.
_START_UTC = datetime(2026, 1, 1, tzinfo=UTC)


def export_scenario(
    scenario: Scenario, out_dir: Path, seconds: float | None = None
) -> tuple[Path, Path]:
    """Write ``<name>.edf`` and ``<name>.truth.json`` into ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    seconds = scenario.duration_s if seconds is None else min(seconds, scenario.duration_s)
    streams: list[tuple[StreamInfo, SiteGenerator]] = []
    for spec in scenario.sites:
        gen = scenario.generator(spec.site)
        if spec.emg:
            info = StreamInfo(scenario.name, spec.site, Kind.EMG, ("emg",), scenario.emg_fs_hz)
            streams.append((info, gen))
        if spec.acc:
            info = StreamInfo(
                scenario.name, spec.site, Kind.ACC, ("x", "y", "z"), scenario.acc_fs_hz
            )
            streams.append((info, gen))
    edf_path = out_dir / f"{scenario.name}.edf"
    # The accelerometer in the scenario's unit, over the usual +-4 g written in that unit.
    acc_factor = ACC_UNITS[scenario.acc_unit]
    with EdfRecorder(
        edf_path, [info for info, _ in streams], _START_UTC, device=scenario.name,
        equipment="TwitchWatch-sim", full_scale={Kind.ACC: float(f"{4.0 * acc_factor:.6g}")},
        dimension={Kind.ACC: scenario.acc_unit},
    ) as recorder:  # fmt: skip
        t = 0.0
        while t < seconds:
            stop = min(t + _PIECE_S, seconds)
            for info, gen in streams:
                a, b = round(t * info.fs), round(stop * info.fs)
                data = (
                    gen.emg(a, b)[None, :] if info.kind is Kind.EMG else gen.acc(a, b) * acc_factor
                )
                recorder.write(Block(info, a, data.astype(np.float32)))
            t = stop
    truth = truth_json(scenario)
    truth["duration_s"] = seconds
    truth["events"] = [e for e in truth["events"] if e["start_s"] < seconds]
    truth_path = out_dir / f"{scenario.name}.truth.json"
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return edf_path, truth_path
