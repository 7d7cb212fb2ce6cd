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


#: A session still running this long after a cancel is cancelled again.
CANCEL_AGAIN_S = 1.0


async def run_for(
    sessions: list[SensorSession],
    seconds: float | None,
    on_tick: Callable[[], None] | None = None,
    tick_s: float = 1.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the sessions until ``seconds`` pass (None: forever) or ``stop`` is set, calling
    ``on_tick`` periodically; every session has ended when this returns."""
    tasks = [asyncio.create_task(s.run(), name=f"sensor {s.name}") for s in sessions]
    loop = asyncio.get_running_loop()
    deadline = None if seconds is None else loop.time() + seconds
    try:
        while not (stop is not None and stop.is_set()) and (
            deadline is None or loop.time() < deadline
        ):
            remaining = tick_s if deadline is None else min(tick_s, deadline - loop.time())
            done, _ = await asyncio.wait(tasks, timeout=max(remaining, 0))
            for task in done:
                task.result()  # a session only ends by raising: surface it
            if on_tick is not None:
                on_tick()
    finally:
        await cancel_until_done(tasks)


async def cancel_until_done(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel until done: on Python 3.11 a cancel that lands as an ``asyncio.timeout`` expires
    becomes a TimeoutError, which a library's own retry loop (bleak-retry-connector) may take
    as one more failed attempt, so one cancel can leave a connecting session running for
    minutes."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN_S)
