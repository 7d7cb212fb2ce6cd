"""The edge's wall clock: no windows while it is not set (a Raspberry Pi boots in 1970) or while
it is far from the server's time, and once it is right, what was detected meanwhile lands in the
right windows.

The agent streams a simulated sensor over the real Bumble/bleak link; only the wall clock is a
fake (monotonic time is real), because a test cannot step the machine's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.agent import Agent, AgentTuning
from edge.ble.reconnect import ReconnectPolicy
from edge.ble.session import Backend, SensorConfig
from edge.config import MqttConfig
from edge.outbox import Outbox
from edge.publisher import EdgePublisher
from edge.views import take_snapshot
from edge.wall_clock import RELEASED_UTC, ClockGuard, format_offset
from edge.windows import WindowBuilder
from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend
from firmware_sim.fleet import FleetSpec, SimSensor, close_fleet, start_fleet
from firmware_sim.radio import VirtualRadio
from server.service import Server
from server.service_options import ServerOptions
from support.services import MosquittoBroker, free_port
from tests.test_server import client, running
from twitchwatch.contract import SERVER_STATUS_TOPIC, DeviceState, ServerStatus
from twitchwatch.mqtt_link import BrokerUrl

BOOT = datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC)


class SteppedClock:
    """Real monotonic time; a wall clock that reads ``base`` plus the time since, until stepped.
    :meth:`skip` lets time pass at once, on both clocks."""

    def __init__(self, base: datetime) -> None:
        self.skipped_s = 0.0
        self.base, self.mono0 = base, self.monotonic()

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped_s

    def skip(self, passed: timedelta) -> None:
        self.skipped_s += passed.total_seconds()

    def utc(self) -> datetime:
        return self.base + timedelta(seconds=self.monotonic() - self.mono0)

    def step_to(self, t: datetime) -> None:
        self.base, self.mono0 = t, self.monotonic()


def test_the_guard_says_when_the_clock_is_set_and_how_far_it_stepped(caplog) -> None:
    clock = SteppedClock(BOOT)
    guard = ClockGuard(clock)
    with caplog.at_level(logging.INFO, logger="edge.run"):
        assert guard.poll() is None and not guard.set
        assert guard.problem is not None and guard.problem.startswith(
            f"the clock says 1970-01-01 00:00 UTC, before this TwitchWatch was released "
            f"({RELEASED_UTC:%Y-%m-%d}): no windows are sent until it is set"
        )
        assert guard.poll() is None  # said once
        now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
        clock.step_to(now)
        step = guard.poll()
        assert guard.set and guard.problem is None
        assert step is not None and abs(step - (now - BOOT)) < timedelta(seconds=1)
        assert guard.poll() is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and lines[1].startswith("the clock is set (now 2026-12-06 12:00 UTC")


def test_a_rebase_moves_starts_stamped_by_the_wrong_clock_and_the_next_window() -> None:
    clock = SteppedClock(BOOT)
    builder = WindowBuilder(["left_calf", "right_calf"], 60.0, now=clock.utc)
    builder.start("left_calf", BOOT + timedelta(seconds=3))
    right_t0 = datetime(2026, 12, 6, 11, 58, 30, tzinfo=UTC)  # a sensor's own, correct clock
    builder.start("right_calf", right_t0)
    step = datetime(2026, 12, 6, 12, 0, tzinfo=UTC) - BOOT
    builder.rebase(step, RELEASED_UTC)
    assert builder._sites["left_calf"].t0_utc == BOOT + timedelta(seconds=3) + step
    assert builder._sites["right_calf"].t0_utc == right_t0  # not stamped by the wrong clock
    assert builder.next_start_utc == datetime(2026, 12, 6, 11, 58, tzinfo=UTC)


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    radio = VirtualRadio()
    sensors = await start_fleet(radio, FleetSpec((SimSensor("left_calf"),)))
    adapter = BumbleAdapter(radio=radio)
    classes = bumble_backend(adapter)
    yield Backend(classes.scanner, classes.client)
    await adapter.close()
    await close_fleet(sensors)
    await asyncio.sleep(0.05)


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_no_windows_while_the_clock_is_unset_then_they_resume(
    backend: Backend, tmp_path: Path
) -> None:
    clock = SteppedClock(BOOT)
    outbox = tmp_path / "outbox.db"
    # No broker answers: windows wait in the outbox, which is what this test reads.
    mqtt = MqttConfig(
        BrokerUrl.parse(f"mqtt://127.0.0.1:{free_port()}"), "alice", "pi", window_s=1.0,
        outbox=outbox,
    )  # fmt: skip
    tuning = AgentTuning(
        scan_timeout_s=2.0, policy=ReconnectPolicy(first_s=0.2, cap_s=0.4), tick_s=0.2,
        clock=clock,
    )  # fmt: skip
    agent = await Agent.start(
        [SensorConfig("TW-0001", "left_calf")], backend, mqtt=mqtt, tuning=tuning
    )
    set_at: list[datetime] = []

    async def network_time_arrives() -> None:
        # 8 s: detection decides a discharge whose unit fires again within 1.2 s only 3 s
        # later (is it a tonic train?), and the first rest must be judged before the check.
        await asyncio.sleep(8.0)
        snapshot = take_snapshot(agent, 8.0)
        assert snapshot.sensors[0].streaming and snapshot.sensors[0].rest_s > 0  # detecting
        assert snapshot.clock is not None and "no windows are sent" in snapshot.clock
        assert agent.uplink is not None and len(agent.uplink.publisher.outbox) == 0
        set_at.append(datetime.now(UTC))
        clock.step_to(set_at[0])

    try:
        stepper = asyncio.create_task(network_time_arrives())
        await agent.run(seconds=14.0)
        await stepper  # its assertions
        assert take_snapshot(agent, 14.0).clock is None
    finally:
        await agent.close()
    with Outbox(outbox, "alice", "pi") as stored:
        windows = stored.pending()
    assert windows, "no window after the clock was set"
    starts = [w.start for w in windows]
    assert all(s >= RELEASED_UTC for s in starts)  # nothing stamped 1970
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # The seconds streamed before the clock was set are windowed too, where they belong.
    assert starts[0] < set_at[0] - timedelta(seconds=4)
    assert sum(w.sites["left_calf"].rest_s for w in windows) > 6.0


def test_offsets_read_as_a_person_says_them() -> None:
    assert format_offset(timedelta(hours=2, minutes=3, seconds=40)) == "2 h 03 min"
    assert format_offset(-timedelta(minutes=7)) == "7 min"
    assert format_offset(timedelta(days=3, hours=4, minutes=5)) == "3 d 4 h"


def test_a_clock_far_from_the_servers_holds_windows_until_a_fresh_status_agrees(caplog) -> None:
    real = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    clock = SteppedClock(real + timedelta(hours=2, minutes=3))
    guard = ClockGuard(clock)
    with caplog.at_level(logging.INFO, logger="edge.run"):
        assert guard.poll() is None and guard.set
        guard.server_time(clock.utc() - timedelta(minutes=4))  # within the tolerance: all well
        assert guard.poll() is None and guard.set
        guard.server_time(real)
        assert guard.set  # the verdict takes effect at the agent's next tick
        assert guard.poll() is None and not guard.set
        assert guard.problem == (
            "this device's clock is 2 h 03 min ahead of the server's: windows wait until it is "
            "right (is NTP running? timedatectl); detection goes on"
        )
        guard.server_time(real + timedelta(seconds=30))  # still wrong: said once
        assert guard.poll() is None and not guard.set
        clock.step_to(real + timedelta(seconds=40))  # NTP fixes it: the skew moved with it
        step = guard.poll()
        assert guard.set and guard.problem is None
        moved = -timedelta(hours=2, minutes=2, seconds=20)  # to real + 40 s from real + 2 h 03 min
        assert step is not None and abs(step - moved) < timedelta(seconds=1)
        assert guard.stepped_since is not None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0] == guard._skew_problem(timedelta(hours=2, minutes=3))
    assert lines[1].startswith(
        "the clock is right again by the server's time (now 2026-12-06 12:00"
    )
    assert lines[1].endswith("it moved back 2 h 02 min): windows resume")


def test_a_skew_rebase_moves_the_starts_the_wrong_clock_stamped() -> None:
    real = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    clock = SteppedClock(real + timedelta(hours=2))
    builder = WindowBuilder(["left_calf", "right_calf"], 60.0, now=clock.utc)
    builder.start("left_calf", real + timedelta(hours=2, seconds=5))  # stamped by our clock
    builder.start("right_calf", real - timedelta(seconds=30))  # the sensor's own clock
    builder.rebase(-timedelta(hours=2), RELEASED_UTC, wrong_since=real + timedelta(hours=2))
    assert builder._sites["left_calf"].t0_utc == real + timedelta(seconds=5)
    assert builder._sites["right_calf"].t0_utc == real - timedelta(seconds=30)
    assert builder.next_start_utc == real


async def test_only_fresh_server_statuses_reach_the_clock_check(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    hours_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    async with client(mosquitto_broker, "old-server") as server:
        stale = ServerStatus(DeviceState.ONLINE, at=hours_ago).to_payload()
        await server.publish(SERVER_STATUS_TOPIC, stale, retain=True)
        heard: list[datetime] = []
        with Outbox(tmp_path / "outbox.db", "alice", "pi") as outbox:
            publisher = EdgePublisher(outbox, mosquitto_broker.url)
            floors: list[datetime] = []
            publisher.on_server_time = heard.append
            publisher.on_server_time_floor = floors.append
            async with publisher:
                await publisher.link.wait_connected(10.0)
                await asyncio.sleep(0.5)
                assert heard == []  # the retained copy is hours old: not a time to compare
                assert floors == [hours_ago]  # only the least the server's time can be
                fresh = datetime.now(UTC).replace(microsecond=0)
                payload = ServerStatus(DeviceState.ONLINE, at=fresh).to_payload()
                await server.publish(SERVER_STATUS_TOPIC, payload, retain=True)
                async with asyncio.timeout(10.0):
                    while not heard:
                        await asyncio.sleep(0.05)
                assert heard == [fresh]


def stored_windows(db: Path) -> list[datetime]:
    """The start of every window the server stored (none refused), read from its SQLite file."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT start_utc, refused FROM windows ORDER BY seq").fetchall()
    assert all(refused is None for _, refused in rows), rows
    return [datetime.fromisoformat(start).astimezone(UTC) for start, _ in rows]


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_an_edge_two_hours_ahead_cuts_no_windows_until_its_clock_is_right(
    backend: Backend, mosquitto_broker: MosquittoBroker, tmp_path: Path, caplog
) -> None:
    """A real server republishes its time; the agent's wall clock is 2 h ahead, then fixed."""
    server_db = tmp_path / "server.db"
    server = Server(
        mosquitto_broker.url,
        f"sqlite:///{server_db}",
        client_id="clock-server",
        options=ServerOptions(status_every_s=0.3),
    )
    clock = SteppedClock(datetime.now(UTC) + timedelta(hours=2))
    outbox = tmp_path / "outbox.db"
    mqtt = MqttConfig(
        BrokerUrl.parse(mosquitto_broker.url), "alice", "pi", window_s=1.0, outbox=outbox
    )
    tuning = AgentTuning(
        scan_timeout_s=2.0, policy=ReconnectPolicy(first_s=0.2, cap_s=0.4), tick_s=0.2,
        clock=clock,
    )  # fmt: skip
    fixed_at: list[datetime] = []
    caplog.set_level(logging.INFO, logger="edge.run")
    async with running(server):
        agent = await Agent.start(
            [SensorConfig("TW-0001", "left_calf")], backend, mqtt=mqtt, tuning=tuning
        )
        try:
            async with asyncio.timeout(10.0):  # the first fresh status after the connect
                while agent.clock_guard.set:
                    await asyncio.sleep(0.05)
                    agent.clock_guard.poll()
            publisher = agent.uplink.publisher if agent.uplink is not None else None
            assert publisher is not None

            async def ntp_fixes_the_clock() -> None:
                await asyncio.sleep(8.0)
                snapshot = take_snapshot(agent, 8.0)
                assert snapshot.sensors[0].streaming and snapshot.sensors[0].rest_s > 0
                assert snapshot.clock is not None and snapshot.clock.startswith(
                    "this device's clock is 2 h 00 min ahead of the server's: windows wait "
                    "until it is right (is NTP running? timedatectl)"
                )
                assert len(publisher.outbox) == 0 and publisher.stats.sent == 0
                assert stored_windows(server_db) == []  # nothing reached the server
                fixed_at.append(datetime.now(UTC))
                clock.step_to(fixed_at[0])

            run_began = datetime.now(UTC)
            fixer = asyncio.create_task(ntp_fixes_the_clock())
            await agent.run(seconds=14.0)
            await fixer  # its assertions
            assert take_snapshot(agent, 14.0).clock is None
        finally:
            await agent.close()
        stats = publisher.stats
        assert stats.sent > 0 and stats.pending == 0  # every window the server acked
        assert server.stats.rejected == 0
    starts = stored_windows(server_db)
    assert len(starts) == stats.sent and starts == sorted(starts)
    # The first window holds the first samples, by the right clock: they stream from the run's
    # start (1 s windows; samples are stamped a little before they arrive). A loaded machine may
    # fix the clock well after the fixer's 8 s sleep, so the fix bounds only the other side.
    assert run_began - timedelta(seconds=2) <= starts[0] < fixed_at[0] - timedelta(seconds=4)
    assert starts[-1] < datetime.now(UTC)  # on the right clock, not 2 h ahead
    with Outbox(outbox, "alice", "pi") as stored:
        assert len(stored) == 0 and stored.acked_seq == stats.sent
    journal = [r.getMessage() for r in caplog.records if r.name == "edge.run"]
    said = [line for line in journal if "ahead of the server's" in line]
    assert len(said) == 1, journal  # once per change
    assert any(line.startswith("the clock is right again") for line in journal)


