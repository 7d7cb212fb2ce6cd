"""The ``twitchwatch`` command line. The only place that prints and the only
``except TwitchWatchError``: such errors become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

import twitchwatch.one_core  # noqa: F401  (before anything imports numpy)
from twitchwatch.contract import TwitchWatchError

DEMO_SITES = ("left_calf", "right_calf", "right_hand")


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

    demo = commands.add_parser("demo", help="the whole chain with simulated sensors, no set-up")
    demo.add_argument("--seconds", type=float, default=20.0, help="how long to stream (default 20)")
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
    run.set_defaults(func=_edge_run)
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

    backend, adapter = _backend_for(args.sim)
    try:
        found = await BleakScanner.discover(
            timeout=args.timeout,
            return_adv=True,
            service_uuids=[SERVICE_UUID],
            backend=backend.scanner,
        )
    finally:
        if adapter is not None:
            await adapter.close()
    if not found:
        print("no TwitchWatch sensors found: are they switched on and near this computer?")
        return
    print(f"{'address':<20}{'name':<22}{'rssi':>6}{'battery':>9}")
    for device, adv in sorted(found.values(), key=lambda item: item[0].address):
        advert = decode_advert(adv.manufacturer_data.get(COMPANY_ID, b""))
        battery = f"{advert[1]}%" if advert else "?"
        print(
            f"{device.address:<20}{adv.local_name or device.name or '':<22}{adv.rssi:>6}{battery:>9}"
        )


async def _edge_run(args: argparse.Namespace) -> None:
    from edge.config import BleBackendKind, load_config

    config = load_config(args.config)
    backend, adapter = _backend_for(
        config.sim_hci if config.ble_backend is BleBackendKind.SIM else None
    )
    try:
        await _stream_live(config.sensors, backend, args.seconds, args.record)
    finally:
        if adapter is not None:
            await adapter.close()


async def _demo(args: argparse.Namespace) -> None:
    from edge.ble.session import Backend, SensorConfig
    from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend
    from firmware_sim.firmware import Faults
    from firmware_sim.fleet import FleetSpec, close_fleet, start_fleet
    from firmware_sim.radio import VirtualRadio

    print(
        "TwitchWatch demo: simulated sensors on a virtual Bluetooth radio, streamed through bleak."
    )
    print("(Alerts and the six-week story arrive with the next issues.)\n")
    radio = VirtualRadio()
    sensors = await start_fleet(
        radio, FleetSpec(DEMO_SITES, preset="busy", faults=Faults(drop_prob=0.005))
    )
    adapter = BumbleAdapter(radio=radio)
    bleak_backend = bumble_backend(adapter)
    try:
        configs = [SensorConfig(s.name, s.firmware.site) for s in sensors]
        await _stream_live(
            configs, Backend(bleak_backend.scanner, bleak_backend.client), args.seconds
        )
    finally:
        await adapter.close()
        await close_fleet(sensors)


async def _stream_live(sensors, backend, seconds: float | None, record: Path | None = None) -> None:
    from edge.agent import Fanout, make_sessions, run_for
    from edge.live import LiveFigures, format_rows
    from edge.live_detect import LiveDetection, format_totals

    live = LiveFigures()
    detection = LiveDetection(record)
    sessions = make_sessions(sensors, Fanout(live, detection), backend)
    for session in sessions:
        live.watch(session)

    def show() -> None:
        lines = [*format_rows(live.rows()), "", *format_totals(detection.totals())]
        print("\n".join(lines) + "\n", flush=True)

    try:
        await run_for(sessions, seconds, on_tick=show, tick_s=2.0)
    finally:
        detection.close()
    rows = live.rows()
    print("final:")
    show()
    if record is not None:
        print(f"recordings (EDF+, open them in EDFbrowser): {record}")
    streaming = [r for r in rows if r.emg_hz or r.acc_hz]
    print(
        f"{len(streaming)} of {len(rows)} sensors streamed; every lost sample above is counted as a gap."
    )


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
