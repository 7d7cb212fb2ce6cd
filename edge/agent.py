"""The edge agent: every configured sensor supervised in one asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from edge.ble.session import Backend, SensorConfig, SensorSession, StreamSink
from edge.stream import StreamInfo
from edge.timeline import TimelineUpdate


class Fanout:
    """A sink that hands everything to several sinks, in order (live figures, detection)."""

    def __init__(self, *sinks: StreamSink) -> None:
        self.sinks = sinks

    def on_streams(self, session: SensorSession, infos: list[StreamInfo]) -> None:
        for sink in self.sinks:
            sink.on_streams(session, infos)

    def on_update(self, info: StreamInfo, update: TimelineUpdate) -> None:
        for sink in self.sinks:
            sink.on_update(info, update)


def make_sessions(
    sensors: tuple[SensorConfig, ...] | list[SensorConfig], sink: StreamSink, backend: Backend
) -> list[SensorSession]:
    """One session per sensor; they share a connect lock because they share an adapter."""
    lock = asyncio.Lock()
    return [SensorSession(sensor, sink, backend=backend, connect_lock=lock) for sensor in sensors]


async def run_for(
    sessions: list[SensorSession],
    seconds: float | None,
    on_tick: Callable[[], None] | None = None,
    tick_s: float = 1.0,
) -> None:
    """Run the sessions (forever when ``seconds`` is None), calling ``on_tick`` periodically."""
    tasks = [asyncio.create_task(s.run(), name=f"sensor {s.name}") for s in sessions]
    loop = asyncio.get_running_loop()
    deadline = None if seconds is None else loop.time() + seconds
    try:
        while deadline is None or loop.time() < deadline:
            remaining = tick_s if deadline is None else min(tick_s, deadline - loop.time())
            done, _ = await asyncio.wait(tasks, timeout=max(remaining, 0))
            for task in done:
                task.result()  # a session only ends by raising: surface it
            if on_tick is not None:
                on_tick()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
