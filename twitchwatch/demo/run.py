"""``twitchwatch demo``: the whole chain on one machine, with nothing to set up.

A local broker (Mosquitto, else the embedded one), the server on a temporary SQLite store, and a
seeded story: the past six weeks as short daily rest recordings through the real detector, the
edge agent's outbox and publisher and MQTT; then today, live, from simulated sensors over the
Bumble Bluetooth link. What is shown is what a subscriber receives: per-site counts from the
windows topic and the alerts the server publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from edge.config import MqttConfig
from edge.outbox import Outbox
from edge.publisher import EdgePublisher
from server.broker_acl import PASSWORD_FILE
from server.report import ReportFiles, write_report
from server.rules import RuleConfig, load_rule_config, parse_rule_config
from server.service import Server
from server.store import open_store
from twitchwatch.contract import (
    AlertEvent,
    Report,
    TopicKind,
    alerts_filter,
    device_filter,
    reports_topic,
)
from twitchwatch.demo.broker import EmbeddedBroker, MqttBroker, make_broker
from twitchwatch.demo.errors import DemoError
from twitchwatch.demo.history import DayResult, render_day
from twitchwatch.demo.live import LIVE_WINDOW_S, stream_today
from twitchwatch.demo.screen import Screen
from twitchwatch.demo.story import ExpectedAlert, Story
from twitchwatch.demo.view import DemoView, LiveView, PlainView
from twitchwatch.mqtt_link import BrokerUrl, MqttLink, Protocol

if TYPE_CHECKING:
    from twitchwatch.demo.web import DemoLogin

log = logging.getLogger(__name__)

#: How long one past day may take to be stored before the demo gives up on the chain.
DAY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
#: After the last data, how long to wait for the server's last evaluation to be published.
SETTLE_S = 2.0


@dataclass(frozen=True)
class DemoOptions:
    story: Story
    live_s: float = 25.0
    plain: bool = False
    workers: int = 2
    embedded_broker: bool = False  # the amqtt fallback even when Mosquitto is installed
    out: TextIO | None = None  # plain view's stream (stdout)
    report: Path | None = None  # the person's report (HTML + figures), written at the end
    #: The person's web view on this port (0: any free one); None: no web view.
    web_port: int | None = None
    #: Told the web view's address and the demo login once it is up (before the story starts).
    on_web: Callable[[DemoLogin], None] | None = None
    #: Awaited after the story with everything still running (``--web``: until Ctrl-C).
    hold: Callable[[DemoResult], Awaitable[None]] | None = None


@dataclass
class DemoResult:
    """What the demo's subscriber saw, for the summary and the tests."""

    screen: Screen
    days: list[DayResult] = field(default_factory=list)
    live_windows: int = 0
    report: ReportFiles | None = None
    web: DemoLogin | None = None

    @property
    def raised(self) -> list[AlertEvent]:
        return self.screen.firing()

    def missing(self, expected: tuple[ExpectedAlert, ...]) -> list[ExpectedAlert]:
        """Expected alerts not raised in the expected order (empty: the story came true)."""
        raised = [(e.alert.rule, e.alert.scope) for e in self.raised]
        position = 0
        missing = []
        for want in expected:
            try:
                position = raised.index((want.rule, want.scope), position) + 1
            except ValueError:
                missing.append(want)
        return missing


async def run_demo(options: DemoOptions) -> DemoResult:
    """Run the story through the whole chain; everything but the report is temporary."""
    story = options.story
    screen = Screen(story.user, story.sites, {s.site: s.driver for s in story.sensors})
    view: DemoView = (
        PlainView(screen, options.out) if options.plain else LiveView(screen, story.today_date)
    )
    result = DemoResult(screen)
    rules = _rules(story)
    async with contextlib.AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="twitchwatch-demo-")))
        # Spawned, not forked: the parent runs threads (paho, the embedded broker).
        pool = ProcessPoolExecutor(options.workers, mp_context=get_context("spawn"))
        stack.callback(pool.shutdown, wait=True, cancel_futures=True)
        # The past days render in the workers while the broker and the server start.
        with _sigint_ignored():  # inherited by the workers: Ctrl-C is the demo's to handle
            rendering = [pool.submit(render_day, story, i) for i in range(len(story.days))]
        accounts = tmp / "accounts"
        password = None
        if options.web_port is not None:  # the web view (aiohttp, Jinja2) loads only for --web
            from twitchwatch.demo.web import DemoLogin, start_web, write_demo_account

            password = write_demo_account(accounts, story.user)
        passwd = None if password is None else accounts / PASSWORD_FILE
        broker = stack.enter_context(_broker(options.embedded_broker, passwd))
        url = BrokerUrl.parse(broker.url)
        protocol = Protocol.MQTT5 if broker.mqtt5 else Protocol.MQTT311
        screen.broker = f"{broker.name} on {broker.url}"
        db_url = f"sqlite:///{tmp / 'twitchwatch.db'}"
        await _start_server(stack, url, db_url, protocol, rules)
        if options.web_port is not None and password is not None:
            web = await start_web(stack, url, db_url, protocol, rules, accounts, options.web_port)
            login = f"{story.user}:{password}@" if passwd and broker.name == "mosquitto" else ""
            broker_url = f"mqtt://{login}{url.host}:{url.port}"
            result.web = DemoLogin(web.url, story.user, password, broker_url)
            if options.on_web is not None:
                options.on_web(result.web)
        viewer = await _start_viewer(stack, url, protocol, story, screen, view)
        view.start()
        stack.callback(view.stop)
        mqtt = MqttConfig(url, story.user, story.device, protocol, LIVE_WINDOW_S, tmp / "outbox.db")
        result.days = await _replay_history(story, rendering, mqtt, viewer, screen, view)
        screen.progress.phase = "connecting"
        screen.progress.caption = "today: connecting to the sensors over Bluetooth"
        view.say(screen.progress.caption)
        before = screen.windows_seen
        await stream_today(story, mqtt, options.live_s, screen, view.refresh)
        screen.progress.phase = "finishing"
        await asyncio.sleep(SETTLE_S)  # the last windows and the server's evaluation of them
        result.live_windows = screen.windows_seen - before
        screen.progress.caption = "live over Bluetooth"
        view.day_done(story.today_date, "today    ")
        if options.report is not None:
            screen.progress.caption = f"writing the report to {options.report}"
            view.refresh()
            result.report = await asyncio.to_thread(
                _write_report, db_url, story.user, options.report, rules
            )
        screen.progress.phase, screen.progress.caption = "done", ""
        view.refresh()
        if options.hold is not None:
            view.stop()
            await options.hold(result)
    return result


