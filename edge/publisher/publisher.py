"""EdgePublisher: one device's outbox published over MQTT by two tasks, one sending windows and
one taking the server's acks, beside the BLE loop (the whole story: :mod:`edge.publisher`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Self

from edge.errors import OutboxError
from edge.outbox import Outbox
from edge.publisher.delivery import Delivery
from edge.publisher.presence import Presence
from edge.publisher.resend import RESEND_AFTER_S, ResendSchedule
from edge.publisher.state import BrokerState, PublisherStats, TopicDenial, broker_state
from edge.windows import Window
from twitchwatch.contract import (
    SERVER_STATUS_TOPIC,
    PayloadError,
    Profile,
    ServerStatus,
    SiteWindow,
    TopicKind,
    WindowMessage,
    device_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, MqttLink, Protocol

log = logging.getLogger(__name__)

#: Windows awaiting the broker's PUBACK at once: enough to drain a day offline in seconds, few
#: enough that paho's in-memory queue stays small (the outbox is the durable copy).
MAX_IN_FLIGHT = 100
#: Loop steps the sender yields for the receiver to take queued acks (it needs one or two).
_MAX_YIELDS = 100


class EdgePublisher:
    """Publishes one device's outbox over MQTT; runs as its own tasks beside the BLE loop.

    Parameters
    ----------
    outbox : Outbox
        The device's outbox; its user and device name the topics.
    broker : BrokerUrl or str
        ``mqtt://host:1883`` or ``mqtts://user:password@host:8883?ca=/path/ca.pem``.
    protocol : Protocol
        MQTT 5 (default) or 3.1.1.
    client_id : str or None
        Default: the broker username (the deployed broker binds a session to its account and
        replaces any client id by it), else ``twitchwatch-edge-<user>-<device>``.
    max_in_flight : int
        Windows awaiting PUBACK at once.
    resend_after_s : float
        Send a broker-acknowledged window again if the server's ack has not covered it by then.
    profile : Profile or None
        The config's time zone for the person's profile: merged into the retained profile when
        it differs from the zone last published (edge/publisher/profile.py).

    Use::

        async with EdgePublisher(outbox, "mqtt://127.0.0.1:1883") as publisher:
            publisher.add(window.start, window.end, window.sites)  # stored, then sent
    """

    def __init__(
        self,
        outbox: Outbox,
        broker: BrokerUrl | str,
        *,
        protocol: Protocol = Protocol.MQTT5,
        client_id: str | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
        resend_after_s: float = RESEND_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        profile: Profile | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
        self.outbox = outbox
        self.user, self.device = outbox.user, outbox.device
        self.broker = BrokerUrl.parse(broker) if isinstance(broker, str) else broker
        self.protocol = Protocol(protocol)
        self.client_id = (
            client_id or self.broker.username or f"twitchwatch-edge-{self.user}-{self.device}"
        )
        self.max_in_flight = max_in_flight
        self.resend = ResendSchedule(resend_after_s)
        self._clock = clock
        self.ack_topic = device_topic(self.user, self.device, TopicKind.ACK)
        self.windows_topic = device_topic(self.user, self.device, TopicKind.WINDOWS)
        self._link: MqttLink | None = None
        self._tasks: list[asyncio.Task[None]] = []  # kept: a crash is raised by raise_if_failed
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._connection = 0  # link.connects when this connection was announced
        self._denial = TopicDenial()
        self._presence = Presence(outbox, profile, self._denial)
        self._delivery = Delivery(
            outbox,
            self.windows_topic,
            max_in_flight=max_in_flight,
            resend=self.resend,
            clock=clock,
            wake=self._wake,
            denial=self._denial,
            stopping=lambda: self._link is None,
        )
        self._pending = len(outbox)  # as of the last add or ack (stats are read after close too)
        self._lost = 0
        self._dropped = outbox.dropped
        #: Called with the server's time from each fresh (not retained) server status: the
        #: agent's ClockGuard compares it with the edge's clock (edge/wall_clock.py).
        self.on_server_time: Callable[[datetime], None] | None = None
        #: Called with a retained status's time, maybe hours old: the least the server's is.
        self.on_server_time_floor: Callable[[datetime], None] | None = None

    @property
    def denied_topic(self) -> str | None:
        """A topic the broker refused as not authorized: no retry will change that."""
        return self._denial.topic

    # --- life cycle ------------------------------------------------------------------------------

    @property
    def link(self) -> MqttLink:
        if self._link is None:
            raise RuntimeError("the publisher is not started")
        return self._link

    async def start(self) -> None:
        """Connect in the background and start sending; returns at once (offline is fine)."""
        if self._link is not None:
            raise RuntimeError("the publisher is already started")
        self._link = MqttLink(
            self.broker,
            client_id=self.client_id,
            protocol=self.protocol,
            subscriptions=[
                (self.ack_topic, 1),
                (SERVER_STATUS_TOPIC, 1),
                *self._presence.subscriptions(),
            ],
            will=self._presence.will(),
        )
        self._link.on_connected = lambda _session_present: self._wake.set()
        self._link.start()
        self._tasks = [
            asyncio.create_task(self._receive(), name=f"publisher {self.device} acks"),
            asyncio.create_task(self._send(), name=f"publisher {self.device} windows"),
        ]
        self._update_drained()

    async def close(self, grace_s: float = 0.0) -> None:
        """Clean stop: wait up to ``grace_s`` for the server to ack what waits, say offline, close.

        Whatever is still waiting stays in the outbox for the next run.
        """
        if self._link is None:
            return
        if grace_s > 0:
            await self.wait_drained(grace_s)
        link, self._link = self._link, None
        try:
            await self._stop_tasks()
        finally:
            await self._presence.say_offline(link)
            await link.close()

    async def abort(self) -> None:
        """Stop as a crash would: cut the connection (the broker sends the Last Will), no goodbye."""
        if self._link is None:
            return
        link, self._link = self._link, None
        try:
            await self._stop_tasks()
        finally:
            link.drop_connection()
            await link.close()

    async def _stop_tasks(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- input -------------------------------------------------------------------------------

    def add(
        self, start: datetime, end: datetime, sites: Mapping[str, SiteWindow]
    ) -> WindowMessage | None:
        """Store a window in the outbox, then send it. None if the outbox could not store it.

        A window that cannot be stored (disk full, file gone) is counted in ``lost`` and logged;
        the agent keeps streaming, and the server sees that time as not reported.
        """
        self.raise_if_failed()
        try:
            message = self.outbox.add(start, end, sites)
        except OutboxError as exc:
            self._lost += 1
            log.error("%s: window %s lost: %s", self.device, start.isoformat(), exc)
            return None
        self._pending += 1
        self._dropped = self.outbox.dropped
        self._drained.clear()
        self._wake.set()
        return message

    def add_windows(self, windows: Iterable[Window]) -> int:
        """:meth:`add` each closed window in order; returns how many were stored."""
        return sum(self.add(w.start, w.end, w.sites) is not None for w in windows)

    def raise_if_failed(self) -> None:
        """Surface a crash of the publisher's tasks (a bug, or the outbox failing to read)."""
        for task in list(self._tasks):
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def wait_drained(self, timeout_s: float) -> bool:
        """Wait until the server has acked everything in the outbox; False on timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._drained.wait()
        except TimeoutError:
            return False
        return True

    @property
    def state(self) -> BrokerState:
        return broker_state(self._link, self.denied_topic)

    @property
    def stats(self) -> PublisherStats:
        delivery = self._delivery
        return PublisherStats(
            connected=self._link is not None and self._link.connected.is_set(),
            sent=delivery.sent,
            resent=delivery.resent,
            acked_seq=delivery.acked_seq,
            pending=self._pending,
            in_flight=len(delivery.in_flight),
            lost=self._lost,
            refused=delivery.refused,
            bad_acks=delivery.bad_acks,
            state=self.state,
            dropped=self._dropped,
        )

    def format_stats(self) -> str:
        s = self.stats
        return (
            f"mqtt {self.broker} ({s.state}): sent {s.sent}, resent {s.resent}, "
            f"acked up to seq {s.acked_seq}, waiting {s.pending}, lost {s.lost}"
        )

    # --- acks --------------------------------------------------------------------------------

    async def _receive(self) -> None:
        async for message in self.link.messages_across_reconnects():
            if message.topic == SERVER_STATUS_TOPIC:
                self._on_server_status(message.payload, retained=message.retain)
                continue
            if message.topic == self._presence.profile_topic:
                self._presence.on_profile(message)
                continue
            if message.topic == self.ack_topic and self._delivery.on_ack_message(message.payload):
                self._update_drained()

    def _on_server_status(self, payload: bytes, *, retained: bool) -> None:
        """Only a fresh status says what time it is now: the retained one may be hours old,
        so it says only what time it is at least."""
        handler = self.on_server_time_floor if retained else self.on_server_time
        if handler is None:
            return
        try:
            status = ServerStatus.from_payload(payload)
        except PayloadError as exc:
            log.warning("%s: ignoring the server's status: %s", self.device, exc)
            return
        if status.at is not None:
            handler(status.at)

    def _update_drained(self) -> None:
        try:
            self._pending = len(self.outbox)
        except OutboxError:
            return
        if self._pending == 0:
            self._drained.set()
        else:
            self._drained.clear()

    # --- sending -----------------------------------------------------------------------------

    async def _send(self) -> None:
        link = self.link
        while True:
            self._wake.clear()
            if not link.connected.is_set():
                await link.connected.wait()
                continue
            try:
                if link.connects != self._connection:
                    await self._announce(link)
                    continue
                self._delivery.send_due(link)
            except OutboxError as exc:
                # Nothing is lost (the outbox rolled back); try again shortly.
                log.error("%s: %s", self.device, exc)
                await asyncio.sleep(1.0)
                continue
            await self._sleep(self.resend.next_in(self._clock()))

    async def _announce(self, link: MqttLink) -> None:
        """A new connection: say online, learn where the server stands, resend all that waits."""
        connection = link.connects
        if not await self._presence.say_online(link):
            return
        # The retained ack, if the server ever stored anything from this device, came in before
        # that PUBACK. The receiver handles a message in the step that dequeues it, so yielding
        # until the queue is empty means every ack that arrived has been taken.
        for _ in range(_MAX_YIELDS):
            if not link.pending_messages():
                break
            await asyncio.sleep(0)
        if not self.outbox.synced:
            self.outbox.mark_synced()  # no ack: the server has nothing from this device
        await self._presence.publish_profile(link, connection)  # its retained one came in too
        self._connection = connection
        self._delivery.restart()

    async def _sleep(self, timeout_s: float | None) -> None:
        """Until woken (new window, ack, PUBACK, connect) or ``timeout_s`` passes."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._wake.wait()
