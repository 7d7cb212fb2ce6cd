"""The ``twitchwatch`` command line. The only place that prints and the only
``except TwitchWatchError``: such errors become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from datetime import date
from pathlib import Path

import twitchwatch.one_core  # noqa: F401  (before anything imports numpy)
from twitchwatch.contract import TwitchWatchError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Bumble logs a benign error when a pending HCI command is answered after shutdown began.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL if not args.verbose else logging.DEBUG)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(args.func(args)) or 0
        return 130
    except TwitchWatchError as exc:
        print(f"twitchwatch: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twitchwatch",
        description="Counts muscle twitches per body site from wearable sensors. "
        "Not a diagnostic device.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

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
    demo.set_defaults(func=_demo)

    analyze = commands.add_parser("analyze", help="count twitches in an EDF+/BDF recording")
    analyze.add_argument(
        "file", type=Path, help="EDF+/BDF file (labels 'EMG <site>', 'ACC X <site>')"
    )
    analyze.add_argument("--json", action="store_true", help="print the JSON document")
    analyze.set_defaults(func=_analyze)

    scenario = commands.add_parser(
        "scenario", help="list or export the simulator's named scenarios with their ground truth"
    )
    scenario.add_argument("name", nargs="?", help="scenario to export (omit to list them)")
    scenario.add_argument("--out", type=Path, default=Path("."), help="folder for .edf and .json")
    scenario.add_argument("--seconds", type=float, default=None, help="export only the start")
    scenario.set_defaults(func=_scenario)

    sim = commands.add_parser("sim", help="run simulated sensors on a virtual Bluetooth radio")
    sim.add_argument("--site", action="append", dest="sites", help="body site (repeatable)")
    sim.add_argument("--hci", default="127.0.0.1:7390", help="HOST:PORT to serve the radio on")
    sim.add_argument("--speed", type=float, default=1.0, help="sensor clock pace (1 = real time)")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--preset", default="rest", help="physiology preset: rest, busy, …")
    sim.add_argument("--drop", type=float, default=0.0, help="probability a frame is lost on air")
    sim.add_argument("--corrupt", type=float, default=0.0, help="probability a frame is mangled")
    sim.add_argument("--drift-ppm", type=float, default=0.0, help="sensor crystal error")
    sim.add_argument("--seconds", type=float, default=None, help="stop after this long")
    sim.set_defaults(func=_sim)

    edge = commands.add_parser("edge", help="the edge agent").add_subparsers(
        required=True, metavar="ACTION"
    )
    scan = edge.add_parser("scan", help="list TwitchWatch sensors in range")
    scan.add_argument("--sim", metavar="HOST:PORT", help="scan a `twitchwatch sim` radio instead")
    scan.add_argument("--timeout", type=float, default=5.0)
    scan.set_defaults(func=_edge_scan)
    run = edge.add_parser("run", help="stream the configured sensors")
    run.add_argument("--config", type=Path, required=True, help="TOML config (see edge/config.py)")
    run.add_argument("--seconds", type=float, default=None, help="stop after this long")
    run.add_argument(
        "--record", type=Path, metavar="DIR", help="write each sensor's streams to EDF+ here"
    )
    run.add_argument("--broker", help="publish windows here (overrides [mqtt] broker)")
    run.add_argument("--user", help="the <user> topic level (overrides [mqtt] user)")
    run.add_argument("--device", help="the <device> topic level (overrides [mqtt] device)")
    run.add_argument(
        "--view",
        choices=["auto", "live", "log"],
        default="auto",
        help="live: a table redrawn in the terminal; log: a line per change and a summary a "
        "minute, for systemd's journal; auto (default): live on a terminal, else log",
    )
    run.set_defaults(func=_edge_run)
    _add_alert_commands(commands)
    _add_server_command(commands)
    _add_report_command(commands)
    return parser


async def _analyze(args: argparse.Namespace) -> None:
    import json

    from edge.analyze import analyze_file, format_table

    doc = analyze_file(args.file)
    print(json.dumps(doc) if args.json else format_table(doc))


async def _scenario(args: argparse.Namespace) -> None:
    from firmware_sim.scenarios import SCENARIOS

    if args.name is None:
        for name, sc in SCENARIOS.items():
            print(f"{name:<16} {sc.duration_s:>6.0f} s  {sc.summary}")
        return
    if args.name not in SCENARIOS:
        raise UnknownScenarioError(args.name, sorted(SCENARIOS))
    from firmware_sim.export import export_scenario

    edf_path, truth_path = export_scenario(SCENARIOS[args.name], args.out, args.seconds)
    print(f"wrote {edf_path} and {truth_path}")


class UnknownScenarioError(TwitchWatchError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown scenario {name!r} (known: {', '.join(known)})")


async def _sim(args: argparse.Namespace) -> None:
    from firmware_sim.firmware import Faults
    from firmware_sim.fleet import FleetSpec, close_fleet, start_fleet
    from firmware_sim.radio import VirtualRadio

    host, port = _host_port(args.hci)
    spec = FleetSpec(
        sites=tuple(args.sites or ("left_calf",)),
        seed=args.seed,
        preset=args.preset,
        speed=args.speed,
        faults=Faults(drop_prob=args.drop, corrupt_prob=args.corrupt, drift_ppm=args.drift_ppm),
    )
    radio = VirtualRadio()
    sensors = await start_fleet(radio, spec)
    bound = await radio.serve_hci(host, port)
    print(
        f'virtual radio on {host}:{bound} (edge config: [ble] backend = "sim", sim_hci = "{host}:{bound}")'
    )
    for sensor in sensors:
        print(f"  {sensor.name}  {sensor.address}  site={sensor.firmware.site}")
    try:
        if args.seconds is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(args.seconds)
    finally:
        await radio.close()
        await close_fleet(sensors)


async def _edge_scan(args: argparse.Namespace) -> None:
    from bleak import BleakScanner

    from edge.drivers.diy_protocol import COMPANY_ID, SERVICE_UUID, decode_advert
    from edge.drivers.polar import is_polar_advert

    backend, adapter = _backend_for(args.sim)
    try:
        # No service filter: Polar sensors may carry their PMD UUID only in the scan response,
        # so they are recognised by name; DIY sensors by their advertised service UUID.
        found = await BleakScanner.discover(
            timeout=args.timeout, return_adv=True, backend=backend.scanner
        )
    finally:
        if adapter is not None:
            await adapter.close()
    sensors = []
    for device, adv in found.values():
        if SERVICE_UUID in adv.service_uuids:
            sensors.append((device, adv, "diy"))
        elif is_polar_advert(adv.local_name, adv.service_uuids):
            sensors.append((device, adv, "polar"))
    if not sensors:
        print("no TwitchWatch or Polar sensors found: are they switched on and near this computer?")
        return
    print(f"{'address':<20}{'name':<22}{'driver':<8}{'rssi':>6}{'battery':>9}")
    for device, adv, driver in sorted(sensors, key=lambda item: item[0].address):
        advert = (
            decode_advert(adv.manufacturer_data.get(COMPANY_ID, b"")) if driver == "diy" else None
        )
        battery = f"{advert[1]}%" if advert else "?"
        print(
            f"{device.address:<20}{adv.local_name or device.name or '':<22}{driver:<8}"
            f"{adv.rssi:>6}{battery:>9}"
        )


async def _edge_run(args: argparse.Namespace) -> None:
    from edge.config import BleBackendKind, load_config, with_mqtt_overrides
    from edge.run import View, choose_view, run_agent

    config = with_mqtt_overrides(
        load_config(args.config),
        args.config,
        broker=args.broker,
        user=args.user,
        device=args.device,
    )
    view = choose_view(args.view, sys.stdout.isatty())
    if view is View.LOG:  # the agent's state changes and summaries are INFO lines
        logging.getLogger("edge.run").setLevel(logging.INFO)
    backend, adapter = _backend_for(
        config.sim_hci if config.ble_backend is BleBackendKind.SIM else None
    )
    try:
        await run_agent(
            config.sensors,
            backend,
            seconds=args.seconds,
            record=args.record,
            mqtt=config.mqtt,
            view=view,
            config_path=args.config,
        )
    finally:
        if adapter is not None:
            await adapter.close()


async def _demo(args: argparse.Namespace) -> None:
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


def _backend_for(sim_hci: str | None):
    """The bleak backend: the platform's Bluetooth, or a `twitchwatch sim` radio over TCP."""
    from edge.ble.session import Backend

    if sim_hci is None:
        return Backend(), None
    from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend

    host, port = _host_port(sim_hci)
    adapter = BumbleAdapter(transport=f"tcp-client:{host}:{port}")
    backend = bumble_backend(adapter)
    return Backend(backend.scanner, backend.client), adapter


