"""bleak's own BlueZ backend, the one a person's Raspberry Pi uses, against BlueZoo (a mock of
BlueZ's D-Bus API) on a private D-Bus: scan, connect, read the Info, start the stream, receive
notifications, lose the link and reconnect, through ``twitchwatch edge run`` unchanged. Only
``DBUS_SYSTEM_BUS_ADDRESS`` differs from a real machine.

The sensor is an ordinary BlueZ peripheral program on a second mock adapter
(:mod:`support.bluez_sensor`), its bytes from the reference firmware. What BlueZoo cannot do
(manufacturer data, RSSI, MTU exchange, peripheral-side disconnects, radio loss) is listed in
:mod:`support.bluez` and stays covered by the Bumble tests (tests/test_ble_link.py).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edge.ble.reconnect import ReconnectPolicy
from edge.ble.session import Backend, SensorConfig, SensorSession
from edge.drivers.bitalino import protocol as bitalino_proto
from edge.drivers.diy import protocol as proto
from firmware_sim.bitalino import FS_HZ as BITALINO_FS_HZ
from firmware_sim.bitalino.firmware import BitalinoFirmware
from firmware_sim.diy import ACC_FS_HZ, EMG_FS_HZ
from firmware_sim.diy.firmware import DiyFirmware
from firmware_sim.physiology import SiteModel
from support.bluez import PERIPHERAL_ADDRESS, PrivateBluez, dbus_daemon_path, private_bluez
from support.bluez_bitalino import BluezBitalino
from support.bluez_sensor import BluezDiySensor
from support.services import services_required
from tests.ble_fixtures import CollectingSink, check_stream_against_firmware
from twitchwatch.contract import Kind

TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]
SERIAL = "SIM0001"  # advertised as TW-0001-l_calf


@pytest.fixture
async def bluez(tmp_path: Path) -> AsyncIterator[PrivateBluez]:
    if dbus_daemon_path() is None:
        reason = "needs dbus-daemon (Debian package dbus; .ci/run installs it)"
        if services_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    async with private_bluez(tmp_path) as running:
        yield running


@pytest.fixture
async def sensor(bluez: PrivateBluez) -> AsyncIterator[BluezDiySensor]:
    model = SiteModel(emg_fs_hz=EMG_FS_HZ, acc_fs_hz=ACC_FS_HZ)
    started = BluezDiySensor(DiyFirmware("left_calf", model, seed=16), SERIAL)
    await started.start(bluez)
    yield started
    await started.close()


async def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_edge_scan_lists_the_sensor_and_its_driver(
    bluez: PrivateBluez, sensor: BluezDiySensor
) -> None:
    scan = await asyncio.create_subprocess_exec(
        *TWITCHWATCH,
        "edge",
        "scan",
        "--timeout",
        "2",
        env=bluez.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(scan.communicate(), 30)
    assert scan.returncode == 0, err.decode()
    [row] = [line for line in out.decode().splitlines() if PERIPHERAL_ADDRESS in line]
    assert sensor.name in row and " diy " in row


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_edge_run_streams_loses_the_link_and_reconnects(
    bluez: PrivateBluez, sensor: BluezDiySensor, tmp_path: Path
) -> None:
    config = tmp_path / "edge.toml"  # what a person writes: no backend, this computer's Bluetooth
    config.write_text('[[sensor]]\nname = "TW-0001"\nsite = "left_calf"\n')
    run = await asyncio.create_subprocess_exec(
        *TWITCHWATCH,
        "edge",
        "run",
        "--config",
        str(config),
        "--seconds",
        "60",
        "--view",
        "log",
        env=bluez.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await _wait_for(lambda: sensor.log.frames_notified > 60, 15, "the first frames")
        await bluez.cut_link()  # as walking out of range would
        await _wait_for(lambda: sensor.log.connections == 2, 15, "the reconnect")
        notified_before = sensor.log.frames_notified
        await _wait_for(lambda: sensor.log.frames_notified > notified_before + 60, 10, "frames")
        run.send_signal(signal.SIGTERM)  # ends the run as --seconds does: STOP, final summary
        out = (await asyncio.wait_for(run.communicate(), 30))[0].decode()
    finally:
        if run.returncode is None:
            run.kill()
            await run.wait()
    assert run.returncode == 0, out
    assert "TW-0001 (left_calf): connected (diy, battery 100%)" in out
    assert "TW-0001 (left_calf): link lost; reconnecting" in out
    assert "TW-0001 (left_calf): reconnected (diy, battery 100%)" in out
    assert "final: 1 of 1 sensors streamed" in out
    # On each connection the host read the Info, set the time and started both streams; at
    # the end of the run it stopped them.
    assert sensor.log.info_reads == 2
    opcodes = [request[0] for request in sensor.log.requests]
    start, set_time, stop = proto.Opcode.START, proto.Opcode.SET_TIME, proto.Opcode.STOP
    assert opcodes == [set_time, start, set_time, start, stop]
    assert sensor.log.requests[1] == bytes((start, sensor.log.requests[1][1], 0x03))


@dataclass
class _Rig:
    """What :func:`check_stream_against_firmware` reads: the sink and the sessions."""

    sink: CollectingSink
    sessions: list[SensorSession]


# bleak on BlueZ knows the ATT MTU only after AcquireNotify/_acquire_mtu(); the session reads
# client.mtu_size for its watchdog and gets the default 23, with this warning (hardware/README §2.9).
@pytest.mark.slow  # real time: seconds of streaming or waiting
@pytest.mark.filterwarnings("ignore:Using default MTU value:UserWarning")
async def test_every_sample_arrives_bit_exact_and_the_cut_is_an_exact_gap(
    bluez: PrivateBluez, sensor: BluezDiySensor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same checks as the Bumble link tests, through bleak's BlueZ backend: each delivered
    sample equals what the firmware sampled, and the samples lost with the link are a gap."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bluez.address)
    sink = CollectingSink()
    session = SensorSession(
        SensorConfig("TW-0001", "left_calf"),
        sink,
        Backend(),  # bleak's platform backend: BlueZ over D-Bus
        policy=ReconnectPolicy(first_s=0.2, cap_s=0.4),
        scan_timeout_s=5.0,
    )
    task = asyncio.create_task(session.run())
    name = session.name
    try:
        await _wait_for(lambda: sink.received(name, Kind.EMG) > 4000, 15, "2 s of EMG")
        await bluez.cut_link()
        await _wait_for(lambda: session.health.connects >= 2, 15, "the reconnect")
        received = sink.received(name, Kind.EMG)
        await _wait_for(lambda: sink.received(name, Kind.EMG) > received + 4000, 15, "more EMG")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert session.health.link_losses == 1 and session.health.frames_rejected == 0
    rig = _Rig(sink, [session])
    checked = _SensorView(sensor)
    for stream_id in (0, 1):
        counts = check_stream_against_firmware(rig, checked, stream_id, link_cut=True)
        assert counts["gap"] > 0  # the time off the link is reported, not hidden
        assert session.timelines[stream_id].stats.frames_lost == 0  # none lost while linked


@dataclass
class _SensorView:
    """The sensor as :func:`check_stream_against_firmware` names it: the edge's config name."""

    sensor: BluezDiySensor

    @property
    def firmware(self) -> DiyFirmware:
        return self.sensor.firmware

    @property
    def name(self) -> str:
        return "TW-0001"


