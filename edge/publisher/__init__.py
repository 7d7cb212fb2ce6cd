"""Outbox -> MQTT: every stored window reaches the server exactly once, whatever fails in between.

The publisher sends what the :class:`~edge.outbox.Outbox` holds (QoS 1, in seq order, a bounded
number awaiting PUBACK) and deletes windows only when the server's retained ack
(``<user>/<device>/ack``: every seq up to it is stored) covers them. Duplicates are harmless (the
server ignores a seq it has), losses are not, so it errs towards sending again:

- on every (re)connect, everything waiting is sent again (what paho still holds unacknowledged,
  paho itself re-sends);
- a window the broker acknowledged but the server's ack has not covered ``resend_after_s`` later
  is sent again, with a backoff while the server is down (:mod:`edge.publisher.resend`);
- an ack that goes back (the server lost or restored its database) sends everything waiting
  again, once, and every window says ``first_held``: the outbox holds nothing below that seq, so
  the server restarts the device's ack from there instead of waiting for windows long deleted.

A fresh outbox sends nothing until it knows where the server stands: a retained ack arrives
right after the subscription, before the broker acknowledges our "online" status. An ack
beyond our numbering means the outbox file was lost or replaced, and the outbox renumbers after
it. The device's status topic says ``online`` (retained) on every connect; the Last Will and a
clean stop say ``offline``. The Will waits :data:`WILL_DELAY_S` (MQTT 5) and is dropped if the
agent is back by then, so a Wi-Fi blip does not flap the status offline and online. With a profile
(``[mqtt] tz``: the person's time zone) the publisher reads the retained ``<user>/profile`` and,
when the config's zone changed since it last published one, publishes it merged into that profile
(:mod:`edge.publisher.profile`): the server cuts the person's days in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Self

from edge.errors import OutboxError
from edge.outbox import Outbox
from edge.publisher.profile import ProfileSync
from edge.publisher.resend import RESEND_AFTER_S, ResendSchedule
from edge.publisher.state import BrokerState, PublisherStats
from edge.windows import Window
from twitchwatch.contract import (
    SERVER_STATUS_TOPIC,
    DeviceAck,
    DeviceState,
    DeviceStatus,
    PayloadError,
    Profile,
    ServerStatus,
    SiteWindow,
    TopicKind,
    WindowMessage,
    device_topic,
    profile_topic,
)
from twitchwatch.mqtt_link import (
    NOT_AUTHORIZED,
    BrokerUrl,
    MqttLink,
    MqttLinkError,
    Protocol,
    PublishRefusedError,
    Will,
)

__all__ = ["BrokerState", "EdgePublisher", "PublisherStats"]

log = logging.getLogger(__name__)

#: Windows awaiting the broker's PUBACK at once: enough to drain a day offline in seconds, few
#: enough that paho's in-memory queue stays small (the outbox is the durable copy).
MAX_IN_FLIGHT = 100
#: Status and stop messages wait this long for the broker; they never hold the agent up longer.
ANNOUNCE_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 2.0
#: Loop steps the sender yields for the receiver to take queued acks (it needs one or two).
_MAX_YIELDS = 100
#: The broker says "offline" only if the agent has not reconnected this long after its link
#: died (paho retries after 1 s, then backs off): short outages do not flap the status.
WILL_DELAY_S = 30


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
        self.status_topic = device_topic(self.user, self.device, TopicKind.STATUS)
        self.ack_topic = device_topic(self.user, self.device, TopicKind.ACK)
        self.windows_topic = device_topic(self.user, self.device, TopicKind.WINDOWS)
        self.profile = profile
        self.profile_topic = profile_topic(self.user)
        self._profile_sync = None if profile is None else ProfileSync(profile, outbox)
        self._link: MqttLink | None = None
        self._tasks: list[asyncio.Task[None]] = []  # kept: a crash is raised by raise_if_failed
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._connection = 0  # link.connects when this connection was announced
        self._cursor = 0  # highest seq sent on this connection (in seq order)
        self._in_flight: dict[int, asyncio.Future[None]] = {}  # seq -> PUBACK
        self._published: set[int] = set()  # seqs this publisher has sent at least once
        self._acked_seq = outbox.acked_seq
        self._pending = len(outbox)  # as of the last add or ack (stats are read after close too)
        self._sent = self._resent = self._lost = self._refused = self._bad_acks = 0
        self._dropped = outbox.dropped
        #: Called with the server's time from each fresh (not retained) server status: the
        #: agent's ClockGuard compares it with the edge's clock (edge/wall_clock.py).
        self.on_server_time: Callable[[datetime], None] | None = None
        #: A topic the broker refused as not authorized (MQTT 5 PUBACK): the account and the
        #: configured user/device disagree, and no retry will change that.
        self.denied_topic: str | None = None

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
        offline = DeviceStatus(self.device, DeviceState.OFFLINE).to_payload()
        self._link = MqttLink(
            self.broker,
            client_id=self.client_id,
            protocol=self.protocol,
            subscriptions=[
                (self.ack_topic, 1),
                (SERVER_STATUS_TOPIC, 1),
                *([(self.profile_topic, 1)] if self.profile is not None else []),
            ],
            will=Will(self.status_topic, offline, qos=1, retain=True, delay_s=WILL_DELAY_S),
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
            await self._say_offline_and_close(link)

    async def _say_offline_and_close(self, link: MqttLink) -> None:
        if link.connected.is_set() and self.denied_topic != self.status_topic:
            offline = DeviceStatus(self.device, DeviceState.OFFLINE).to_payload()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await link.publish(self.status_topic, offline, qos=1, retain=True)
            except (TimeoutError, MqttLinkError) as exc:
                log.warning("%s: could not say offline before stopping (%s)", self.device, exc)
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
        link = self._link
        if link is None:
            return BrokerState.STOPPED
        if link.refusal is not None and link.refusal.bad_login:
            return BrokerState.LOGIN_REFUSED
        if self.denied_topic is not None:
            return BrokerState.NOT_AUTHORIZED
        if link.connected.is_set():
            return BrokerState.CONNECTED
        if link.connect_failures or link.refusal is not None:
            return BrokerState.UNREACHABLE
        return BrokerState.CONNECTING

    @property
    def stats(self) -> PublisherStats:
        return PublisherStats(
            connected=self._link is not None and self._link.connected.is_set(),
            sent=self._sent,
            resent=self._resent,
            acked_seq=self._acked_seq,
            pending=self._pending,
            in_flight=len(self._in_flight),
            lost=self._lost,
            refused=self._refused,
            bad_acks=self._bad_acks,
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
            if message.topic == self.profile_topic and self._profile_sync is not None:
                self._profile_sync.on_message(message)
                continue
            if message.topic != self.ack_topic:
                continue
            try:
                ack = DeviceAck.from_payload(message.payload, device=self.device)
            except PayloadError as exc:
                self._bad_acks += 1
                log.warning("%s: ignoring an ack: %s", self.device, exc)
                continue
            self._on_ack(ack.seq)

    def _on_server_status(self, payload: bytes, *, retained: bool) -> None:
        """Only a fresh status says what time it is now: the retained one may be hours old."""
        if retained or self.on_server_time is None:
            return
        try:
            status = ServerStatus.from_payload(payload)
        except PayloadError as exc:
            log.warning("%s: ignoring the server's status: %s", self.device, exc)
            return
        if status.at is not None:
            self.on_server_time(status.at)

    def _on_ack(self, seq: int) -> None:
        try:
            if seq >= self.outbox.next_seq or not self.outbox.synced:
                renumbered = self.outbox.fast_forward(seq)
                if renumbered:
                    log.warning(
                        "%s: the server already holds windows up to seq %d that this outbox did "
                        "not send (a new or replaced outbox file); %d waiting windows renumbered",
                        self.device,
                        seq,
                        renumbered,
                    )
                    # The old numbers mean nothing now: send everything waiting afresh.
                    self._in_flight.clear()
                    self.resend.clear()
                    self._published.clear()
                    self._cursor = seq
            else:
                self.outbox.acked(seq)
        except OutboxError as exc:
            # The ack is retained: it comes again on the next connect, and deletes then.
            log.error("%s: could not record the server's ack %d: %s", self.device, seq, exc)
            return
        self.resend.acked(seq, progressed=seq > self._acked_seq)
        if seq < self._acked_seq:
            log.warning(
                "%s: the server's ack went back from seq %d to %d (its database was lost or "
                "restored?): sending the %d windows still held again, from seq %d",
                self.device,
                self._acked_seq,
                seq,
                len(self.outbox),
                self.outbox.first_held,
            )
            # Every window still held goes again (it carries first_held).
            self._cursor = seq
            self.resend.clear()
        else:
            self._cursor = max(self._cursor, seq)
        self._acked_seq = seq
        self._published = {s for s in self._published if s > seq}
        self._update_drained()
        self._wake.set()

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
                self._send_due(link)
            except OutboxError as exc:
                # Nothing is lost (the outbox rolled back); try again shortly.
                log.error("%s: %s", self.device, exc)
                await asyncio.sleep(1.0)
                continue
            await self._sleep(self.resend.next_in(self._clock()))

    async def _announce(self, link: MqttLink) -> None:
        """A new connection: say online, learn where the server stands, resend all that waits."""
        connection = link.connects
        online = DeviceStatus(self.device, DeviceState.ONLINE).to_payload()
        try:
            async with asyncio.timeout(ANNOUNCE_TIMEOUT_S):
                await link.publish(self.status_topic, online, qos=1, retain=True)
        except TimeoutError:
            log.warning("%s: the broker did not acknowledge 'online'; trying again", self.device)
            return
        except MqttLinkError as exc:  # refused (an ACL?): its PUBACK still orders the ack before it
            level = logging.INFO if self._note_refusal(self.status_topic, exc) else logging.ERROR
            log.log(level, "%s: could not say online: %s", self.device, exc)
        # The retained ack, if the server ever stored anything from this device, came in before
        # that PUBACK. The receiver handles a message in the step that dequeues it, so yielding
        # until the queue is empty means every ack that arrived has been taken.
        for _ in range(_MAX_YIELDS):
            if not link.pending_messages():
                break
            await asyncio.sleep(0)
        if not self.outbox.synced:
            self.outbox.mark_synced()  # no ack: the server has nothing from this device
        if self._profile_sync is not None:  # the retained profile, if any, came in too
            payload = self._profile_sync.due(connection)
            if payload is not None:
                await self._publish_profile(link, payload)
        self._connection = connection
        self._cursor = 0  # everything waiting goes again (the server ignores duplicates)
        self.resend.clear()

    async def _publish_profile(self, link: MqttLink, payload: bytes) -> None:
        """The person's profile, retained, with the config's zone (see ProfileSync.due)."""
        assert self._profile_sync is not None
        try:
            async with asyncio.timeout(ANNOUNCE_TIMEOUT_S):
                await link.publish(self.profile_topic, payload, qos=1, retain=True)
            self._profile_sync.published()
        except TimeoutError:
            log.warning("%s: the broker did not acknowledge the profile; next connect", self.device)
        except MqttLinkError as exc:
            # Not fatal, unlike a refused window: without the profile the server keeps the
            # zone it had (UTC at first). An account made before profiles existed lacks the
            # grant; `twitchwatch broker-acl` adds it.
            log.error(
                "%s: could not publish the profile (tz) to %s: %s",
                self.device,
                self.profile_topic,
                exc,
            )

    def _send_due(self, link: MqttLink) -> None:
        room = self.max_in_flight - len(self._in_flight)
        first_held = self.outbox.first_held
        for seq in self.resend.due(self._clock())[: max(room, 0)]:
            self.resend.forget(seq)
            message = self.outbox.message(seq)
            if message is not None:
                self._publish(link, message, first_held)
                room -= 1
        if room <= 0:
            return
        for message in self.outbox.pending(room, after=self._cursor):
            self._cursor = message.seq
            if message.seq in self._in_flight:
                continue  # paho still holds it and re-sends it itself
            self._publish(link, message, first_held)

    def _publish(self, link: MqttLink, message: WindowMessage, first_held: int) -> None:
        message = dataclasses.replace(message, first_held=min(first_held, message.seq))
        future = link.publish_nowait(self.windows_topic, message.to_payload(), qos=1)
        seq = message.seq
        if seq in self._published:
            self._resent += 1
        else:
            self._published.add(seq)
            self._sent += 1
        self._in_flight[seq] = future
        self.resend.forget(seq)
        future.add_done_callback(partial(self._on_puback, seq))

    def _on_puback(self, seq: int, future: asyncio.Future[None]) -> None:
        if self._in_flight.get(seq) is future:
            del self._in_flight[seq]
        if future.cancelled():
            return
        exc = future.exception()
        if self._link is None:  # stopping: the outbox keeps it for the next run
            return
        if exc is not None:
            self._refused += 1
            level = logging.INFO if self._note_refusal(self.windows_topic, exc) else logging.WARNING
            log.log(level, "%s: window %d not accepted by the broker: %s", self.device, seq, exc)
        if seq > self._acked_seq:  # not yet stored: the resend schedule watches it
            self.resend.broker_has(seq, self._clock())
        self._wake.set()

    def _note_refusal(self, topic: str, exc: BaseException) -> bool:
        """Remember an ACL refusal (the owner reports it as BrokerState.NOT_AUTHORIZED)."""
        if isinstance(exc, PublishRefusedError) and exc.code == NOT_AUTHORIZED:
            self.denied_topic = self.denied_topic or topic
            return True
        return False

    async def _sleep(self, timeout_s: float | None) -> None:
        """Until woken (new window, ack, PUBACK, connect) or ``timeout_s`` passes."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._wake.wait()
