"""``twitchwatch server``: store windows and reports from MQTT, evaluate the rules, publish alerts."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from twitchwatch.commands.options import EXIT_INTERRUPTED, add_broker_options, broker_from_args

#: ``--db``'s default: a PostgreSQL URL with a password stays off the command line.
DB_ENV = "TWITCHWATCH_DB"

if TYPE_CHECKING:
    from server.web import WebConfig


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
    _register_web(server)
    server.set_defaults(func=run)


#: The web view's settings may come from the environment too (the unit's EnvironmentFile), so that
#: nothing of them is expanded onto the command line.
HTTP_ENV = {
    "http": "TWITCHWATCH_HTTP",
    "http_accounts": "TWITCHWATCH_HTTP_ACCOUNTS",
    "http_broker": "TWITCHWATCH_HTTP_BROKER",
    "http_proxy": "TWITCHWATCH_HTTP_PROXY",
}
#: The web account's password as a systemd credential (``LoadCredential=web-password:…``).
WEB_CREDENTIAL = "web-password"


def _register_web(server: argparse.ArgumentParser) -> None:
    env = {dest: os.environ.get(name) or None for dest, name in HTTP_ENV.items()}
    web = server.add_argument_group(
        "web view (a person's pages; each option also reads $" + ", $".join(HTTP_ENV.values()) + ")"
    )
    web.add_argument(
        "--http",
        metavar="HOST:PORT",
        default=env["http"],
        help="serve the web view here, e.g. 127.0.0.1:8080 (plain HTTP: loopback only unless "
        "--http-proxy or --http-insecure)",
    )
    web.add_argument(
        "--http-accounts",
        type=Path,
        metavar="DIR",
        default=env["http_accounts"],
        help="who may log in: the folder `twitchwatch broker-acl --out` wrote (passwd, people); "
        "default /etc/mosquitto/twitchwatch",
    )
    web.add_argument(
        "--http-broker",
        metavar="URL",
        default=env["http_broker"],
        help="the web view's own broker account, which sends what people report "
        "(`web = …` in the accounts file); default: --broker",
    )
    web.add_argument(
        "--http-password-file",
        type=Path,
        metavar="FILE",
        help="the password of --http-broker's account, alone in a file (default: the unit's "
        f"systemd credential {WEB_CREDENTIAL}, if it has one)",
    )
    web.add_argument(
        "--http-proxy",
        metavar="ADDRESS",
        default=env["http_proxy"],
        help="the IP address of the TLS reverse proxy in front (deploy/web/): its "
        "X-Forwarded-For/-Proto are believed, and on a non-loopback --http only it is served",
    )
    web.add_argument(
        "--http-insecure",
        action="store_true",
        help="allow plain HTTP on a non-loopback address (passwords and health data in clear)",
    )


def web_config(args: argparse.Namespace) -> WebConfig:
    """The web view's settings from the command line (WebConfigError, one line, if wrong)."""
    from server.web import DEFAULT_ACCOUNTS, WebConfig, parse_listen
    from twitchwatch.mqtt_link import BrokerUrl
    from twitchwatch.mqtt_link.credentials import with_password

    host, port = parse_listen(args.http)
    return WebConfig(
        host,
        port,
        args.http_accounts or DEFAULT_ACCOUNTS,
        (
            with_password(BrokerUrl.parse(args.http_broker), password_file=_web_password(args))
            if args.http_broker
            else broker_from_args(args)
        ),
        insecure=args.http_insecure,
        trusted_proxy=args.http_proxy,
    )


def _web_password(args: argparse.Namespace) -> Path | None:
    if args.http_password_file is not None:
        return args.http_password_file
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    credential = Path(folder) / WEB_CREDENTIAL if folder else None
    return credential if credential is not None and credential.is_file() else None


async def run(args: argparse.Namespace) -> int:
    import signal

    from server.rules import load_rule_config
    from server.service import Server
    from server.service_options import ServerOptions
    from twitchwatch.errors import redact_url
    from twitchwatch.mqtt_link import Protocol

    # Checked before anything starts: a wrong --http is one line, not a half-started server.
    web = web_config(args) if args.http else None
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
    view = None
    if web is not None and server.ready.is_set():
        from server.web import WebView

        view = WebView(web, args.db, server.rule_config, protocol=Protocol(args.mqtt))
        try:
            await view.start()
        except BaseException:
            await view.close()
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
            raise
        print(f"web view: {view.url} (logins: the people of {web.accounts})", flush=True)
    try:
        await task  # raises StoreError / MqttLinkError: one line, exit code 1
    finally:
        if view is not None:
            await view.close()
    s = server.stats
    print(
        f"stopped: {s.messages} messages, {s.stored} stored, {s.duplicates} duplicates, "
        f"{s.replayed} replayed, {s.rejected} rejected; {s.evaluations} evaluations, "
        f"{s.alert_events} alert events",
        flush=True,
    )
    return EXIT_INTERRUPTED if signal.SIGINT in stopped_by else 0
