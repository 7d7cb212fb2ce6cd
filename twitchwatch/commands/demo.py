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
        "--seconds",
        type=float,
        default=25.0,
        help="how long today streams live once every sensor is connected (default 25)",
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
    demo.add_argument(
        "--web",
        action="store_true",
        help="also serve the person's web view (a demo login is printed); after the story the "
        "broker, server and web view keep running until Ctrl-C",
    )
    demo.add_argument(
        "--web-port",
        type=int,
        default=8080,
        help="the web view's port on 127.0.0.1 (default 8080, another free one if taken)",
    )
    demo.set_defaults(func=run)


async def run(args: argparse.Namespace) -> None:
    import asyncio

    from twitchwatch.demo.run import DemoOptions, DemoResult, run_demo
    from twitchwatch.demo.story import calf_then_hand, short_calf_then_hand
    from twitchwatch.demo.summary import summary_lines
    from twitchwatch.demo.web import DemoLogin

    story = (short_calf_then_hand if args.quick else calf_then_hand)(seed=args.seed)
    plain = args.plain or not sys.stdout.isatty()
    print(
        f"TwitchWatch demo: {len(story.days)} past days of a simulated person replayed through "
        "the detector, MQTT and the server; then today live from simulated Bluetooth sensors. "
        "Ctrl-C stops it.",
        flush=True,
    )

    def show_login(login: DemoLogin) -> None:
        print(
            f"The person's web view: {login.url}  (user {login.user}, password {login.password}; "
            f"shown only now). Their broker: {login.broker}",
            flush=True,
        )

    async def hold(result: DemoResult) -> None:
        """After the story: the summary, then the web view stays up until Ctrl-C."""
        print("\n".join(summary_lines(story, result)), flush=True)
        if result.web is not None:
            web = result.web
            print(
                f"\nThe broker, the server and the web view keep running: open {web.url} and log "
                f"in as {web.user} with password {web.password}. Report from a terminal: "
                f"twitchwatch log weakness --site right_hand --broker {web.broker} --user "
                f"{web.user}. Ctrl-C ends the demo.",
                flush=True,
            )
        await asyncio.Event().wait()  # until Ctrl-C cancels it

    options = DemoOptions(
        story,
        live_s=args.seconds,
        plain=plain,
        embedded_broker=args.embedded_broker,
        report=None if args.no_report else args.report,
        web_port=args.web_port if args.web else None,
        on_web=show_login,
        hold=hold if args.web else None,
    )
    result = await run_demo(options)
    if not args.web:
        print("\n".join(summary_lines(story, result)))
