"""``twitchwatch scenario [NAME]``: list or export the simulator's scenarios with ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from twitchwatch.commands.errors import UnknownScenarioError


def register(commands: argparse._SubParsersAction) -> None:
    scenario = commands.add_parser(
        "scenario", help="list or export the simulator's named scenarios with their ground truth"
    )
    scenario.add_argument("name", nargs="?", help="scenario to export (omit to list them)")
    scenario.add_argument("--out", type=Path, default=Path("."), help="folder for .edf and .json")
    scenario.add_argument("--seconds", type=float, default=None, help="export only the start")
    scenario.set_defaults(func=run)


async def run(args: argparse.Namespace) -> None:
    from firmware_sim.scenarios import SCENARIOS

    if args.name is None:
        width = max(map(len, SCENARIOS))
        for name, sc in SCENARIOS.items():
            print(f"{name:<{width}} {sc.duration_s:>6.0f} s  {sc.summary}")
        return
    if args.name not in SCENARIOS:
        raise UnknownScenarioError(args.name, sorted(SCENARIOS))
    from firmware_sim.export import export_scenario

    edf_path, truth_path = export_scenario(SCENARIOS[args.name], args.out, args.seconds)
    print(f"wrote {edf_path} and {truth_path}")
