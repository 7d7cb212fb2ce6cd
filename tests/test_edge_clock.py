"""The edge's wall clock: no windows while it is not set (a Raspberry Pi boots in 1970), and once
network time arrives, what was detected meanwhile lands in the right windows.

The agent streams a simulated sensor over the real Bumble/bleak link; only the wall clock is a
fake (monotonic time is real), because a test cannot step the machine's clock.
"""

from __future__ import annotations

import asyncio
import logging
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
from edge.views import take_snapshot
from edge.wall_clock import RELEASED_UTC, ClockGuard
from edge.windows import WindowBuilder
from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend
from firmware_sim.fleet import FleetSpec, SimSensor, close_fleet, start_fleet
from firmware_sim.radio import VirtualRadio
from support.services import free_port
from twitchwatch.mqtt_link import BrokerUrl

BOOT = datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC)


class SteppedClock:
    """Real monotonic time; a wall clock that reads ``base`` plus the time since, until stepped."""

    def __init__(self, base: datetime) -> None:
        self.base, self.mono0 = base, time.monotonic()

    def monotonic(self) -> float:
        return time.monotonic()

    def utc(self) -> datetime:
        return self.base + timedelta(seconds=time.monotonic() - self.mono0)

    def step_to(self, t: datetime) -> None:
        self.base, self.mono0 = t, time.monotonic()


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
        await asyncio.sleep(6.0)
        snapshot = take_snapshot(agent, 6.0)
        assert snapshot.sensors[0].streaming and snapshot.sensors[0].rest_s > 0  # detecting
        assert snapshot.clock is not None and "no windows are sent" in snapshot.clock
        assert agent.uplink is not None and len(agent.uplink.publisher.outbox) == 0
        set_at.append(datetime.now(UTC))
        clock.step_to(set_at[0])

    try:
        stepper = asyncio.create_task(network_time_arrives())
        await agent.run(seconds=12.0)
        await stepper  # its assertions
        assert take_snapshot(agent, 12.0).clock is None
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
