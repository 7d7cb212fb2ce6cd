"""A simulated BITalino over a real Bumble link, read by the bitalino driver through real bleak:
bit-exact samples, and gaps exactly where the board's frames never arrived intact."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest
from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from edge.detect import DetectorConfig, SiteDetector
from edge.detect.claims import EVIDENCE_BRIDGED, EVIDENCE_END, EVIDENCE_START
from edge.drivers.bitalino import DRIVER as BITALINO
from edge.drivers.bitalino import protocol as proto
from edge.drivers.registry import recognising
from firmware_sim.bitalino import BitalinoFaults, SimulatedBitalino
from firmware_sim.bitalino.firmware import FrameLog
from firmware_sim.fleet import FleetSpec, SimSensor
from tests.ble_fixtures import SimRig, close_rigs, start_rig
from twitchwatch.contract import Kind, Reason

#: The board's clock in real time: at 1 kHz its bridge has room for twice the data, not four times.
SPEED = 1.0


@pytest.fixture
async def bitalino_rig() -> AsyncIterator[Callable[..., object]]:
    """Factory: ``await bitalino_rig(sites, faults=...)`` -> SimRig with BITalino sensors."""
    made: list[SimRig] = []

    async def make(
        sites: tuple[str, ...] = ("right_forearm",), *, faults: BitalinoFaults | None = None
    ) -> SimRig:
        spec = FleetSpec(
            tuple(SimSensor(site, BITALINO.name, faults) for site in sites), speed=SPEED
        )
        made.append(await start_rig(spec))
        return made[-1]

    yield make
    await close_rigs(made)


def edge_samples(rig: SimRig, name: str, kind: Kind) -> tuple[np.ndarray, np.ndarray, list]:
    """Indices and values the edge delivered for one stream, and its gaps; blocks and gaps must
    tile the stream from 0 without overlap."""
    blocks = sorted(rig.sink.blocks.get((name, kind), []), key=lambda b: b.start)
    gaps = sorted(rig.sink.gaps.get((name, kind), []), key=lambda g: g.start)
    position = 0
    for start, stop in sorted(
        [(b.start, b.stop) for b in blocks] + [(g.start, g.stop) for g in gaps]
    ):
        assert start == position, f"samples lost or duplicated at {start}, expected {position}"
        position = stop
    index = np.concatenate([np.arange(b.start, b.stop) for b in blocks])
    values = np.concatenate([b.data[0] for b in blocks])
    return index, values, gaps


def check_acquisition(
    sensor: SimulatedBitalino, log: FrameLog, index: np.ndarray, values: dict[Kind, np.ndarray]
) -> np.ndarray:
    """The samples of one acquisition equal what the board sampled, bit for bit, and exactly
    the frames it delivered intact arrived (between the first and the last that did)."""
    delivered = log.delivered()
    offset = int(delivered[0]) - int(index[0])  # edge index 0 of this acquisition = its first frame
    count = index + offset
    assert np.all(np.isin(count, delivered)), "a sample the board never delivered intact"
    expected_present = delivered[delivered <= count[-1]]
    # A good frame between two damaged ones cannot be trusted (nothing confirms it): it is
    # lost with them, inside their gap, and counted (hardware/README §7.5).
    missing = np.setdiff1d(expected_present, count)
    lost = log.all_lost()
    squeezed = np.isin(missing - 1, lost) & np.isin(missing + 1, lost)
    assert squeezed.all(), f"delivered frames {missing[~squeezed]} never reached the edge"
    adc = sensor.firmware.adc(0, int(count[-1]) + 1)[:, count]
    np.testing.assert_array_equal(values[Kind.EMG], proto.emg_uv(adc[0]))
    np.testing.assert_array_equal(values[Kind.ACC], proto.acc_g(adc[1]))
    return count


async def test_scan_recognises_a_bitalino(bitalino_rig) -> None:
    rig = await bitalino_rig()
    found = asyncio.Event()
    seen: list[AdvertisementData] = []

    def on_advert(device: BLEDevice, adv: AdvertisementData) -> None:
        if BITALINO.recognises(adv.local_name, adv.service_uuids, adv.manufacturer_data):
            seen.append(adv)
            found.set()

    async with BleakScanner(on_advert, backend=rig.backend.scanner):
        async with asyncio.timeout(5.0):
            await found.wait()
    assert seen[0].local_name == rig.sensors[0].name == "BITalino-00-01"
    assert [d.name for d in recognising(seen[0].local_name, [], {})] == ["bitalino"]


async def test_bit_exact_emg_and_acc_at_1khz_without_gaps(bitalino_rig) -> None:
    rig = await bitalino_rig()
    session, sensor = rig.sessions[0], rig.sensors[0]
    await rig.stream(8.0, until=lambda: rig.sink.received(sensor.name, Kind.EMG) > 2500)
    emg_index, emg, emg_gaps = edge_samples(rig, sensor.name, Kind.EMG)
    acc_index, acc, acc_gaps = edge_samples(rig, sensor.name, Kind.ACC)
    np.testing.assert_array_equal(emg_index, acc_index)
    assert emg_gaps == acc_gaps == []
    assert len(sensor.firmware.logs) == 1 and sensor.firmware.log.all_lost().size == 0
    count = check_acquisition(
        sensor, sensor.firmware.log, emg_index, {Kind.EMG: emg, Kind.ACC: acc}
    )
    assert len(count) > 2500
    stats = session.timelines[0].stats
    assert stats.frames_lost == 0 and session.health.frames_rejected == 0
    assert rig.sink.infos[sensor.name, Kind.ACC].channels == ("x",)
    assert rig.sink.infos[sensor.name, Kind.EMG].fs == 1000.0


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_skipped_corrupted_and_torn_frames_become_exact_gaps(bitalino_rig) -> None:
    faults = BitalinoFaults(skip_prob=0.003, corrupt_prob=0.003, lose_bytes_prob=0.01)
    rig = await bitalino_rig(faults=faults)
    session, sensor = rig.sessions[0], rig.sensors[0]
    await rig.stream(10.0, until=lambda: rig.sink.received(sensor.name, Kind.EMG) > 4000)
    index, emg, gaps = edge_samples(rig, sensor.name, Kind.EMG)
    _, acc, acc_gaps = edge_samples(rig, sensor.name, Kind.ACC)
    assert gaps == acc_gaps and len(gaps) > 3
    log = sensor.firmware.log
    count = check_acquisition(sensor, log, index, {Kind.EMG: emg, Kind.ACC: acc})
    lost = np.union1d(log.all_lost(), np.setdiff1d(log.delivered(), count))
    lost = lost[(lost > count[0]) & (lost < count[-1])]
    in_gaps = np.concatenate([np.arange(g.start, g.stop) for g in gaps])
    np.testing.assert_array_equal(np.sort(in_gaps + (count[0] - index[0])), lost)
    assert session.timelines[0].stats.frames_lost == len(lost)
    assert session.health.frames_rejected > 0  # CRC failures and re-syncs are reported

    # Each hole costs the detector only itself: the filters go on across it (restarting them
    # would lose the time they take to settle, at every one of these holes).
    gap = gap_pieces(rig, sensor.name, "right_forearm")
    assert set(gap) <= {EVIDENCE_START, EVIDENCE_BRIDGED, EVIDENCE_END}, set(gap)
    lost_s = sum(g.stop - g.start for g in gaps) / 1000.0
    # All bridged, less any inside the start's settling (it claims them first).
    assert lost_s - DetectorConfig().warmup_s <= gap[EVIDENCE_BRIDGED] <= lost_s + 1e-9


def gap_pieces(rig: SimRig, name: str, site: str) -> dict[str, float]:
    """Seconds the detector could not observe in what the edge delivered from one sensor, by
    the evidence it gives."""
    detector = SiteDetector(site, emg_fs=1000.0, acc_fs=1000.0)
    for kind in (Kind.EMG, Kind.ACC):
        for block in sorted(rig.sink.blocks[name, kind], key=lambda b: b.start):
            detector.feed(kind, block.start, block.data)
    seconds: dict[str, float] = {}
    for piece in detector.finish().excluded:
        if piece.reason is Reason.GAP:
            seconds[piece.evidence] = seconds.get(piece.evidence, 0.0) + piece.end_s - piece.start_s
    return seconds


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_a_lost_link_restarts_acquisition_on_reconnect(bitalino_rig) -> None:
    rig = await bitalino_rig()
    session, sensor = rig.sessions[0], rig.sensors[0]

    async def drop_link_once_streaming() -> None:
        while rig.sink.received(sensor.name, Kind.EMG) < 1000:
            await asyncio.sleep(0.02)
        await sensor.disconnect()

    dropper = asyncio.create_task(drop_link_once_streaming())
    await rig.stream(
        10.0,
        until=lambda: (
            session.health.connects >= 2 and rig.sink.received(sensor.name, Kind.EMG) > 2500
        ),
    )
    await dropper
    assert session.health.connects >= 2 and len(sensor.firmware.logs) >= 2
    index, emg, gaps = edge_samples(rig, sensor.name, Kind.EMG)
    _, acc, _ = edge_samples(rig, sensor.name, Kind.ACC)
    assert len(gaps) == 1  # the time without a link, estimated from the host clock
    second = index >= gaps[0].stop
    first = ~second
    # Frames in flight when the link went are lost with it; what arrived is exact.
    first_log = sensor.firmware.logs[0]
    count = index[first] + int(first_log.delivered()[0])
    np.testing.assert_array_equal(count, first_log.delivered()[: len(count)])
    check_acquisition(
        sensor,
        sensor.firmware.logs[1],
        index[second],
        {Kind.EMG: emg[second], Kind.ACC: acc[second]},
    )
    assert session.timelines[0].stats.resyncs >= 2
