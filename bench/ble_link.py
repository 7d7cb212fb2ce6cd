"""Throughput of the simulated BLE link through bleak, and the edge side's CPU cost.

The simulated sensors run in their own process (`twitchwatch sim`), so this process's CPU time is
the edge side alone: Bumble host stack + bleak backend + decoding + timelines, and then the whole
edge agent (the same plus the live detector per site, as `twitchwatch edge run` runs it). In the
same run a bare Bumble central (no bleak, no decoding) receives the same streams: the floor the
edge cannot beat, so the ratios are meaningful on a shared, noisy machine.

    .venv/bin/python bench/ble_link.py [--sensors 4] [--seconds 20] [--fast-speed 8]

Target (issue 2): 4 DIY sensors (EMG 2 kHz + ACC 416 Hz each) at real-time pace with the edge
side under 10 % of one core. Beside them (issue 16), BITalino boards at 1 kHz (EMG + one ACC axis
in 4-byte frames, a byte stream in 20-byte notifications: ~7x the notifications of a DIY sensor)
on the same measures: edge CPU per sensor-second and frames lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from bumble.core import UUID
from bumble.device import Device, Peer
from bumble.hci import Address
from bumble.transport import open_transport

from edge.agent import Agent, make_sessions
from edge.ble.session import Backend, SensorConfig, SensorSession
from edge.drivers.bitalino import protocol as bitalino_proto
from edge.drivers.diy import protocol as proto
from edge.stream import StreamInfo
from edge.timeline import TimelineUpdate
from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend

SITES = ("left_calf", "right_calf", "left_hand", "right_forearm", "left_thigh", "right_thigh")


@dataclass
class Counter:
    samples: int = 0

    def on_streams(self, session: SensorSession, infos: list[StreamInfo]) -> None:
        pass

    def on_update(self, info: StreamInfo, update: TimelineUpdate) -> None:
        self.samples += sum(b.n_samples for b in update.blocks)


def total(sessions: list[SensorSession], counter: str) -> int:
    """A timeline counter summed over every stream of every session."""
    return sum(getattr(t.stats, counter) for s in sessions for t in s.timelines.values())


@dataclass
class Figures:
    label: str
    seconds: float
    cpu_s: float
    frames: int
    samples: int
    lost_frames: int | None = None  # None: this receiver does not account for losses

    def line(self, n_sensors: int, speed: float) -> str:
        sensor_s = n_sensors * self.seconds * speed
        return (
            f"{self.label:<34} {self.frames / self.seconds:>8.0f} frames/s {self.samples / self.seconds:>9.0f} samples/s "
            f"CPU {100 * self.cpu_s / self.seconds:5.1f} % of a core, "
            f"{self.cpu_s / sensor_s * 1e3:6.2f} ms CPU per sensor-second, lost frames {'n/a' if self.lost_frames is None else self.lost_frames}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def simulator(n_sensors: int, speed: float, seconds: float, driver: str = "diy"):
    """``twitchwatch sim`` with ``n_sensors`` of ``driver``; yields its radio and sensor names."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "twitchwatch",
        "sim",
        "--hci",
        f"127.0.0.1:{port}",
        "--speed",
        str(speed),
    ]
    command += [arg for site in SITES[:n_sensors] for arg in ("--site", f"{site}:{driver}")]
    command += ["--seconds", str(seconds)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        names = []
        for line in process.stdout:  # "virtual radio on …" then one line per sensor
            if line.startswith("  "):
                names.append(line.split()[0])
            if len(names) == n_sensors:
                break
        yield f"127.0.0.1:{port}", names
    finally:
        process.terminate()
        process.wait(timeout=10)


async def measure_edge(
    hci: str, names: list[str], seconds: float, warmup_s: float, driver: str = "diy"
) -> Figures:
    adapter = BumbleAdapter(transport=f"tcp-client:{hci}")
    classes = bumble_backend(adapter)
    counter = Counter()
    sessions = make_sessions(
        [SensorConfig(name, SITES[i], driver) for i, name in enumerate(names)],
        counter,
        Backend(classes.scanner, classes.client),
    )
    tasks = [asyncio.create_task(s.run()) for s in sessions]
    try:
        deadline = time.monotonic() + 30
        while any(s.health.connects == 0 for s in sessions):
            if time.monotonic() > deadline:
                raise RuntimeError("sensors did not connect within 30 s")
            await asyncio.sleep(0.1)
        await asyncio.sleep(warmup_s)
        frames0, lost0 = total(sessions, "frames_received"), total(sessions, "frames_lost")
        samples0, cpu0, wall0 = counter.samples, time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        frames = (
            sum(t.stats.frames_received for s in sessions for t in s.timelines.values()) - frames0
        )
        lost = sum(t.stats.frames_lost for s in sessions for t in s.timelines.values()) - lost0
        return Figures(
            "edge (bleak + decode + timelines)", wall, cpu, frames, counter.samples - samples0, lost
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await adapter.close()


async def measure_agent(
    hci: str, names: list[str], seconds: float, warmup_s: float, driver: str = "diy"
) -> Figures:
    """The edge agent as `edge run` runs it (no broker): the link plus the live detector."""
    adapter = BumbleAdapter(transport=f"tcp-client:{hci}")
    classes = bumble_backend(adapter)
    agent = Agent(
        [SensorConfig(name, SITES[i], driver) for i, name in enumerate(names)],
        Backend(classes.scanner, classes.client),
    )
    running = asyncio.create_task(agent.run())
    try:
        deadline = time.monotonic() + 30
        while any(s.health.connects == 0 for s in agent.sessions):
            if time.monotonic() > deadline:
                raise RuntimeError("sensors did not connect within 30 s")
            await asyncio.sleep(0.1)
        await asyncio.sleep(warmup_s)
        sessions = agent.sessions
        frames0, lost0 = total(sessions, "frames_received"), total(sessions, "frames_lost")
        samples0, cpu0, wall0 = (
            total(sessions, "samples_received"),
            time.process_time(),
            time.monotonic(),
        )
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        return Figures(
            "edge agent (+ live detector)",
            wall,
            cpu,
            total(sessions, "frames_received") - frames0,
            total(sessions, "samples_received") - samples0,
            total(sessions, "frames_lost") - lost0,
        )
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await agent.close()
        await adapter.close()


async def measure_bare_bumble(
    hci: str, n_sensors: int, seconds: float, warmup_s: float, driver: str = "diy"
) -> Figures:
    """A Bumble central that subscribes and counts bytes: no bleak, no decoding."""
    transport = await open_transport(f"tcp-client:{hci}")
    device = Device.with_hci("bare", Address("C2:57:ED:6E:00:02"), transport.source, transport.sink)
    await device.power_on()
    seen: dict[str, Address] = {}
    device.on(
        device.EVENT_ADVERTISEMENT, lambda adv: seen.setdefault(str(adv.address), adv.address)
    )
    await device.start_scanning()
    while len(seen) < n_sensors:
        await asyncio.sleep(0.05)
    await device.stop_scanning()
    counts = {"frames": 0, "samples": 0}

    def on_data(value: bytes) -> None:
        counts["frames"] += 1
        counts["samples"] += value[8]  # the header's sample count, nothing decoded

    def on_bitalino_bytes(value: bytes) -> None:
        counts["bytes"] = counts.get("bytes", 0) + len(value)
        counts["samples"] = counts["bytes"] // 2  # 4-byte frames of two 1 kHz channels

    for address in seen.values():
        connection = await device.connect(address)
        peer = Peer(connection)
        await peer.request_mtu(247)
        await peer.discover_services()
        for service in peer.services:
            await service.discover_characteristics()
        if driver == "bitalino":
            (frames,) = peer.get_characteristics_by_uuid(UUID(bitalino_proto.FRAMES_UUID))
            (commands,) = peer.get_characteristics_by_uuid(UUID(bitalino_proto.COMMANDS_UUID))
            await peer.subscribe(frames, on_bitalino_bytes)
            for command in (bitalino_proto.Rate.HZ_1000, bitalino_proto.start_live((1, 5))):
                await peer.write_value(commands, bytes([command]), with_response=True)
            continue
        (data,) = peer.get_characteristics_by_uuid(UUID(proto.DATA_UUID))
        (control,) = peer.get_characteristics_by_uuid(UUID(proto.CONTROL_POINT_UUID))
        await peer.subscribe(data, on_data)
        await peer.subscribe(control, lambda _value: None)
        await peer.write_value(
            control,
            proto.encode_request(proto.Opcode.START, 1, proto.START_ARGS.pack(0b11)),
            with_response=True,
        )
    await asyncio.sleep(warmup_s)
    frames0, samples0, cpu0, wall0 = (
        counts["frames"],
        counts["samples"],
        time.process_time(),
        time.monotonic(),
    )
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    samples = counts["samples"] - samples0
    await device.power_off()
    await transport.close()
    # For a BITalino "frames" are the bare central's 2 x 1 kHz samples (it decodes nothing).
    frames = samples if driver == "bitalino" else counts["frames"] - frames0
    return Figures("bare Bumble central (floor)", wall, cpu, frames, samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fast-speed", type=float, default=8.0, help="pace of the throughput run")
    parser.add_argument("--bitalinos", type=int, default=1, help="BITalino boards at 1 kHz")
    parser.add_argument("--only-bitalino", action="store_true", help="skip the DIY runs")
    args = parser.parse_args()
    if args.only_bitalino:
        measure_bitalino(args.bitalinos, args.seconds, 3.0, None)
        return
    n, seconds, warmup = args.sensors, args.seconds, 3.0
    lifetime = 60 + 2 * seconds
    per_sensor_rate = 2000 + 416  # samples/s of one DIY sensor (EMG + ACC)
    print(f"{n} simulated DIY sensors (EMG 2 kHz + ACC 416 Hz), MTU 247, {seconds:.0f} s per run")
    print("\nreal-time pace:")
    with simulator(n, 1.0, lifetime) as (hci, names):
        edge = asyncio.run(measure_edge(hci, names, seconds, warmup))
    with simulator(n, 1.0, lifetime) as (hci, names):
        agent = asyncio.run(measure_agent(hci, names, seconds, warmup))
    with simulator(n, 1.0, lifetime) as (hci, _names):
        bare = asyncio.run(measure_bare_bumble(hci, n, seconds, warmup))
    print("  " + edge.line(n, 1.0))
    print("  " + agent.line(n, 1.0))
    print("  " + bare.line(n, 1.0))
    expected = n * per_sensor_rate
    print(
        f"  samples delivered / nominal rate (lost frames are counted above; a shortfall with none lost means the simulator fell behind its pace): {edge.samples / edge.seconds / expected:.3f} (expected {expected} samples/s)"
    )
    print(f"  edge CPU vs bare Bumble central: {edge.cpu_s / max(bare.cpu_s, 1e-9):.2f}x")
    print(f"  edge agent CPU vs bare Bumble central: {agent.cpu_s / max(bare.cpu_s, 1e-9):.2f}x")
    verdict = "meets" if edge.cpu_s / edge.seconds < 0.10 else "MISSES"
    print(f"  target edge < 10 % of one core: {100 * edge.cpu_s / edge.seconds:.1f} % -> {verdict}")
    measure_bitalino(args.bitalinos, seconds, warmup, (n, edge, agent))
    print(f"\nthroughput at {args.fast_speed:g}x pace:")
    with simulator(n, args.fast_speed, lifetime) as (hci, names):
        fast = asyncio.run(measure_edge(hci, names, seconds / 2, warmup))
    print("  " + fast.line(n, args.fast_speed))
    expected_fast = n * per_sensor_rate * args.fast_speed
    print(
        f"  samples delivered / nominal rate (lost frames are counted above; a shortfall with none lost means the simulator fell behind its pace): {fast.samples / fast.seconds / expected_fast:.3f} (expected {expected_fast:.0f} samples/s)"
    )


def measure_bitalino(
    n: int, seconds: float, warmup: float, diy: tuple[int, Figures, Figures] | None
) -> None:
    """BITalino boards at real time (their bridge has room for 2x, not the fast run's pace)."""
    print(f"\n{n} simulated BITalino (EMG + one ACC axis at 1 kHz, 4-byte frames), real-time pace:")
    lifetime = 60 + 2 * seconds
    with simulator(n, 1.0, lifetime, "bitalino") as (hci, names):
        edge = asyncio.run(measure_edge(hci, names, seconds, warmup, "bitalino"))
    with simulator(n, 1.0, lifetime, "bitalino") as (hci, names):
        agent = asyncio.run(measure_agent(hci, names, seconds, warmup, "bitalino"))
    with simulator(n, 1.0, lifetime, "bitalino") as (hci, _names):
        bare = asyncio.run(measure_bare_bumble(hci, n, seconds, warmup, "bitalino"))
    print("  " + edge.line(n, 1.0))
    print("  " + agent.line(n, 1.0))
    print("  " + bare.line(n, 1.0))
    print(f"  edge CPU vs bare Bumble central: {edge.cpu_s / max(bare.cpu_s, 1e-9):.2f}x")
    expected = n * 2000  # samples/s: EMG + ACC at 1 kHz
    print(f"  samples delivered / nominal rate: {edge.samples / edge.seconds / expected:.3f}")
    if diy is not None:
        n_diy, diy_edge, diy_agent = diy
        for label, ours, theirs in (("edge", edge, diy_edge), ("edge agent", agent, diy_agent)):
            ratio = (ours.cpu_s / (n * ours.seconds)) / (theirs.cpu_s / (n_diy * theirs.seconds))
            print(f"  {label} CPU per sensor-second, BITalino vs DIY (same run): {ratio:.2f}x")


if __name__ == "__main__":
    main()
