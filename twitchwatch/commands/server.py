"""``twitchwatch server``: store windows and reports from MQTT, evaluate the rules, publish alerts."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from twitchwatch.commands.options import EXIT_INTERRUPTED, add_broker_options, broker_from_args

#: ``--db``'s default: a PostgreSQL URL with a password stays off the command line.
DB_ENV = "TWITCHWATCH_DB"


def register(commands: argparse._SubParsersAction) -> None:
    server = commands.add_parser(
        "server", help="store windows and reports from MQTT, evaluate the rules, publish alerts"
    )
    add_broker_options(server, from_env=True)
    db_default = os.environ.get(DB_ENV)
    server.add_argument(
        "--db",
        required=db_default is None,
        default=db_default,
        help="sqlite:///twitchwatch.db (relative), sqlite:////abs/path.db or postgresql://… "
        f"(default: ${DB_ENV}; a PostgreSQL password is best in ~/.pgpass or $PGPASSFILE)",
    )
    server.add_argument(
        "--client-id",
        default=None,
        help="fixed MQTT client id: the broker queues messages for it while the server is down "
        "(default: the broker username, which it must equal when there is one; else "
        "twitchwatch-server)",
    )
    server.add_argument(
        "--share",
        metavar="GROUP",
        help="split the messages with other servers of this group ($share/GROUP/…; use PostgreSQL)",
    )
    server.add_argument("--rules", type=Path, help="TOML file overriding rule thresholds")
    server.add_argument("--mqtt", choices=["5", "3.1.1"], default="5", help="MQTT version")
    server.add_argument(
        "--connect-timeout", type=float, default=10.0, help="seconds to wait for the broker"
    )
    server.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    import signal

    from server.rules import load_rule_config
    from server.service import Server, ServerOptions
    from twitchwatch.errors import redact_url
    from twitchwatch.mqtt_link import Protocol

    server = Server(
        broker_from_args(args),
        args.db,
        client_id=args.client_id,
        share_group=args.share,
        protocol=Protocol(args.mqtt),
        rule_config=load_rule_config(args.rules),
        options=ServerOptions(connect_timeout_s=args.connect_timeout),
    )
    stop = asyncio.Event()
    stopped_by: list[signal.Signals] = []

    def stop_on(signum: signal.Signals) -> None:
        stopped_by.append(signum)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_on, signum)
    task = asyncio.create_task(server.run(stop))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if server.ready.is_set():
        print(
            f"twitchwatch server: {server.broker} -> {redact_url(args.db)} as {server.client_id}"
            f"{f' (share group {args.share})' if args.share else ''}; Ctrl-C to stop",
            flush=True,
        )
    await task  # raises StoreError / MqttLinkError: one line, exit code 1
    s = server.stats
    print(
        f"stopped: {s.messages} messages, {s.stored} stored, {s.duplicates} duplicates, "
        f"{s.replayed} replayed, {s.rejected} rejected; {s.evaluations} evaluations, "
        f"{s.alert_events} alert events",
        flush=True,
    )
    return EXIT_INTERRUPTED if signal.SIGINT in stopped_by else 0
