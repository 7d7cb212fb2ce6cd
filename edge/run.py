"""``twitchwatch edge run``: the agent shown to a person, until a deadline or a signal.

A sensor that is not found is retried for ever (a service must not die because a sensor is in
another room); a broker that refuses the login or the device's topics stops the run with a
one-line error, since retrying cannot help; an unreachable broker is retried while windows
wait in the outbox.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from edge.agent import Agent, AgentTuning
from edge.ble.reconnect import ReconnectPolicy
from edge.ble.session import SCAN_TIMEOUT_S, Backend, SensorConfig
from edge.config import MqttConfig
from edge.views import Snapshot, View, make_reporter, take_snapshot


@dataclass(frozen=True, slots=True)
class RunTuning:
    """Timing of a run; the defaults suit a person, tests shorten them."""

    scan_timeout_s: float = SCAN_TIMEOUT_S
    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    #: Redraw and poll period: about twice a second reads as live and costs nothing.
    refresh_s: float = 0.5
    #: The log view's summary period: a journal line per sensor a minute is enough to see trends.
    summary_every_s: float = 60.0

    @property
    def agent(self) -> AgentTuning:
        return AgentTuning(self.scan_timeout_s, self.policy, self.refresh_s)


async def run_agent(
    sensors: Sequence[SensorConfig],
    backend: Backend,
    *,
    seconds: float | None = None,
    record: Path | None = None,
    mqtt: MqttConfig | None = None,
    view: View = View.LOG,
    config_path: Path | None = None,
    console: Console | None = None,
    tuning: RunTuning = RunTuning(),
) -> Snapshot:
    """Stream ``sensors`` until ``seconds`` pass (None: until SIGINT/SIGTERM); the last figures.

    ``config_path`` is named in errors a person fixes in the config (a refused broker login).
    ``console`` is where the live view draws (default: the terminal). Raises
    :class:`~edge.uplink.BrokerLoginError` or :class:`~edge.uplink.BrokerNotAuthorizedError` as
    soon as the broker refuses this device for good.
    """
    agent = await Agent.start(
        sensors, backend, mqtt=mqtt, record=record, config_path=config_path, tuning=tuning.agent
    )
    loop = asyncio.get_running_loop()
    started = loop.time()

    def snapshot() -> Snapshot:
        return take_snapshot(agent, loop.time() - started)

    reporter = make_reporter(view, console, tuning.refresh_s, tuning.summary_every_s)
    finished = False
    with reporter.showing(snapshot()), _stop_on_signals() as stopped:
        try:
            await agent.run(seconds, stop=stopped, on_tick=lambda: reporter.update(snapshot()))
            finished = True
        finally:
            await agent.close()
        final = dataclasses.replace(snapshot(), interrupted=stopped.signals == [signal.SIGINT])
    if finished:
        reporter.final(final, record)
    return final


class _Stopped(asyncio.Event):
    """Set by the signals that stop the run; ``signals`` says which came."""

    def __init__(self) -> None:
        super().__init__()
        self.signals: list[signal.Signals] = []

    def stop(self, signum: signal.Signals) -> None:
        self.signals.append(signum)
        self.set()


@contextmanager
def _stop_on_signals() -> Iterator[_Stopped]:
    """SIGINT and SIGTERM end the run like ``--seconds`` does: last windows, final summary."""
    loop = asyncio.get_running_loop()
    stopped = _Stopped()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stopped.stop, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            pass
    try:
        yield stopped
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
