"""``twitchwatch edge scan`` and ``twitchwatch edge run``: the edge agent."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from twitchwatch.commands.options import EXIT_INTERRUPTED, host_port

if TYPE_CHECKING:
    from edge.ble.session import Backend
    from firmware_sim.bleak_backend import BumbleAdapter


def register(commands: argparse._SubParsersAction) -> None:
    edge = commands.add_parser("edge", help="the edge agent").add_subparsers(
        required=True, metavar="ACTION"
    )
    scan = edge.add_parser("scan", help="list TwitchWatch sensors in range")
    scan.add_argument("--sim", metavar="HOST:PORT", help="scan a `twitchwatch sim` radio instead")
    scan.add_argument("--timeout", type=float, default=5.0)
    scan.set_defaults(func=run_scan)
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
        "--password-file",
        type=Path,
        metavar="FILE",
        help="the broker password, alone in a file (overrides [mqtt])",
    )
    run.add_argument(
        "--view",
        choices=["auto", "live", "log"],
        default="auto",
        help="live: a table redrawn in the terminal; log: a line per change and a summary a "
        "minute, for systemd's journal; auto (default): live on a terminal, else log",
    )
    run.set_defaults(func=run_agent)


async def run_scan(args: argparse.Namespace) -> None:
    from edge.scan import format_found, scan

    backend, adapter = backend_for(args.sim)
    try:
        found = await scan(backend, args.timeout)
    finally:
        if adapter is not None:
            await adapter.close()
    print("\n".join(format_found(found)))


async def run_agent(args: argparse.Namespace) -> int:
    from edge.config import BleBackendKind, load_config, with_mqtt_overrides
    from edge.run import run_agent
    from edge.views import View, choose_view

    config = with_mqtt_overrides(
        load_config(args.config),
        args.config,
        broker=args.broker,
        user=args.user,
        device=args.device,
        password_file=args.password_file,
    )
    view = choose_view(args.view, sys.stdout.isatty())
    if view is View.LOG:  # the agent's state changes and summaries are INFO lines
        logging.getLogger("edge.run").setLevel(logging.INFO)
    backend, adapter = backend_for(
        config.sim_hci if config.ble_backend is BleBackendKind.SIM else None
    )
    try:
        final = await run_agent(
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
    return EXIT_INTERRUPTED if final.interrupted else 0  # Ctrl-C, after the clean stop


def backend_for(sim_hci: str | None) -> tuple[Backend, BumbleAdapter | None]:
    """The bleak backend: the platform's Bluetooth, or a `twitchwatch sim` radio over TCP."""
    from edge.ble.session import Backend

    if sim_hci is None:
        return Backend(), None
    from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend

    host, port = host_port(sim_hci)
    adapter = BumbleAdapter(transport=f"tcp-client:{host}:{port}")
    backend = bumble_backend(adapter)
    return Backend(backend.scanner, backend.client), adapter
