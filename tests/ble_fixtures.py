"""BLE test infrastructure: simulated sensors on a virtual radio, reached through real bleak.

Nothing here mocks the link: sensors are Bumble peripherals, the edge uses ``bleak.BleakClient``
with the Bumble backend, and every check compares what the edge delivered with what the
simulated firmware actually sampled, dropped or mangled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from edge.agent import Fanout, make_sessions
from edge.ble.reconnect import ReconnectPolicy
from edge.ble.session import Backend, SensorConfig, SensorSession, StreamSink
from edge.stream import Block, Span, StreamInfo
from edge.timeline import TimelineUpdate
from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend
from firmware_sim.diy.peripheral import SimulatedDiySensor
from firmware_sim.faults import Faults
from firmware_sim.fleet import FleetSpec, SimSensor, close_fleet, start_fleet
from firmware_sim.radio import VirtualRadio
from twitchwatch.contract import Kind

#: Tests run the sensors' clocks 4x faster than real time so a few seconds of test cover more data.
TEST_SPEED = 4.0


@dataclass
class CollectingSink:
    """Keeps every block and gap the sessions deliver, per (device, kind)."""

    blocks: dict[tuple[str, Kind], list[Block]] = field(default_factory=dict)
    gaps: dict[tuple[str, Kind], list[Span]] = field(default_factory=dict)
    infos: dict[tuple[str, Kind], StreamInfo] = field(default_factory=dict)
    stream_starts: int = 0

    def on_streams(self, session: SensorSession, infos: list[StreamInfo]) -> None:
        self.stream_starts += 1
        for info in infos:
            self.infos[(info.device, info.kind)] = info

    def on_update(self, info: StreamInfo, update: TimelineUpdate) -> None:
        key = (info.device, info.kind)
        self.blocks.setdefault(key, []).extend(update.blocks)
        self.gaps.setdefault(key, []).extend(update.gaps)

    def received(self, device: str, kind: Kind) -> int:
        return sum(b.n_samples for b in self.blocks.get((device, kind), []))


@dataclass
class SimRig:
    """A radio with sensors, an edge adapter and sessions; call :meth:`stream` to run them."""

    radio: VirtualRadio
    sensors: list[SimulatedDiySensor]
    adapter: BumbleAdapter
    backend: Backend
    sink: CollectingSink
    sessions: list[SensorSession]

    async def stream(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        """Run every session for ``seconds`` (or until ``until()`` holds), then stop them."""
        tasks = [asyncio.create_task(s.run()) for s in self.sessions]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            while loop.time() < deadline and not (until is not None and until()):
                await asyncio.sleep(0.05)
                for task in tasks:
                    if task.done():
                        task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def sensor(self, session: SensorSession) -> SimulatedDiySensor:
        return next(s for s in self.sensors if s.name == session.name)


async def start_rig(
    spec: FleetSpec,
    *,
    max_mtu: int = 247,
    policy: ReconnectPolicy | None = None,
    also: StreamSink | None = None,
) -> SimRig:
    """Start ``spec``'s simulated sensors on a virtual radio, and an edge session for each
    through bleak over Bumble (``also``: a second sink beside the collecting one)."""
    radio = VirtualRadio()
    sensors = await start_fleet(radio, spec)
    adapter = BumbleAdapter(radio=radio, max_mtu=max_mtu)
    classes = bumble_backend(adapter)
    backend = Backend(classes.scanner, classes.client)
    sink = CollectingSink()
    configs = [SensorConfig(s.name, s.site, s.driver) for s in sensors]
    sessions = make_sessions(configs, sink if also is None else Fanout(sink, also), backend)
    for session in sessions:
        session.scan_timeout_s = 3.0
        session.policy = policy or ReconnectPolicy(first_s=0.2, cap_s=1.0)
    return SimRig(radio, sensors, adapter, backend, sink, sessions)  # type: ignore[arg-type]


async def close_rigs(rigs: list[SimRig]) -> None:
    for rig in rigs:
        await rig.adapter.close()
        await close_fleet(rig.sensors)
        await asyncio.sleep(0.05)  # let Bumble finish in-flight HCI exchanges before the loop ends


@pytest.fixture
async def sim_rig() -> AsyncIterator[Callable[..., object]]:
    """Factory: ``await sim_rig(sites, faults=..., max_mtu=..., speed=...)`` -> SimRig."""
    made: list[SimRig] = []

    async def make(
        sites: tuple[str, ...] = ("left_calf",),
        *,
        faults: Faults | None = None,
        max_mtu: int = 247,
        speed: float = TEST_SPEED,
        preset: str = "rest",
        policy: ReconnectPolicy | None = None,
    ) -> SimRig:
        spec = FleetSpec(
            tuple(SimSensor(site) for site in sites),
            preset=preset,
            speed=speed,
            faults=faults or Faults(),
        )
        made.append(await start_rig(spec, max_mtu=max_mtu, policy=policy))
        return made[-1]

    yield make
    await close_rigs(made)


#: Notifications the firmware had handed to the radio when the link was cut: lost in the air.
IN_FLIGHT_FRAMES = 4


def check_stream_against_firmware(
    rig: SimRig, sensor: SimulatedDiySensor, stream_id: int, link_cut: bool = False
) -> dict[str, int]:
    """Assert the edge delivered exactly what the firmware sampled: no sample lost unreported,
    none invented, every value bit-exact, and gaps exactly where frames never arrived intact.

    ``link_cut``: the test tore the link down, so up to IN_FLIGHT_FRAMES frames the firmware sent
    just before may be lost with it; they must then open a reported gap.

    Returns counts for further assertions: received, gap, sent, dropped, corrupted samples.
    """
    state = sensor.firmware.streams[stream_id]
    spec = state.spec
    key = (sensor.name, spec.kind)
    blocks = sorted(rig.sink.blocks.get(key, []), key=lambda b: b.start)
    gaps = sorted(rig.sink.gaps.get(key, []), key=lambda g: g.start)
    assert blocks, f"{sensor.name} stream {stream_id}: nothing received"
    log = state.log
    sent = [entry for entry in log if entry[3] == "sent"]
    offset = sent[0][1]  # edge index 0 = firmware sample of the first frame that arrived
    stop = blocks[-1].stop
    # Blocks and gaps tile [0, stop) exactly: nothing missing, nothing twice.
    pieces = sorted(
        [(b.start, b.stop, "block") for b in blocks] + [(g.start, g.stop, "gap") for g in gaps]
    )
    position = 0
    for start, end, what in pieces:
        assert start == position, (
            f"{what} at {start}, expected {position}: samples lost or duplicated"
        )
        assert end > start
        position = end
    assert position == stop
    # Every delivered sample equals what the sensor sampled, bit for bit (int16 counts x scale).
    for block in blocks:
        expected = sensor.firmware.expected_counts(
            stream_id, block.start + offset, block.stop + offset
        )
        got = np.rint(block.data.T / np.float32(spec.scale)).astype(np.int64)
        np.testing.assert_array_equal(got, expected.astype(np.int64))
    # Gaps are exactly the samples the firmware never delivered intact (within what arrived).
    delivered = np.zeros(stop, dtype=bool)
    for _, first, n, outcome in log:
        lo, hi = first - offset, first - offset + n
        if outcome == "sent" and hi <= stop:
            delivered[max(lo, 0) : hi] = True
    in_gaps = np.zeros(stop, dtype=bool)
    in_flight_n = IN_FLIGHT_FRAMES * max(n for _, _, n, _ in log)
    for gap in gaps:
        in_gaps[gap.start : gap.stop] = True
        if link_cut:  # frames in flight at the cut, at the very start of a gap, went with it
            sent_at = delivered[gap.start : gap.stop]
            lead = sent_at.size if sent_at.all() else int(np.argmin(sent_at))
            if lead <= in_flight_n:
                delivered[gap.start : gap.start + lead] = False
    wrong = np.flatnonzero(in_gaps == delivered)
    assert len(wrong) == 0, (
        f"gaps disagree with the firmware at {len(wrong)} samples from {wrong[:1]}: "
        f"log near there {[(e[0], e[1] - offset, e[2], e[3]) for e in log if abs(e[1] - offset - wrong[0]) < 600]}, "
        f"gaps {gaps}; {[(s.health, {k: t.stats for k, t in s.timelines.items()}) for s in rig.sessions]}"
    )
    within = [e for e in log if e[1] - offset + e[2] <= stop]
    return {
        "received": int(delivered.sum()),
        "gap": int(in_gaps.sum()),
        "sent_frames": sum(1 for e in within if e[3] == "sent"),
        "dropped_frames": sum(1 for e in within if e[3] == "dropped"),
        "corrupted_frames": sum(1 for e in within if e[3] == "corrupted"),
    }