# --- BITalino: the same stack, the board's byte stream in notifications of <= 20 bytes ----------

BITALINO_NAME = "BITalino-7A-11"


@pytest.fixture
async def bitalino(bluez: PrivateBluez) -> AsyncIterator[BluezBitalino]:
    model = SiteModel(emg_fs_hz=BITALINO_FS_HZ, acc_fs_hz=BITALINO_FS_HZ)
    board = BluezBitalino(BitalinoFirmware("right_forearm", model, seed=16), BITALINO_NAME)
    await board.start(bluez)
    yield board
    await board.close()


async def test_edge_scan_lists_a_bitalino_with_a_config_block(
    bluez: PrivateBluez, bitalino: BluezBitalino
) -> None:
    scan = await asyncio.create_subprocess_exec(
        *TWITCHWATCH,
        "edge",
        "scan",
        "--timeout",
        "2",
        env=bluez.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(scan.communicate(), 30)
    assert scan.returncode == 0, err.decode()
    text = out.decode()
    [row] = [line for line in text.splitlines() if PERIPHERAL_ADDRESS in line]
    assert BITALINO_NAME in row and " bitalino " in row
    assert f'name = "{BITALINO_NAME}"\nsite = ' in text and 'driver = "bitalino"' in text


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_edge_run_streams_a_bitalino_loses_the_link_and_reconnects(
    bluez: PrivateBluez, bitalino: BluezBitalino, tmp_path: Path
) -> None:
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[[sensor]]\nname = "{BITALINO_NAME}"\nsite = "right_forearm"\ndriver = "bitalino"\n'
    )
    run = await asyncio.create_subprocess_exec(
        *TWITCHWATCH,
        "edge",
        "run",
        "--config",
        str(config),
        "--seconds",
        "60",
        "--view",
        "log",
        env=bluez.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await _wait_for(lambda: bitalino.log.notifications > 200, 15, "the first frames")
        await bluez.cut_link()
        await _wait_for(lambda: bitalino.log.connections == 2, 15, "the reconnect")
        before = bitalino.log.notifications
        await _wait_for(lambda: bitalino.log.notifications > before + 200, 10, "frames")
        run.send_signal(signal.SIGTERM)
        out = (await asyncio.wait_for(run.communicate(), 30))[0].decode()
    finally:
        if run.returncode is None:
            run.kill()
            await run.wait()
    assert run.returncode == 0, out
    who = f"{BITALINO_NAME} (right_forearm)"
    assert f"{who}: connected (bitalino)" in out
    assert f"{who}: link lost; reconnecting" in out
    assert f"{who}: reconnected (bitalino)" in out
    assert "final: 1 of 1 sensors streamed" in out
    # Each connection set 1 kHz and started A1 + A5; the run's end stopped acquisition.
    rate, start = bytes([bitalino_proto.Rate.HZ_1000]), bytes([bitalino_proto.start_live((1, 5))])
    assert bitalino.log.commands == [rate, start, rate, start, bytes([bitalino_proto.STOP])]
    assert bitalino.log.largest_notification <= bitalino_proto.MAX_NOTIFICATION_BYTES


@pytest.mark.slow  # real time: seconds of streaming or waiting
@pytest.mark.filterwarnings("ignore:Using default MTU value:UserWarning")
async def test_bitalino_samples_arrive_bit_exact_through_bluez(
    bluez: PrivateBluez, bitalino: BluezBitalino, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bluez.address)
    sink = CollectingSink()
    session = SensorSession(
        SensorConfig(BITALINO_NAME, "right_forearm", "bitalino"),
        sink,
        Backend(),
        policy=ReconnectPolicy(first_s=0.2, cap_s=0.4),
        scan_timeout_s=5.0,
    )
    task = asyncio.create_task(session.run())
    try:
        await _wait_for(lambda: sink.received(BITALINO_NAME, Kind.EMG) > 3000, 20, "3 s of EMG")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert session.health.frames_rejected == 0 and session.timelines[0].stats.frames_lost == 0
    for kind, convert, row in (
        (Kind.EMG, bitalino_proto.emg_uv, 0),
        (Kind.ACC, bitalino_proto.acc_g, 1),
    ):
        blocks = sorted(sink.blocks[BITALINO_NAME, kind], key=lambda b: b.start)
        assert sink.gaps.get((BITALINO_NAME, kind), []) == []
        got = np.concatenate([b.data[0] for b in blocks])
        first = int(bitalino.firmware.log.delivered()[0])
        expected = bitalino.firmware.adc(first, first + len(got))[row]
        np.testing.assert_array_equal(got, convert(expected))
