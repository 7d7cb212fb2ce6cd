"""``twitchwatch alerts``: a person's alerts as they come; ``--ack`` marks one as seen."""

from __future__ import annotations

import argparse
import asyncio
import sys

from twitchwatch.commands.options import add_broker_options, broker_from_args


def register(commands: argparse._SubParsersAction) -> None:
    alerts = commands.add_parser(
        "alerts", help="print a person's alerts as they come (Ctrl-C to stop)"
    )
    add_broker_options(alerts)
    alerts.add_argument("--user", required=True, help="whose alerts (the <user> topic level)")
    alerts.add_argument(
        "--json", action="store_true", help="one JSON object per state and event, for scripts"
    )
    answer = alerts.add_mutually_exclusive_group()
    answer.add_argument(
        "--ack", metavar="RULE/SCOPE", help="mark an alert as seen (e.g. persistence/left_calf)"
    )
    answer.add_argument(
        "--resolve",
        metavar="RULE/SCOPE",
        help="mark a reported symptom's alert resolved after seeing a doctor (e.g. red_flag/speech)",
    )
    alerts.add_argument(
        "--tz", help="show times in this IANA zone (default: the person's profile, else UTC)"
    )
    alerts.add_argument(
        "--homeassistant",
        action="store_true",
        help="also describe this person's sensors and alerts to Home Assistant (MQTT discovery)",
    )
    alerts.add_argument(
        "--ha-prefix", default="homeassistant", help="Home Assistant's discovery prefix"
    )
    alerts.add_argument(
        "--seconds", type=float, default=None, help="stop after this long (default: until Ctrl-C)"
    )
    alerts.add_argument(
        "--connect-timeout", type=float, default=10.0, help="seconds to wait for the broker"
    )
    alerts.set_defaults(func=run)


async def run(args: argparse.Namespace) -> None:
    import secrets

    from server.alert_feed import (
        AlertFeed,
        FeedLine,
        connect,
        follow,
        parse_ack_target,
        send_ack,
    )
    from server.homeassistant import HomeAssistantBridge
    from twitchwatch.contract import AckAction
    from twitchwatch.mqtt_link import MqttLink

    broker = broker_from_args(args)
    ack = None
    if args.ack:
        ack = parse_ack_target(args.ack)
    elif args.resolve:
        ack = parse_ack_target(args.resolve, AckAction.RESOLVED)
    feed = AlertFeed(args.user, as_json=args.json, tz=args.tz)
    bridge = HomeAssistantBridge(args.user, args.ha_prefix) if args.homeassistant else None
    subscriptions = [*feed.subscriptions, *(bridge.subscriptions if bridge else [])]
    link = MqttLink(
        broker,
        client_id=f"twitchwatch-alerts-{args.user}-{secrets.token_hex(4)}",
        subscriptions=[] if ack else subscriptions,
    )
    await connect(link, args.connect_timeout)
    try:
        if ack is not None:
            await send_ack(link, args.user, ack)
            if ack.action is AckAction.RESOLVED:
                print(
                    f"{ack.rule.value}/{ack.scope}: marked resolved (a new report raises it again)"
                )
            else:
                print(
                    f"{ack.rule.value}/{ack.scope}: marked as seen (no reminders unless it changes)"
                )
            return
        if not args.json:
            print(f"alerts of {args.user} on {broker} (Ctrl-C to stop):", file=sys.stderr)

        def emit(line: FeedLine) -> None:
            if line.problem:
                print(f"twitchwatch: warning: {line.text}", file=sys.stderr, flush=True)
            else:
                print(line.text, flush=True)

        deadline = asyncio.timeout(args.seconds)
        try:
            async with deadline:
                await follow(link, feed, emit, bridge)
        except TimeoutError:
            if not deadline.expired():
                raise
    finally:
        await link.close()
