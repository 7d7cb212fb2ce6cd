"""What an :class:`MqttLink` knows of its connection, kept in the loop from paho's reports.

Connected or not, refused, unreachable, taken over by another connection, and whether the
subscriptions of the last connect were answered; :meth:`ConnectionState.wait_connected` turns
that into a connection or a typed error. The link's handlers change it, in the loop only.
"""

from __future__ import annotations

import asyncio
import time

from twitchwatch.errors import (
    BrokerHandshakeError,
    BrokerUnreachableError,
    ConnectRefusedError,
    SessionTakenOverError,
)
from twitchwatch.mqtt_link.refusal import ConnectRefusal

#: DISCONNECT reason code from the broker: another connection took our client id's session.
SESSION_TAKEN_OVER = 0x8E
#: Mosquitto 2.0.11 closes a taken-over connection without that DISCONNECT, and two clients with
#: one client id then take the session from each other at every reconnect. Connections closed
#: this soon after they were accepted, this many times in a row, are said to be that, once.
SHORT_LIVED_S, SHORT_LIVED_IN_A_ROW = 3.0, 3


class ConnectionState:
    """The connection's state as the link's loop-side handlers last set it."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        #: Every subscription of the last connect was answered (SUBACK): messages published
        #: from now on reach us. ``connected`` alone does not promise that.
        self.subscribed = asyncio.Event()
        self.connects = 0  # successful connections so far
        self.session_present = False  # on the last connect
        #: The broker's last refusal of CONNECT; None once a connection is accepted.
        self.refusal: ConnectRefusal | None = None
        #: Attempts in a row that reached no broker (refused TCP, no route, TLS); 0 once connected.
        self.connect_failures = 0
        #: Another connection took over our session (MQTT 5): the link stopped for good.
        self.taken_over = False
        self.changed = asyncio.Event()  # any connect, refusal or disconnect
        self._unacked_subscriptions: set[int] = set()
        self._socket_opened_at: float | None = None  # TCP (and TLS) up, CONNACK not yet in
        self._connected_at = 0.0
        self._short_lived = 0  # connections in a row the broker closed right after accepting

    async def wait_connected(self, broker: str, client_id: str, within_s: float) -> None:
        """Return once connected; MqttLinkError if the broker refuses, stays unreachable, or
        takes the connection but never answers the MQTT handshake."""
        try:
            async with asyncio.timeout(within_s):
                while not self.connected.is_set():
                    if self.refusal is not None:
                        raise ConnectRefusedError(broker, self.refusal.code, self.refusal.reason)
                    if self.taken_over:
                        raise SessionTakenOverError(broker, client_id)
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            if self._socket_opened_at is not None:
                raise BrokerHandshakeError(broker, within_s) from None
            raise BrokerUnreachableError(broker, within_s) from None

    def subscribing(self, mids: list[int]) -> None:
        """A connect sent these SUBSCRIBEs (none: a resumed session keeps its subscriptions)."""
        self._unacked_subscriptions = set(mids)
        if not mids:
            self.subscribed.set()

    def subacked(self, mid: int) -> None:
        self._unacked_subscriptions.discard(mid)
        if not self._unacked_subscriptions:
            self.subscribed.set()

    def socket_opened(self, at: float) -> None:
        self._socket_opened_at = at

    def accepted(self, session_present: bool) -> None:
        """The broker accepted a CONNECT."""
        self.refusal = None
        self._socket_opened_at = None
        self._connected_at = time.monotonic()
        self.connect_failures = 0
        self.connects += 1
        self.session_present = session_present
        self.connected.set()
        self.changed.set()

    def refused(self, refusal: ConnectRefusal) -> None:
        self.refusal = refusal
        self.changed.set()

    def unreachable(self) -> None:
        self.connect_failures += 1
        self.changed.set()

    def lost(self) -> None:
        """The connection is gone (or never came up)."""
        self.connected.clear()
        self.subscribed.clear()
        self.changed.set()

    def closed_soon_after_accepting(self) -> bool:
        """Note how long the connection that just dropped lived: True when it is the
        :data:`SHORT_LIVED_IN_A_ROW`-th in a row closed within :data:`SHORT_LIVED_S`."""
        lived_s = time.monotonic() - self._connected_at
        self._short_lived = self._short_lived + 1 if lived_s < SHORT_LIVED_S else 0
        return self._short_lived == SHORT_LIVED_IN_A_ROW