class AddressError(TwitchWatchError):
    def __init__(self, value: str) -> None:
        super().__init__(f"expected HOST:PORT, got {value!r}")


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise AddressError(value)
    return host, int(port)


# --- alerts and broker accounts --------------------------------------------------------------------


def _add_alert_commands(commands: argparse._SubParsersAction) -> None:
    alerts = commands.add_parser(
        "alerts", help="print a person's alerts as they come (Ctrl-C to stop)"
    )
    alerts.add_argument(
        "--broker", required=True, help="mqtt://[user:password@]host[:port] or mqtts://…?ca=ca.pem"
    )
    alerts.add_argument("--user", required=True, help="whose alerts (the <user> topic level)")
    alerts.add_argument(
        "--json", action="store_true", help="one JSON object per state and event, for scripts"
    )
    alerts.add_argument(
        "--ack", metavar="RULE/SCOPE", help="mark an alert as seen (e.g. persistence/left_calf)"
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
    alerts.set_defaults(func=_alerts)

    acl = commands.add_parser(
        "broker-acl", help="write Mosquitto password and ACL files for devices, people, the server"
    )
    acl.add_argument(
        "accounts", type=Path, help="accounts file (deploy/mosquitto/accounts.example.toml)"
    )
    acl.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder for acl and passwd (/etc/mosquitto/twitchwatch)",
    )
    acl.add_argument(
        "--rotate",
        action="append",
        default=[],
        metavar="USERNAME",
        help="give this account a new password (repeatable)",
    )
    acl.set_defaults(func=_broker_acl)


