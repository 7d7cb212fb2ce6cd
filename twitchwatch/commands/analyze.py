"""``twitchwatch analyze FILE [--json]``: offline analysis of an EDF+/BDF recording."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    analyze = commands.add_parser("analyze", help="count twitches in an EDF+/BDF recording")
    analyze.add_argument(
        "file", type=Path, help="EDF+/BDF file (labels 'EMG <site>', 'ACC X <site>')"
    )
    analyze.add_argument("--json", action="store_true", help="print the JSON document")
    analyze.set_defaults(func=run)


async def run(args: argparse.Namespace) -> None:
    import json

    from edge.analyze import analyze_file, format_table

    doc = analyze_file(args.file)
    print(json.dumps(doc) if args.json else format_table(doc))