async def test_an_edge_days_behind_holds_its_windows_as_soon_as_it_connects(
    backend: Backend, mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    """A real server's retained status, before any fresh one (they come once a minute)."""
    server = Server(
        mosquitto_broker.url,
        f"sqlite:///{tmp_path / 'server.db'}",
        client_id="clock-server",
        options=ServerOptions(status_every_s=60.0),
    )
    clock = SteppedClock(datetime.now(UTC) - timedelta(days=3))  # back at its last shutdown
    mqtt = MqttConfig(
        BrokerUrl.parse(mosquitto_broker.url), "alice", "pi", window_s=1.0,
        outbox=tmp_path / "outbox.db",
    )  # fmt: skip
    async with running(server):
        agent = await Agent.start(
            [SensorConfig("TW-0001", "left_calf")], backend, mqtt=mqtt,
            tuning=AgentTuning(clock=clock),
        )  # fmt: skip
        try:
            async with asyncio.timeout(5.0):
                while agent.clock_guard.set:
                    await asyncio.sleep(0.05)
                    agent.clock_guard.poll()
            assert str(agent.clock_guard.problem).startswith(
                "this device's clock is at least 2 d 23 h behind the server's"
            )
        finally:
            await agent.close()


def test_a_retained_status_holds_the_windows_of_a_clock_certainly_behind(caplog) -> None:
    """A Pi whose clock came back at its last shutdown (fake-hwclock), three days ago: the
    server's retained status, however old, is later than that; NTP then fixes the clock."""
    real = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    clock = SteppedClock(real - timedelta(days=3))
    guard = ClockGuard(clock)
    with caplog.at_level(logging.INFO, logger="edge.run"):
        assert guard.poll() is None and guard.set
        old_status = real - timedelta(hours=5, seconds=-30)  # sent 5 h ago, yet days ahead
        guard.server_time_floor(old_status)
        assert guard.poll() is None and not guard.set
        clock.skip(timedelta(hours=2))  # the same old status after a reconnect says less:
        guard.server_time_floor(old_status)  # the floor stays where the first put it
        assert guard.poll() is None and not guard.set
        assert guard.problem == (
            "this device's clock is at least 2 d 19 h behind the server's: windows wait until "
            "it is right (is NTP running? timedatectl); detection goes on"
        )
        clock.step_to(real + timedelta(hours=2))  # NTP
        step = guard.poll()
        assert guard.set and guard.problem is None
        assert step is not None and abs(step - timedelta(days=3)) < timedelta(seconds=1)
        assert guard.stepped_since is not None
    assert len(caplog.records) == 2  # said once, then the resume


def test_a_retained_status_says_nothing_of_a_clock_ahead_or_close() -> None:
    real = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    ahead = ClockGuard(SteppedClock(real + timedelta(hours=2)))
    ahead.server_time_floor(real - timedelta(hours=5))  # old: an ahead clock cannot be told
    assert ahead.poll() is None and ahead.set
    close = ClockGuard(SteppedClock(real))
    close.server_time_floor(real + timedelta(minutes=4))  # within the tolerance
    assert close.poll() is None and close.set
    # A fresh status says more than a retained one: its verdict replaces the floor's.
    behind = ClockGuard(SteppedClock(real - timedelta(hours=1)))
    behind.server_time_floor(real)
    behind.server_time(real - timedelta(hours=1))
    assert behind.poll() is None and behind.set


def test_a_server_whose_clock_was_wrong_resumes_windows_without_a_step() -> None:
    """Our clock never moved: the server's was the wrong one, and its next status agrees."""
    real = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    clock = SteppedClock(real)
    guard = ClockGuard(clock)
    guard.server_time(real - timedelta(hours=1))
    assert guard.poll() is None and not guard.set and "1 h 00 min ahead of" in str(guard.problem)
    guard.server_time(clock.utc())
    step = guard.poll()
    assert guard.set and step is not None and abs(step) < timedelta(seconds=1)


def test_a_clock_before_the_release_is_not_also_called_far_from_the_servers(caplog) -> None:
    clock = SteppedClock(BOOT)
    guard = ClockGuard(clock)
    with caplog.at_level(logging.INFO, logger="edge.run"):
        guard.poll()
        guard.server_time(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
        assert guard.poll() is None and guard.problem is not None
        assert guard.problem.startswith("the clock says 1970-01-01")
        clock.step_to(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
        assert guard.poll() is not None and guard.set
    assert not any("server's" in r.getMessage() for r in caplog.records)