async def _alerts(args: argparse.Namespace) -> None:
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
    from twitchwatch.mqtt_link import BrokerUrl, MqttLink

    broker = BrokerUrl.parse(args.broker)
    ack = parse_ack_target(args.ack) if args.ack else None
    feed = AlertFeed(args.user, as_json=args.json)
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
            print(f"{ack.rule.value}/{ack.scope}: marked as seen (no reminders unless it changes)")
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


async def _broker_acl(args: argparse.Namespace) -> None:
    from server.broker_acl import load_deployment, plan_accounts, write_files

    accounts = plan_accounts(load_deployment(args.accounts))
    written = write_files(accounts, args.out, rotate=args.rotate)
    print(f"wrote {written.acl_path} and {written.password_path} ({len(accounts)} accounts)")
    for name in written.removed:
        print(f"removed account {name}")
    if not written.new_passwords:
        print("no new accounts: every password kept")
    else:
        print("new passwords, shown this once (give each to its device or person now):")
        width = max(map(len, written.new_passwords))
        for name, password in written.new_passwords.items():
            print(f"  {name:<{width}}  {password}")
    print("apply: sudo systemctl reload mosquitto (Mosquitto rereads both files on SIGHUP)")


# --- report --------------------------------------------------------------------------------------


def _add_report_command(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="write one person's data as an HTML page (and PNG figures) to take to a doctor",
    )
    report.add_argument("--user", required=True, help="whose data (the <user> topic level)")
    report.add_argument(
        "--out", type=Path, required=True, help="HTML file to write; figures go in <name>_figures/"
    )
    report.add_argument(
        "--db",
        help="the server's database (default: $TWITCHWATCH_DB, else sqlite:///twitchwatch.db)",
    )
    report.add_argument(
        "--days",
        type=_positive_int,
        default=None,
        help="days to cover (default: the rules' history_days, 90)",
    )
    report.add_argument(
        "--until",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="last day to cover (default: the latest data)",
    )
    report.add_argument("--rules", type=Path, help="TOML file overriding rule thresholds")
    report.set_defaults(func=_report)


async def _report(args: argparse.Namespace) -> None:
    from server.report.cli import run_report  # matplotlib and the store: only when asked

    files = await asyncio.to_thread(run_report, args)
    print(f"wrote {files.html}")
    if files.figures:
        print(f"figures: {len(files.figures)} PNG files in {files.figures[0].parent}/")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


# --- server ----------------------------------------------------------------------------------------


def _add_server_command(commands: argparse._SubParsersAction) -> None:
    server = commands.add_parser(
        "server", help="store windows and reports from MQTT, evaluate the rules, publish alerts"
    )
    server.add_argument(
        "--broker", required=True, help="mqtt://[user:password@]host[:port] or mqtts://…?ca=ca.pem"
    )
    server.add_argument(
        "--db",
        required=True,
        help="sqlite:///twitchwatch.db (relative), sqlite:////abs/path.db or postgresql://…",
    )
    server.add_argument(
        "--client-id",
        default="twitchwatch-server",
        help="fixed MQTT client id: the broker queues messages for it while the server is down",
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
    server.set_defaults(func=_server)


async def _server(args: argparse.Namespace) -> None:
    import signal

    from server.rules_config import load_rule_config
    from server.service import Server, ServerOptions
    from twitchwatch.mqtt_link import Protocol

    server = Server(
        args.broker,
        args.db,
        client_id=args.client_id,
        share_group=args.share,
        protocol=Protocol(args.mqtt),
        rule_config=load_rule_config(args.rules),
        options=ServerOptions(connect_timeout_s=args.connect_timeout),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    task = asyncio.create_task(server.run(stop))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if server.ready.is_set():
        print(
            f"twitchwatch server: {server.broker} -> {args.db} as {args.client_id}"
            f"{f' (share group {args.share})' if args.share else ''}; Ctrl-C to stop",
            flush=True,
        )
    await task  # raises StoreError / MqttLinkError: one line, exit code 2
    s = server.stats
    print(
        f"stopped: {s.messages} messages, {s.stored} stored, {s.duplicates} duplicates, "
        f"{s.replayed} replayed, {s.rejected} rejected; {s.evaluations} evaluations, "
        f"{s.alert_events} alert events",
        flush=True,
    )
