"""MqttLink: one MQTT connection kept up by paho, used from asyncio. With
:mod:`twitchwatch.mqtt_link.paho_client` (which sets the client up) and
:mod:`twitchwatch.mqtt_link.paho_callbacks` (paho's callbacks), the only paho importer.

paho runs its own network thread (``loop_start``), which connects, reconnects with backoff and
re-sends unacknowledged QoS 1 messages. Its callbacks only hand things to the asyncio loop with
``call_soon_threadsafe``; nothing else crosses threads, except the receive window
(:mod:`twitchwatch.mqtt_link.flow`), which stops that thread reading the socket while the
consumer is behind. Never hold a lock around a paho call that a callback could also wait on: paho
calls ``on_publish`` while holding its own outgoing-message lock.

The link holds the options and the lifecycle, publishes and receives; what it knows of the
connection is :mod:`.connection`'s, the messages awaiting PUBACK are :mod:`.pubacks`'.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from types import TracebackType
from typing import Self

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from twitchwatch.errors import PublishNotQueuedError, SessionTakenOverError
from twitchwatch.mqtt_link.connection import SHORT_LIVED_IN_A_ROW, ConnectionState
from twitchwatch.mqtt_link.flow import ReceiveLimits, ReceiveWindow
from twitchwatch.mqtt_link.inbox import Inbox
from twitchwatch.mqtt_link.message import Message
from twitchwatch.mqtt_link.paho_callbacks import LoopHandlers, PahoCallbacks
from twitchwatch.mqtt_link.paho_client import (
    PausingClient,
    Session,
    make_client,
)
from twitchwatch.mqtt_link.pubacks import Pubacks
from twitchwatch.mqtt_link.refusal import ConnectRefusal
from twitchwatch.mqtt_link.url import BrokerUrl, Protocol, Will

log = logging.getLogger(__name__)

#: Keep-alive: a dead link is noticed within 1.5x this.
KEEPALIVE_S = 30
CONNECT_TIMEOUT_S = 10.0
DEFAULT_RECEIVE_LIMITS = ReceiveLimits()


class MqttLink:
    """One MQTT connection, kept up by paho; publish, receive and acknowledge from asyncio.

    Parameters
    ----------
    broker : BrokerUrl
    client_id : str
        Fixed for a persistent session (the server); anything unique otherwise.
    protocol : Protocol
        MQTT 5 by default; 3.1.1 accepted (no session expiry, no reason codes on PUBACK).
    session_expiry_s : int or None
        None: a clean session on every connect. A number: resume the session (clean start off)
        and let the broker keep it, with queued QoS 1 messages, this long after a disconnect.
    manual_ack : bool
        Received QoS 1 messages are acknowledged only by :meth:`ack` (after they are stored).
    receive_maximum : int
        MQTT 5 flow control: at most this many unacknowledged messages in flight to us.
    receive_limits : ReceiveLimits
        The largest packet the broker may send us (MQTT 5), and how many received messages (and
        bytes) may wait for the consumer before the link stops reading its socket.
    """

    def __init__(
        self,
        broker: BrokerUrl,
        *,
        client_id: str,
        protocol: Protocol = Protocol.MQTT5,
        subscriptions: Sequence[tuple[str, int]] = (),
        session_expiry_s: int | None = None,
        manual_ack: bool = False,
        will: Will | None = None,
        receive_maximum: int = 100,
        receive_limits: ReceiveLimits = DEFAULT_RECEIVE_LIMITS,
    ) -> None:
        self.broker, self.client_id, self.protocol = broker, client_id, Protocol(protocol)
        self.subscriptions = list(subscriptions)
        self.session_expiry_s = session_expiry_s
        self.manual_ack = manual_ack
        self._state = ConnectionState()
        self.connected = self._state.connected
        #: Every subscription of the last connect was answered (SUBACK): messages published
        #: from now on reach us. ``connected`` alone does not promise that.
        self.subscribed = self._state.subscribed
        #: Called in the loop after each connect, with session_present.
        self.on_connected: Callable[[bool], None] | None = None
        self.receive_limits = receive_limits
        #: Received messages not yet taken by the consumer (paho stops reading when it is full).
        self.receive_window = ReceiveWindow(receive_limits)
        self._loop = asyncio.get_running_loop()
        self._inbox = Inbox(str(broker), self.receive_window)
        self._pubacks = Pubacks()
        self._started = False
        self._client = self._make_client(will, receive_maximum)

    @property
    def connects(self) -> int:
        """Successful connections so far."""
        return self._state.connects

    @property
    def session_present(self) -> bool:
        """Whether the broker kept our session, on the last connect."""
        return self._state.session_present

    @property
    def refusal(self) -> ConnectRefusal | None:
        """The broker's last refusal of CONNECT; None once a connection is accepted."""
        return self._state.refusal

    @property
    def connect_failures(self) -> int:
        """Attempts in a row that reached no broker (refused TCP, no route, TLS); 0 once up."""
        return self._state.connect_failures

    @property
    def taken_over(self) -> bool:
        """Another connection took over our session (MQTT 5): the link stopped for good."""
        return self._state.taken_over

    # --- set-up --------------------------------------------------------------------------------

    def _make_client(self, will: Will | None, receive_maximum: int) -> PausingClient:
        session = Session(
            self.protocol,
            self.session_expiry_s,
            self.manual_ack,
            receive_maximum,
            self.receive_limits.packet_bytes,
        )
        setup = make_client(self.broker, self.client_id, session, will, self.receive_window)
        self._clean_start, self._connect_properties = setup.clean_start, setup.properties
        handlers = LoopHandlers(
            socket_opened=self._state.socket_opened,
            refused=self._refuse,
            subscribing=self._state.subscribing,
            connected=self._connected,
            unreachable=self._state.unreachable,
            disconnected=self._disconnected,
            received=self._received,
            published=self._pubacks.answered,
            subacked=self._state.subacked,
        )
        callbacks = PahoCallbacks(
            self._loop, handlers, self.broker, self.subscriptions, self.receive_window
        )
        callbacks.attach(setup.client)
        return setup.client

    def start(self) -> None:
        """Begin connecting in the background; paho keeps retrying until :meth:`close`."""
        if self._started:
            return
        self._started = True
        self._state.taken_over = False
        self._inbox.reopen()
        self._client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=KEEPALIVE_S,
            clean_start=self._clean_start,
            properties=self._connect_properties,
        )
        self._client.loop_start()

    async def wait_connected(self, within_s: float = CONNECT_TIMEOUT_S) -> None:
        """Return once connected; MqttLinkError if the broker refuses, stays unreachable, or
        takes the connection but never answers the MQTT handshake."""
        await self._state.wait_connected(str(self.broker), self.client_id, within_s)

    async def close(self) -> None:
        """Disconnect cleanly (the Will is not sent) and stop paho's thread.

        Message iterators end at once (after what is queued) with LinkLost, ``closed`` set.
        """
        self._inbox.close()
        if not self._started:
            return
        self._started = False
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)
        self._pubacks.fail_all(str(self.broker))

    async def __aenter__(self) -> Self:
        self.start()
        try:
            await self.wait_connected()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def drop_connection(self) -> None:
        """Cut the TCP connection without a DISCONNECT (tests: the broker sends the Will)."""
        sock = self._client.socket()
        if sock is not None:
            sock.close()

    # --- publish -------------------------------------------------------------------------------

    def publish_nowait(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        expiry_s: int | None = None,
    ) -> asyncio.Future[None]:
        """Queue a message; the future resolves on PUBACK (QoS 1) or once written (QoS 0).

        While disconnected, paho keeps QoS 1 messages and sends them after reconnecting.
        """
        properties = None
        if expiry_s is not None and self.protocol is Protocol.MQTT5:
            properties = Properties(PacketTypes.PUBLISH)
            properties.MessageExpiryInterval = expiry_s
        info = self._client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        future: asyncio.Future[None] = self._loop.create_future()
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            future.set_exception(PublishNotQueuedError(topic, paho.error_string(info.rc)))
        elif info.rc is MQTTErrorCode.MQTT_ERR_NO_CONN and qos == 0:
            future.set_exception(PublishNotQueuedError(topic, "not connected"))
        else:
            # on_publish reaches the loop through call_soon_threadsafe, so it runs after this.
            self._pubacks.track(info.mid, future)
        return future

    async def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        expiry_s: int | None = None,
    ) -> None:
        """Publish and wait for the broker's acknowledgement (MqttLinkError if it refuses)."""
        await self.publish_nowait(topic, payload, qos=qos, retain=retain, expiry_s=expiry_s)

    # --- receive -------------------------------------------------------------------------------

    def messages(self) -> AsyncIterator[Message]:
        """Received messages, as aiomqtt's iterator: what is queued first, then what arrives.

        Once nothing is queued and the connection that was up when iteration began is gone, it
        ends with :class:`LinkLost`: ``closed`` after :meth:`close` (which wakes a waiting
        iterator), else the connection dropped and paho is reconnecting. Iterate again once
        ``connected`` is set, or use :meth:`messages_across_reconnects`.
        """
        return self._inbox.messages()

    def messages_across_reconnects(self) -> AsyncIterator[Message]:
        """Every received message: waits out each lost connection, ends when the link is closed."""
        return self._inbox.messages_across_reconnects()

    def pending_messages(self) -> int:
        return len(self._inbox)

    def ack(self, message: Message) -> None:
        """Acknowledge a QoS 1 message received with ``manual_ack`` (after storing it).

        A message from an earlier connection is not acknowledged: its ``mid`` may name another
        message on this one, and the broker delivers it again anyway (QoS 1 redelivery).
        """
        if not self.manual_ack or message.qos == 0:
            return
        if message.connection != self.connects or not self.connected.is_set():
            log.debug(
                "not acknowledging %s mid %d: its connection is gone", message.topic, message.mid
            )
            return
        self._client.ack(message.mid, message.qos)

    # --- paho's events, in the loop (the rest go straight to the connection state) ------------

    def _connected(self, session_present: bool) -> None:
        self._state.accepted(session_present)
        self._inbox.connected(self.connects)
        log.info(
            "connected to %s as %s (session present: %s)",
            self.broker,
            self.client_id,
            session_present,
        )
        if self.on_connected is not None:
            self.on_connected(session_present)

    def _refuse(self, refusal: ConnectRefusal) -> None:
        if self.refusal != refusal:  # paho retries: say it once, not on every attempt
            # A first refusal reaches the caller as ConnectRefusedError or the publisher's state;
            # one after a working connection (a rotated password) only shows here.
            level = logging.ERROR if self.connects else logging.INFO
            log.log(level, "broker %s refused %s: %s", self.broker, self.client_id, refusal.reason)
        self._state.refused(refusal)

    def _disconnected(self, reason: str, taken_over: bool = False) -> None:
        if taken_over and self._started:
            # Reconnecting would take the session back, and the other connection would take it
            # again, for ever: stop, and say why.
            failure = SessionTakenOverError(str(self.broker), self.client_id)
            log.error("%s", failure)
            self._state.taken_over = True
            self._client.disconnect()  # paho's thread stops reconnecting
            self._inbox.close(failure)
        elif self.connected.is_set() and self._started:
            log.warning("lost the connection to %s (%s); reconnecting", self.broker, reason)
            if self._state.closed_soon_after_accepting():
                log.error(
                    "broker %s closed the connection of client id %r right after accepting it, "
                    "%d times in a row: is another client logged in with the same client id (the "
                    "same account, where the broker binds them)? Run one client per account",
                    self.broker,
                    self.client_id,
                    SHORT_LIVED_IN_A_ROW,
                )
        self._state.lost()
        self._inbox.lost(reason)

    def _received(
        self, topic: str, payload: bytes, qos: int, retain: bool, dup: bool, mid: int
    ) -> None:
        # paho calls on_connect before the messages of that connection, and each callback
        # reaches the loop in order, so ``connects`` here is the connection this arrived on.
        self._inbox.put(Message(topic, payload, qos, retain, dup, mid, self.connects))
