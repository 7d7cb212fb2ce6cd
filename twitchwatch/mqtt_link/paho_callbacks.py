"""paho's callbacks for an :class:`MqttLink`, run in paho's network thread.

Each hands its event to the loop with ``call_soon_threadsafe`` and does nothing else: no
parsing, no state, no locks (paho calls ``on_publish`` holding its own outgoing-message lock).
The one exception is the receive window's count, which must stop paho reading at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode

from twitchwatch.mqtt_link.connection import SESSION_TAKEN_OVER
from twitchwatch.mqtt_link.flow import ReceiveWindow
from twitchwatch.mqtt_link.refusal import ConnectRefusal
from twitchwatch.mqtt_link.url import BrokerUrl

log = logging.getLogger("twitchwatch.mqtt_link.link")  # the link's lines under one name, as before


@dataclass(frozen=True, slots=True)
class LoopHandlers:
    """What the link does with each paho event, in the loop."""

    socket_opened: Callable[[float], None]  # monotonic time the TCP (and TLS) came up
    refused: Callable[[ConnectRefusal], None]
    subscribing: Callable[[list[int]], None]  # mids of the SUBSCRIBEs a connect sent
    connected: Callable[[bool], None]  # session_present
    unreachable: Callable[[], None]
    disconnected: Callable[[str, bool], None]  # reason, taken over
    received: Callable[[str, bytes, int, bool, bool, int], None]  # topic .. mid
    published: Callable[[int, int, str, bool], None]  # mid, reason code, reason, failed
    subacked: Callable[[int], None]


class PahoCallbacks:
    """The callbacks :meth:`attach` sets on a paho client, each handing over to the loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        handlers: LoopHandlers,
        broker: BrokerUrl,
        subscriptions: Sequence[tuple[str, int]],
        receive_window: ReceiveWindow,
    ) -> None:
        self._loop, self._handlers, self._broker = loop, handlers, broker
        self._subscriptions, self._receive_window = subscriptions, receive_window

    def attach(self, client: paho.Client) -> None:
        """Set these callbacks on ``client``."""
        client.on_socket_open = self._on_socket_open
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        if reason.is_failure:
            refusal = ConnectRefusal(int(reason.value), str(reason))
            self._loop.call_soon_threadsafe(self._handlers.refused, refusal)
            return
        mids = []
        for topic, qos in self._subscriptions:  # a new session has none; an old one keeps them
            mids.append(client.subscribe(topic, qos)[1])
        self._loop.call_soon_threadsafe(self._handlers.subscribing, mids)
        self._loop.call_soon_threadsafe(self._handlers.connected, bool(flags.session_present))

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        taken_over = reason.value == SESSION_TAKEN_OVER  # only ever from the broker's DISCONNECT
        self._loop.call_soon_threadsafe(self._handlers.disconnected, str(reason), taken_over)

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._loop.call_soon_threadsafe(self._handlers.socket_opened, time.monotonic())

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        self._loop.call_soon_threadsafe(self._handlers.unreachable)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self._receive_window.received(len(message.payload))  # counted in paho's thread, at once
        self._loop.call_soon_threadsafe(
            self._handlers.received,
            message.topic,
            bytes(message.payload),
            message.qos,
            bool(message.retain),
            bool(message.dup),
            message.mid,
        )

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        self._loop.call_soon_threadsafe(
            self._handlers.published, mid, int(reason.value), str(reason), reason.is_failure
        )

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Any,
    ) -> None:
        for reason in reasons:
            if reason.is_failure:
                log.error("broker %s refused a subscription: %s", self._broker, reason)
        self._loop.call_soon_threadsafe(self._handlers.subacked, mid)
