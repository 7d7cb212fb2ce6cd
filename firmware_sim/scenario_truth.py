"""A scenario's ground truth as JSON: what happened, for accuracy runs to compare against::

write_truth(SCENARIOS["mains_50hz"], "mains_50hz.truth.json")
records = truth_from_json(json.loads(Path("mains_50hz.truth.json").read_text()))
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from firmware_sim.physiology import TruthKind
from firmware_sim.scenario import Scenario, TruthRecord


def truth_json(scenario: Scenario) -> dict[str, Any]:
    """The scenario's ground truth as a JSON-ready dict: its settings, sites and events."""
    sites = []
    for spec in scenario.sites:
        model = dataclasses.asdict(scenario.model(spec.site))
        model["gravity_g"] = list(model["gravity_g"])  # JSON has no tuples: round-trips equal
        sites.append(
            {
                "site": spec.site,
                "seed": scenario.site_seed(spec.site),
                "emg": spec.emg,
                "acc": spec.acc,
                "model": model,
            }
        )
    events = [
        {
            "site": r.site,
            "kind": r.kind.value,
            "start_s": r.start_s,
            "end_s": r.end_s,
            "peak_s": r.peak_s,
            "amplitude_uv": r.amplitude_uv,
            "unit_id": r.unit_id,
            "doublet": r.doublet,
        }
        for r in scenario.truth()
    ]
    return {
        "scenario": scenario.name,
        "summary": scenario.summary,
        "seed": scenario.seed,
        "duration_s": scenario.duration_s,
        "emg_fs_hz": scenario.emg_fs_hz,
        "acc_fs_hz": scenario.acc_fs_hz,
        "acc_unit": scenario.acc_unit,
        "sites": sites,
        "events": events,
    }


def truth_from_json(doc: dict[str, Any]) -> list[TruthRecord]:
    """The events of a :func:`truth_json` document, back as :class:`TruthRecord`."""
    return [
        TruthRecord(
            site=e["site"],
            kind=TruthKind(e["kind"]),
            start_s=float(e["start_s"]),
            end_s=float(e["end_s"]),
            peak_s=float(e["peak_s"]),
            amplitude_uv=float(e["amplitude_uv"]),
            unit_id=int(e["unit_id"]),
            doublet=bool(e["doublet"]),
        )
        for e in doc["events"]
    ]


def write_truth(scenario: Scenario, path: str | os.PathLike[str]) -> None:
    """Write :func:`truth_json` of ``scenario`` to ``path`` (UTF-8 JSON)."""
    text = json.dumps(truth_json(scenario), indent=1, ensure_ascii=False)
    Path(path).write_text(text + "\n", encoding="utf-8")
