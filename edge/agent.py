"""The edge agent: the sensor sessions, live detection, windows and the uplink, in one asyncio loop.

One :class:`Agent` serves ``twitchwatch edge run``, the demo's live day and the benches::

    agent = await Agent.start(sensors, backend, mqtt=mqtt_config)   # mqtt=None: detect only
    try:
        await agent.run(seconds=60)        # tick() about twice a second until then
    finally:
        await agent.close()                # last detections -> last windows -> outbox

Data flow: each session hands decoded blocks and gaps (:class:`StreamSink`) to the live rates and
to :class:`~edge.detection.Detection`, which feeds the site's detector and hands its decisions to
the totals, the EDF+ recording and the window builder. :meth:`Agent.tick` moves closed windows to
the uplink, so windows are reached once, by the one owner of the builder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edge.ble.reconnect import ReconnectPolicy
from edge.ble.session import SCAN_TIMEOUT_S, Backend, SensorConfig, SensorSession, StreamSink
from edge.config import MqttConfig
from edge.detect import Detections
from edge.detection import Detection, DetectionSink, SensorStart
from edge.publisher import BrokerState
from edge.recording import Recording
from edge.stream import StreamInfo
from edge.stream_rates import StreamRates
from edge.timeline import TimelineUpdate
from edge.totals import Totals
from edge.uplink import Uplink
from edge.wall_clock import ClockGuard, SystemClock, WallClock
from edge.windows import WINDOW_S, WindowBuilder

#: A session still running this long after a cancel is cancelled again.
CANCEL_AGAIN_S = 1.0


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
    sensors: Sequence[SensorConfig], sink: StreamSink, backend: Backend
) -> list[SensorSession]:
    """One session per sensor; they share a connect lock because they share an adapter."""
    lock = asyncio.Lock()
    return [SensorSession(sensor, sink, backend=backend, connect_lock=lock) for sensor in sensors]


@dataclass(frozen=True, slots=True)
class AgentTuning:
    """Timing of the agent; the defaults suit a person, tests shorten them."""

    scan_timeout_s: float = SCAN_TIMEOUT_S
    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    #: Tick period: about twice a second reads as live in a view and costs nothing.
    tick_s: float = 0.5
    #: The wall clock windows are stamped with (tests pass a fake one).
    clock: WallClock = field(default_factory=SystemClock)


class _WindowSink(DetectionSink):
    """Detections into the window builder, keyed by site."""

    def __init__(self, windows: WindowBuilder) -> None:
        self.windows = windows

    def on_start(self, start: SensorStart) -> None:
        self.windows.start(start.site, start.start_utc)

    def on_detections(self, sensor: str, site: str, found: Detections) -> None:
        self.windows.add(site, found)


class Agent:
    """Every configured sensor supervised, detected, totalled and (with an uplink) published."""

    def __init__(
        self,
        sensors: Sequence[SensorConfig],
        backend: Backend,
        *,
        uplink: Uplink | None = None,
        window_s: float = WINDOW_S,
        record: Path | None = None,
        config_path: Path | None = None,
        tuning: AgentTuning = AgentTuning(),
    ) -> None:
        self.uplink, self.config_path, self.tuning = uplink, config_path, tuning
        #: No windows are cut while the wall clock is not set (edge/wall_clock.py).
        self.clock_guard = ClockGuard(tuning.clock)
        self.clock_guard.poll()
        if uplink is not None:  # server statuses tell the guard the server's time
            uplink.publisher.on_server_time = self.clock_guard.server_time
            uplink.publisher.on_server_time_floor = self.clock_guard.server_time_floor
        self.totals = Totals()
        sinks: list[DetectionSink] = [self.totals]
        if record is not None:
            sinks.append(Recording(record))
        self.windows: WindowBuilder | None = None
        if uplink is not None:
            sites = [s.site for s in sensors]
            self.windows = WindowBuilder(
                sites, window_s, now=tuning.clock.utc, resume_from_utc=uplink.resume_from_utc
            )
            sinks.append(_WindowSink(self.windows))
        self.detection = Detection(*sinks, now=tuning.clock.utc)
        self.rates = StreamRates()
        self.sessions = make_sessions(sensors, Fanout(self.rates, self.detection), backend)
        for session in self.sessions:
            session.scan_timeout_s = tuning.scan_timeout_s
            session.policy = tuning.policy
            self.rates.watch(session)
        #: The broker's state when the run ended ("stopped" once closed says nothing).
        self.final_broker_state: BrokerState | None = None
        self._closed = False

    @classmethod
    async def start(
        cls,
        sensors: Sequence[SensorConfig],
        backend: Backend,
        *,
        mqtt: MqttConfig | None = None,
        record: Path | None = None,
        config_path: Path | None = None,
        tuning: AgentTuning = AgentTuning(),
    ) -> Agent:
        """An agent whose windows go to ``mqtt`` (None: it detects and shows, nothing leaves)."""
        uplink = None if mqtt is None else await Uplink.start(mqtt)
        return cls(
            sensors,
            backend,
            uplink=uplink,
            window_s=WINDOW_S if mqtt is None else mqtt.window_s,
            record=record,
            config_path=config_path,
            tuning=tuning,
        )

    def tick(self) -> None:
        """Send every window that is due (none while the clock is not set); raise if the broker
        refuses this device for good."""
        step = self.clock_guard.poll()
        if self.uplink is not None and self.windows is not None:
            if step is not None:
                guard = self.clock_guard
                self.windows.rebase(step, guard.not_before, guard.stepped_since)
            if self.clock_guard.set:
                self.uplink.send(self.windows.close_due())
            self.uplink.raise_if_refused(self.config_path)

    async def run(
        self,
        seconds: float | None = None,
        *,
        stop: asyncio.Event | None = None,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        """Stream until ``seconds`` pass (None: for ever) or ``stop`` is set, ticking every
        ``tuning.tick_s`` (then ``on_tick``); every session has ended when this returns."""
        tasks = [asyncio.create_task(s.run(), name=f"sensor {s.name}") for s in self.sessions]
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        tick_s = self.tuning.tick_s
        try:
            while not (stop is not None and stop.is_set()) and (
                deadline is None or loop.time() < deadline
            ):
                remaining = tick_s if deadline is None else min(tick_s, deadline - loop.time())
                done, _ = await asyncio.wait(tasks, timeout=max(remaining, 0))
                for task in done:
                    task.result()  # a session only ends by raising: surface it
                self.tick()
                if on_tick is not None:
                    on_tick()
        finally:
            await cancel_until_done(tasks)

    async def close(self) -> None:
        """The detectors' last decisions go into the last windows, which go to the outbox."""
        if self._closed:
            return
        self._closed = True
        try:
            self.detection.close()
        finally:
            if self.uplink is not None:
                self.final_broker_state = self.uplink.stats().state
                last = []
                if self.windows is not None and self.clock_guard.set:
                    last = self.windows.flush()
                await self.uplink.stop(last)


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
