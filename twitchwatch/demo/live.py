"""Today, live: the story's sensors as simulated Bluetooth LE peripherals (Bumble), read by the
edge agent through the real bleak API, detected, windowed and published like at home."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from edge.agent import Agent, AgentTuning
from edge.ble.session import Backend, SensorConfig, SessionState
from edge.config import MqttConfig
from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend
from firmware_sim.faults import Faults
from firmware_sim.fleet import FleetSpec, SimSensor, close_fleet, start_fleet
from firmware_sim.radio import VirtualRadio
from twitchwatch.demo.screen import Screen
from twitchwatch.demo.story import Story

#: Today's windows are short so that a subscriber watches them arrive during the demo (the
#: edge agent's default is 60 s).
LIVE_WINDOW_S = 10.0
TICK_S = 0.5
#: A little radio trouble, as at home: lost frames show up as gaps, never as invented samples.
LIVE_FAULTS = Faults(drop_prob=0.002)
#: The live part is counted from the moment every sensor streams (they come up one after the
#: other, a few seconds each), or from this long after the start: a sensor still not up then is
#: shown as it is (scanning, backing off) and the live part goes on with the others.
CONNECT_ALLOWANCE_S = 30.0


async def stream_today(
    story: Story, mqtt: MqttConfig, seconds: float, screen: Screen, refresh: Callable[[], None]
) -> None:
    """Stream every sensor for ``seconds``, counted once all of them stream, and publish their
    windows."""
    radio = VirtualRadio()
    sensors = await start_fleet(
        radio,
        FleetSpec(
            tuple(SimSensor(s.site, s.driver) for s in story.sensors),
            seed=story.seed,
            preset="rest",
            rates={s.site: story.today[s.site] for s in story.sensors},
            faults=LIVE_FAULTS,
        ),
    )
    configs = [SensorConfig(s.name, s.site, s.driver) for s in sensors]
    adapter = BumbleAdapter(radio=radio)
    bleak_backend = bumble_backend(adapter)
    agent = await Agent.start(
        configs,
        Backend(bleak_backend.scanner, bleak_backend.client),
        mqtt=mqtt,
        tuning=AgentTuning(tick_s=TICK_S),
    )
    progress = screen.progress
    progress.live_total_s, progress.live_s = seconds, 0.0
    started = time.monotonic()
    all_up: float | None = None
    stop = asyncio.Event()

    def tick() -> None:
        nonlocal all_up
        now = time.monotonic()
        if all_up is None and (
            now - started >= CONNECT_ALLOWANCE_S
            or all(s.health.state is SessionState.STREAMING for s in agent.sessions)
        ):
            all_up, progress.phase = now, "live"
        if all_up is not None:
            progress.live_s = min(seconds, now - all_up)
            if now - all_up >= seconds:
                stop.set()
        refresh()

    try:
        await agent.run(stop=stop, on_tick=tick)
    finally:
        try:
            await agent.close()
        finally:
            await adapter.close()
            await close_fleet(sensors)