def _write_report(db_url: str, user: str, out: Path, rules: RuleConfig) -> ReportFiles:
    with open_store(db_url) as store:
        return write_report(store, user, out, rule_config=rules)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while processes are started: they inherit it across exec, so a terminal's
    Ctrl-C, sent to the whole process group, cannot interrupt them mid-import."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _rules(story: Story) -> RuleConfig:
    if story.rules_toml is None:
        return load_rule_config(None)
    return parse_rule_config(story.rules_toml, "the demo story")


@contextlib.contextmanager
def _broker(embedded: bool, password_file: Path | None) -> Iterator[MqttBroker]:
    broker: MqttBroker = (
        EmbeddedBroker() if embedded else make_broker(own_session=True, password_file=password_file)
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


async def _start_server(
    stack: contextlib.AsyncExitStack,
    url: BrokerUrl,
    db_url: str,
    protocol: Protocol,
    rules: RuleConfig,
) -> Server:
    server = Server(
        url, db_url, client_id="twitchwatch-demo-server", protocol=protocol, rule_config=rules
    )
    stop = asyncio.Event()
    task = asyncio.create_task(server.run(stop), name="demo server")

    async def shut_down() -> None:
        stop.set()
        with contextlib.suppress(Exception):
            await task

    stack.push_async_callback(shut_down)
    ready = asyncio.create_task(server.ready.wait())
    done, _ = await asyncio.wait(
        {task, ready}, timeout=CONNECT_TIMEOUT_S, return_when="FIRST_COMPLETED"
    )
    ready.cancel()
    if task in done:
        task.result()  # the server's own one-line error
    if not server.ready.is_set():
        raise DemoError("the server", f"did not start within {CONNECT_TIMEOUT_S:g} s")
    return server


async def _start_viewer(
    stack: contextlib.AsyncExitStack,
    url: BrokerUrl,
    protocol: Protocol,
    story: Story,
    screen: Screen,
    view: DemoView,
) -> MqttLink:
    """The person's side: subscribed to their windows and alerts, and publishing their reports."""
    windows = device_filter(TopicKind.WINDOWS, story.user)
    viewer = MqttLink(
        url,
        client_id=f"twitchwatch-demo-{story.user}",
        protocol=protocol,
        subscriptions=[(windows, 1), (alerts_filter(story.user), 1)],
    )
    viewer.start()
    stack.push_async_callback(viewer.close)
    await viewer.wait_connected(CONNECT_TIMEOUT_S)
    # Subscribed before anything is published: the first day's windows must not pass us by.
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        await viewer.subscribed.wait()

    async def follow() -> None:
        try:
            async for message in viewer.messages_across_reconnects():
                event = screen.handle(message)
                if event is not None:
                    view.alert(event)
        except Exception as exc:  # a bug, not bad input (handle() takes that): stop the demo
            screen.fail(exc)
            raise

    task = asyncio.create_task(follow(), name="demo subscriber")

    async def stop_following() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    stack.push_async_callback(stop_following)
    return viewer


async def _replay_history(
    story: Story,
    rendering: list[Future[DayResult]],
    mqtt: MqttConfig,
    viewer: MqttLink,
    screen: Screen,
    view: DemoView,
) -> list[DayResult]:
    """Publish the past days in order, each once the previous one is stored (the server then
    evaluates day by day, and alerts arrive on the day they concern)."""
    progress = screen.progress
    progress.phase, progress.days = "history", len(story.days)
    outbox = Outbox(mqtt.outbox_path, mqtt.user, mqtt.device)
    publisher = EdgePublisher(outbox, mqtt.broker, protocol=mqtt.protocol)
    days = []
    try:
        await publisher.start()
        for index, future in enumerate(rendering):
            day = await asyncio.wrap_future(future)
            story_day = story.days[index]
            for report in story_day.reports:
                doc = Report(
                    story.report_time(index, report),
                    report.kind,
                    report.site,
                    report.value,
                    report.note,
                )
                await viewer.publish(reports_topic(story.user), doc.to_payload(), qos=1)
            expected = screen.windows_seen + len(day.windows)
            publisher.add_windows(day.windows)
            if not await publisher.wait_drained(DAY_TIMEOUT_S):
                raise DemoError(
                    f"day {index + 1}",
                    f"the server did not store its windows within {DAY_TIMEOUT_S:g} s "
                    f"({publisher.format_stats()})",
                )
            await screen.wait_windows(expected, DAY_TIMEOUT_S)
            days.append(day)
            progress.day = index + 1
            progress.day_date = story.day_date(index)
            progress.caption = story_day.caption
            view.day_done(progress.day_date, f"day {progress.day:>2}/{progress.days}")
            view.refresh()
    finally:
        try:
            await publisher.close(grace_s=5.0)
        finally:
            outbox.close()
    return days
