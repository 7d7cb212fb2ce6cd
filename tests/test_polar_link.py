"""Simulated Polar sensors over a real Bumble link, read by the polar_pmd driver through real bleak."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from edge.ble.session import StreamSink
from edge.detection import Detection
from edge.drivers import DriverError
from edge.drivers.polar_pmd import DRIVER as POLAR_PMD
from edge.drivers.polar_pmd import protocol as pmd
from edge.drivers.polar_pmd.driver import PolarDriver
from edge.totals import Totals
from firmware_sim.fleet import FleetSpec, SimSensor
from firmware_sim.physiology import TruthKind
from firmware_sim.polar_pmd import PolarOptions
from firmware_sim.polar_pmd.firmware import PolarFaults
from firmware_sim.polar_pmd.peripheral import SimulatedPolarSensor
from tests.ble_fixtures import TEST_SPEED, SimRig, close_rigs, start_rig
from twitchwatch.contract import Kind, Reason

VERITY_AND_H10 = (("right_forearm", "verity"), ("left_calf", "h10"))


@pytest.fixture
async def polar_rig() -> AsyncIterator[Callable[..., object]]:
    """Factory: ``await polar_rig(((site, personality), ...), faults=..., speed=..., ...)``."""
    made: list[SimRig] = []

    async def make(
        sensors: tuple[tuple[str, str], ...] = (("right_forearm", "verity"),),
        *,
        faults: PolarFaults | None = None,
        speed: float = TEST_SPEED,
        preset: str = "rest",
        seed: int = 1,
        also: StreamSink | None = None,
    ) -> SimRig:
        spec = FleetSpec(
            tuple(
                SimSensor(site, POLAR_PMD.name, PolarOptions(personality, faults))
                for site, personality in sensors
            ),
            seed=seed,
            preset=preset,
            speed=speed,
        )
        made.append(await start_rig(spec, also=also))
        return made[-1]

    yield make
    await close_rigs(made)


def check_polar_stream(
    rig: SimRig, sensor: SimulatedPolarSensor, link_cut: bool = False
) -> dict[str, int]:
    """Assert the edge delivered exactly what the simulated Polar sampled: blocks and gaps tile
    the stream, every value is bit-exact, and gaps are exactly the frames that never arrived
    (``link_cut``: frames in flight when the test cut the link may be lost without a log entry).
    """
    stream = sensor.firmware.stream
    assert stream is not None
    key = (sensor.name, Kind.ACC)
    blocks = sorted(rig.sink.blocks.get(key, []), key=lambda b: b.start)
    gaps = sorted(rig.sink.gaps.get(key, []), key=lambda g: g.start)
    assert blocks, f"{sensor.name}: nothing received"
    offset = next(first for first, _, outcome in stream.log if outcome == "sent")
    stop = blocks[-1].stop
    position = 0
    for start, end in sorted(
        [(b.start, b.stop) for b in blocks] + [(g.start, g.stop) for g in gaps]
    ):
        assert start == position, f"samples lost or duplicated at {start}, expected {position}"
        position = end
    scale = np.float32(stream.g_per_count)  # what the driver took from the start response
    for block in blocks:
        expected = sensor.firmware.expected_counts(block.start + offset, block.stop + offset)
        got = np.rint(block.data.T / scale).astype(np.int64)
        np.testing.assert_array_equal(got, expected.astype(np.int64))
    in_gaps = np.zeros(stop, dtype=bool)
    for gap in gaps:
        in_gaps[gap.start : gap.stop] = True
    delivered = np.zeros(stop, dtype=bool)
    for first, n, outcome in stream.log:
        if outcome == "sent" and first - offset + n <= stop:
            delivered[max(first - offset, 0) : first - offset + n] = True
    if not link_cut:
        wrong = np.flatnonzero(in_gaps == delivered)
        assert len(wrong) == 0, f"gaps {gaps} disagree with the firmware log at {wrong[:3]}"
    within = [e for e in stream.log if e[0] - offset + e[1] <= stop]
    return {
        "received": int((~in_gaps).sum()),
        "gap": int(in_gaps.sum()),
        "dropped_frames": sum(1 for e in within if e[2] == "dropped"),
    }


async def test_scan_finds_polar_sensors_by_name(polar_rig) -> None:
    rig = await polar_rig(VERITY_AND_H10)
    wanted = {s.name for s in rig.sensors}
    seen: dict[str, AdvertisementData] = {}
    both = asyncio.Event()

    def on_advert(device: BLEDevice, adv: AdvertisementData) -> None:
        if POLAR_PMD.recognises(adv.local_name, adv.service_uuids, adv.manufacturer_data):
            seen[adv.local_name or device.address] = adv
            if wanted <= set(seen):
                both.set()

    async with BleakScanner(on_advert, backend=rig.backend.scanner):
        async with asyncio.timeout(5.0):
            await both.wait()
    assert set(seen) == wanted
    assert {n.rsplit(" ", 1)[0] for n in seen} == {"Polar Sense", "Polar H10"}
    assert all(len(n.rsplit(" ", 1)[1]) == 8 for n in seen)


async def test_verity_and_h10_stream_at_their_rates_without_gaps(polar_rig) -> None:
    rig = await polar_rig(VERITY_AND_H10)
    # Connects are serialised (one adapter), about 2 s each on the virtual radio.
    await rig.stream(
        9.0, until=lambda: all(rig.sink.received(s.name, Kind.ACC) > 1000 for s in rig.sensors)
    )
    for sensor, session, fs in zip(rig.sensors, rig.sessions, (208.0, 200.0), strict=True):
        counts = check_polar_stream(rig, sensor)
        # Over 1000 samples: seconds of sensor time (its clock runs TEST_SPEED x ours).
        assert counts["received"] > 1000 and counts["gap"] == 0
        assert counts["dropped_frames"] == 0
        timeline = session.timelines[0]
        assert timeline.info.fs == fs and rig.sink.infos[(sensor.name, Kind.ACC)].fs == fs
        assert timeline.stats.samples_lost == 0 and timeline.stats.gaps == 0
        assert timeline.stats.frames_rejected == session.health.frames_rejected == 0
        assert session.health.battery_pct == 100
        # The rate holds on the host side too: sensor seconds run TEST_SPEED x host seconds.
        fitted = timeline.clock.fit()
        assert fitted is not None and fitted[1] == pytest.approx(1 / TEST_SPEED, rel=0.05)
        # Frames fill the MTU: raw int16 at MTU 247 holds 39 samples, compressed ones more.
        sizes = {n for _, n, _ in sensor.firmware.stream.log}
        if sensor.firmware.personality.key == "h10":
            assert max(sizes) == 39
        else:
            assert min(sizes) > 39


async def test_a_dropped_frame_is_one_gap_of_that_frames_samples(polar_rig) -> None:
    rig = await polar_rig()  # a Verity: its compressed frames vary in length

    async def drop_one_frame_each_once_streaming() -> None:
        for sensor in rig.sensors:
            while rig.sink.received(sensor.name, Kind.ACC) < 300:
                await asyncio.sleep(0.02)
            sensor.drop_next_frames(1)

    dropper = asyncio.create_task(drop_one_frame_each_once_streaming())
    await rig.stream(
        8.0,
        until=lambda: (
            dropper.done() and all(rig.sink.received(s.name, Kind.ACC) > 900 for s in rig.sensors)
        ),
    )
    await dropper
    for sensor, session in zip(rig.sensors, rig.sessions, strict=True):
        counts = check_polar_stream(rig, sensor)
        dropped = [n for _, n, outcome in sensor.firmware.stream.log if outcome == "dropped"]
        gaps = rig.sink.gaps[(sensor.name, Kind.ACC)]
        assert len(dropped) == 1 and len(gaps) == 1 and gaps[0].n_samples == dropped[0]
        assert counts["gap"] == dropped[0] and session.timelines[0].stats.samples_lost == dropped[0]


async def test_a_refused_start_is_a_one_line_driver_error(polar_rig) -> None:
    rig = await polar_rig(faults=PolarFaults(refuse_start=pmd.Status.ERROR_INVALID_STATE))
    sensor = rig.sensors[0]
    device = await BleakScanner.find_device_by_name(
        sensor.name, timeout=3.0, backend=rig.backend.scanner
    )
    assert device is not None
    async with BleakClient(device, backend=rig.backend.client) as client:
        with pytest.raises(DriverError) as info:
            await PolarDriver(sensor.name).start(client)
    assert str(info.value) == (
        f"{sensor.name}: ACC REQUEST_MEASUREMENT_START refused: ERROR_INVALID_STATE"
    )
    assert not sensor.firmware.streaming


async def test_h10_left_streaming_by_a_lost_link_is_restarted_on_reconnect(polar_rig) -> None:
    rig = await polar_rig((("chest", "h10"),))
    session, sensor = rig.sessions[0], rig.sensors[0]

    async def drop_link_once_streaming() -> None:
        while rig.sink.received(sensor.name, Kind.ACC) < 300:
            await asyncio.sleep(0.02)
        await sensor.disconnect()

    dropper = asyncio.create_task(drop_link_once_streaming())
    await rig.stream(
        6.0,
        until=lambda: (
            session.health.connects >= 2 and rig.sink.received(sensor.name, Kind.ACC) > 800
        ),
    )
    await dropper
    # The H10 kept streaming without a link (KnownIssues H10 #2); the driver stopped and
    # restarted it instead of failing on ERROR_ALREADY_IN_STATE.
    assert session.health.connects >= 2 and session.health.last_error is None
    counts = check_polar_stream(rig, sensor, link_cut=True)
    assert counts["gap"] > 0 and session.timelines[0].stats.gaps >= 1
    assert session.timelines[0].stats.frames_rejected == 0


async def test_an_acc_only_site_excludes_motion_and_reports_rest(polar_rig) -> None:
    # Seed 3 of the "busy" preset moves the forearm 33.5-38.3 s after power-on (sensor time).
    # At 8x, streaming starts around 16 s (about 2 s of scan + connect); it runs until 42 s.
    live = Detection(site_totals := Totals())
    rig = await polar_rig(preset="busy", seed=3, speed=8.0, also=live)
    sensor = rig.sensors[0]

    def sensor_s() -> float:
        stream = sensor.firmware.stream
        return 0.0 if stream is None else stream.next_sample / stream.fs

    await rig.stream(10.0, until=lambda: sensor_s() > 42.0)
    live.close()
    check_polar_stream(rig, sensor)
    (totals,) = site_totals.sites()
    assert totals.site == "right_forearm" and live.blocks_refused(sensor.name) == 0
    stream = sensor.firmware.stream
    assert stream is not None
    first = next(f for f, _, outcome in stream.log if outcome == "sent") / stream.fs
    last = (stream.log[-1][0] + stream.log[-1][1]) / stream.fs
    truth = sensor.firmware.generator(stream.fs)[0].events(first, last)
    motion_s = sum(e.end_s - e.start_s for e in truth if e.kind is TruthKind.MOTION)
    twitches = sum(1 for e in truth if e.kind is TruthKind.TWITCH)
    print(
        f"ACC-only right_forearm, {last - first:.1f} s from {first:.1f} s: {totals.twitches} "
        f"twitches counted, {twitches} generated; motion excluded "
        f"{totals.excluded_s[Reason.MOTION]:.1f} s (truth {motion_s:.1f} s); "
        f"rest {totals.rest_s:.1f} s"
    )
    assert motion_s > 4.0, f"streaming began too late ({first:.1f} s) to see the movement"
    assert totals.excluded_s[Reason.MOTION] >= 0.7 * motion_s
    assert totals.rest_s >= 0.5 * (last - first - motion_s)
    # A single unit's twitch is 1-3 mg against ~1 mg of MEMS noise: few are visible, and the
    # detector must not invent them.
    assert totals.twitches <= twitches
