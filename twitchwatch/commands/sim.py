"""``twitchwatch sim``: simulated sensors on a virtual Bluetooth radio served over TCP."""

from __future__ import annotations

import argparse
import asyncio

from twitchwatch.commands.options import host_port


def register(commands: argparse._SubParsersAction) -> None:
    sim = commands.add_parser("sim", help="run simulated sensors on a virtual Bluetooth radio")
    sim.add_argument(
        "--site",
        action="append",
        dest="sites",
        metavar="SITE[:DRIVER]",
        help="body site, and the driver to simulate (default diy; e.g. right_calf:polar_pmd, "
        "right_forearm:bitalino); "
        "repeatable",
    )
    sim.add_argument("--hci", default="127.0.0.1:7390", help="HOST:PORT to serve the radio on")
    sim.add_argument("--speed", type=float, default=1.0, help="sensor clock pace (1 = real time)")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--preset", default="rest", help="physiology preset: rest, busy, …")
    sim.add_argument("--drop", type=float, default=0.0, help="probability a frame is lost on air")
    sim.add_argument("--corrupt", type=float, default=0.0, help="probability a frame is mangled")
    sim.add_argument("--drift-ppm", type=float, default=0.0, help="sensor crystal error")
    sim.add_argument("--seconds", type=float, default=None, help="stop after this long")
    sim.set_defaults(func=run)


async def run(args: argparse.Namespace) -> None:
    from firmware_sim.faults import Faults
    from firmware_sim.fleet import FleetSpec, SimSensor, close_fleet, start_fleet
    from firmware_sim.radio import VirtualRadio

    host, port = host_port(args.hci)
    spec = FleetSpec(
        # --site left_calf, or --site right_calf:polar_pmd for another driver's simulator.
        tuple(SimSensor.parse(site) for site in args.sites or ("left_calf",)),
        seed=args.seed,
        preset=args.preset,
        speed=args.speed,
        faults=Faults(drop_prob=args.drop, corrupt_prob=args.corrupt, drift_ppm=args.drift_ppm),
    )
    radio = VirtualRadio()
    sensors = await start_fleet(radio, spec)
    try:
        bound = await radio.serve_hci(host, port)  # RadioAddressError: a busy port, one line
        print(
            f'virtual radio on {host}:{bound} (edge config: [ble] backend = "sim", sim_hci = "{host}:{bound}")'
        )
        for sensor in sensors:
            print(f"  {sensor.name}  {sensor.address}  site={sensor.site}  driver={sensor.driver}")
        if args.seconds is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(args.seconds)
    finally:
        await radio.close()
        await close_fleet(sensors)
