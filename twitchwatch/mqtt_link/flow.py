"""Back-pressure for received messages: stop reading from the socket, never drop.

A link hands every received message to its consumer through the inbox. A consumer slower than
the broker (a server behind a burst, a database retrying) must not make that inbox grow without
bound, and a message must never be thrown away to bound it. So the link counts what it has
received and not yet handed out (messages and payload bytes, across paho's thread and the event
loop) and, above a limit, paho's network thread stops reading the socket: TCP flow control then
holds the broker, which keeps what it has not sent in its own queue (persisted, for a persistent
session). MQTT 5's Receive Maximum alone does not bound it: it does not cover QoS 0 or messages
paho acknowledges itself, and Mosquitto 2.0.11 overshoots it (eclipse-mosquitto/mosquitto#2301).

Reading resumes as soon as the consumer takes messages. While it stays paused, paho still
writes (acks, publishes, keep-alive pings); a pause longer than the keep-alive makes paho drop
the connection for want of a PINGRESP, and the broker then redelivers what was not acknowledged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: Received and not yet taken by the consumer: the server takes up to 500 per batch, so this
#: keeps two batches ready while bounding memory to a few MB of ordinary messages.
MAX_WAITING_MESSAGES = 1_000
#: The same in payload bytes (the packet size limit below bounds a single message).
MAX_WAITING_BYTES = 16 * 1024 * 1024
#: MQTT 5 Maximum Packet Size, sent on every CONNECT: the broker must not send us anything
#: larger (Mosquitto drops such a message for this client). The contract caps a payload at
#: 16 KB and the deployed broker refuses more than 64 KB; a broker without a limit would
#: otherwise hand us whatever anyone published (a 100 MB payload costs the server 300 MB).
MAX_PACKET_BYTES = 256 * 1024
#: The largest Maximum Packet Size MQTT can say (a four-byte variable byte integer).
MQTT_PACKET_LIMIT = 268_435_455


@dataclass(frozen=True, slots=True)
class ReceiveLimits:
    """How much a link takes in: the largest packet, and when it stops reading its socket
    (received messages not yet taken by the consumer, or their bytes, reach these)."""

    messages: int = MAX_WAITING_MESSAGES
    bytes: int = MAX_WAITING_BYTES
    packet_bytes: int = MAX_PACKET_BYTES

    def __post_init__(self) -> None:
        if min(self.messages, self.bytes, self.packet_bytes) < 1:
            raise ValueError(f"receive limits must be >= 1, got {self}")
        if self.packet_bytes > MQTT_PACKET_LIMIT:
            raise ValueError(f"packet_bytes must be <= {MQTT_PACKET_LIMIT:,} (MQTT's limit)")


class ReceiveWindow:
    """What has been received and not yet taken; thread-safe (paho's thread and the loop).

    paho's thread calls :meth:`received` for each message and :meth:`wait_for_room` before each
    socket read; the loop calls :meth:`taken` as the consumer takes each message.
    """

    def __init__(self, limits: ReceiveLimits = ReceiveLimits()) -> None:
        self.limits = limits
        self._room = threading.Condition()
        self._messages = 0
        self._bytes = 0
        #: The most messages ever waiting at once (tests and benches read it).
        self.peak_messages = 0
        self.pauses = 0  # times reading stopped for want of room
        self._paused = False

    @property
    def waiting(self) -> tuple[int, int]:
        """(messages, bytes) received and not yet taken."""
        with self._room:
            return self._messages, self._bytes

    def _full(self) -> bool:
        return self._messages >= self.limits.messages or self._bytes >= self.limits.bytes

    def received(self, size: int) -> None:
        with self._room:
            self._messages += 1
            self._bytes += size
            self.peak_messages = max(self.peak_messages, self._messages)

    def taken(self, size: int) -> None:
        with self._room:
            self._messages = max(0, self._messages - 1)
            self._bytes = max(0, self._bytes - size)
            if not self._full():
                self._room.notify_all()

    def reset(self) -> None:
        """Nothing is waiting any more (the link closed: its inbox is gone)."""
        with self._room:
            self._messages = self._bytes = 0
            self._room.notify_all()

    def wait_for_room(self, timeout_s: float) -> bool:
        """True at once if the consumer keeps up; else wait up to ``timeout_s`` for it."""
        with self._room:
            if not self._full():
                self._paused = False
                return True
            if not self._paused:
                self._paused = True
                self.pauses += 1
            return self._room.wait_for(lambda: not self._full(), timeout_s)
