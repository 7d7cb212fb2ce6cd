"""What a link has received, and the iterators that hand it out.

Everything here runs in the event loop: the link feeds the inbox from paho's callbacks (through
``call_soon_threadsafe``) in the order paho saw them, so a message always follows the connect of
the connection it arrived on.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from twitchwatch.errors import LinkLost, MqttLinkError
from twitchwatch.mqtt_link.flow import ReceiveWindow
from twitchwatch.mqtt_link.message import Message

#: ``LinkLost.reason`` before the first connection.
NOT_CONNECTED_YET = "not connected yet"
#: ``LinkLost.reason`` once the link is closed.
CLOSED = "close() was called"


class Inbox:
    """Received messages in arrival order, and the connection they are arriving on."""

    def __init__(self, broker: str, window: ReceiveWindow | None = None) -> None:
        self._broker = broker
        self._window = window or ReceiveWindow()  # told each time a message is taken
        self._queue: deque[Message] = deque()
        self._changed = asyncio.Event()  # a message, a connect, a disconnect or the close
        self._connection = 0  # the connection now up (numbered from 1); 0 while down
        self._lost_reason = NOT_CONNECTED_YET
        self._closed = False
        self._failure: MqttLinkError | None = None  # why the link ended for good, if it did

    def __len__(self) -> int:
        return len(self._queue)

    # --- fed by the link -----------------------------------------------------------------------

    def put(self, message: Message) -> None:
        self._queue.append(message)
        self._changed.set()

    def connected(self, connection: int) -> None:
        self._connection = connection
        self._changed.set()

    def lost(self, reason: str) -> None:
        self._connection, self._lost_reason = 0, reason
        self._changed.set()

    def close(self, failure: MqttLinkError | None = None) -> None:
        """No more messages will come; with ``failure``, iterators end by raising it."""
        self._closed = True
        self._failure = self._failure or failure
        self._changed.set()

    def reopen(self) -> None:
        self._closed, self._failure = False, None
        self._window.reset()

    def _take(self) -> Message:
        message = self._queue.popleft()
        self._window.taken(len(message.payload))
        return message

    # --- read by the link's users --------------------------------------------------------------

    async def messages(self) -> AsyncIterator[Message]:
        """What was received, then what arrives on the connection that is up now.

        Once nothing is queued and that connection is gone, ends with LinkLost (``closed`` if the
        link was closed), or with the error that ended the link for good (a session taken over).
        Started while no connection is up, it raises at once when the queue is empty.
        """
        connection = self._connection
        while True:
            if self._queue:
                yield self._take()
                continue
            if self._failure is not None:
                raise self._failure
            if self._closed:
                raise LinkLost(self._broker, CLOSED, closed=True)
            if connection == 0 or self._connection != connection:
                raise LinkLost(self._broker, self._lost_reason, closed=False)
            self._changed.clear()
            await self._changed.wait()

    async def messages_across_reconnects(self) -> AsyncIterator[Message]:
        """Every message: each time a connection is lost, wait for the next one; end on close
        (or raise what ended the link for good)."""
        while True:
            try:
                async for message in self.messages():
                    yield message
            except LinkLost as lost:
                if lost.closed:
                    return
            while not (self._connection or self._closed):
                self._changed.clear()
                await self._changed.wait()
