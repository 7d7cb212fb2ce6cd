"""``twitchwatch demo``: the whole chain with simulated sensors, no set-up."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="the whole chain with simulated sensors, no set-up: six weeks replayed, today live",
    )
    demo.add_argument(
        "--seconds", type=float, default=25.0, help="how long today streams live (default 25)"
    )
    demo.add_argument(
        "--plain", action="store_true", help="plain lines instead of the live view (logs, pipes)"
    )
    demo.add_argument("--seed", type=int, default=7, help="the story's seed")
    demo.add_argument(
        "--report",
        type=Path,
        default=Path("twitchwatch-demo-report.html"),
        help="where to write the person's report (default ./twitchwatch-demo-report.html)",
    )
    demo.add_argument("--no-report", action="store_true", help="write no report")
    demo.add_argument(
        "--quick",
        action="store_true",
        help="5-minute daily recordings (the rules then count a day from 4.5 min of rest)",
    )
    demo.add_argument(
        "--embedded-broker",
        action="store_true",
        help="use the built-in broker even when Mosquitto is installed",
    )
    demo.set_defaults(func=run)


async def run(args: argparse.Namespace) -> None:
    from twitchwatch.demo.run import DemoOptions, run_demo
    from twitchwatch.demo.story import calf_then_hand, short_calf_then_hand
    from twitchwatch.demo.summary import summary_lines

    story = (short_calf_then_hand if args.quick else calf_then_hand)(seed=args.seed)
    plain = args.plain or not sys.stdout.isatty()
    print(
        f"TwitchWatch demo: {len(story.days)} past days of a simulated person replayed through "
        "the detector, MQTT and the server; then today live from simulated Bluetooth sensors. "
        "Ctrl-C stops it.",
        flush=True,
    )
    options = DemoOptions(
        story,
        live_s=args.seconds,
        plain=plain,
        embedded_broker=args.embedded_broker,
        report=None if args.no_report else args.report,
    )
    result = await run_demo(options)
    print("\n".join(summary_lines(story, result)))
