"""Published messages waiting for the broker's answer, by paho ``mid``, for :class:`MqttLink`.

Each is a future that resolves on PUBACK (or once written, at QoS 0), and fails if the broker
refuses the message or the link is closed first. Used in the loop only.
"""

from __future__ import annotations

import asyncio

from twitchwatch.errors import LinkLost, PublishRefusedError


class Pubacks:
    """Futures of published messages by ``mid``; each entry leaves once it is answered."""

    def __init__(self) -> None:
        self._futures: dict[int, asyncio.Future[None]] = {}

    def track(self, mid: int, future: asyncio.Future[None]) -> None:
        """Resolve ``future`` when the broker answers message ``mid``."""
        self._futures[mid] = future

    def answered(self, mid: int, code: int, reason: str, failed: bool) -> None:
        """The broker acknowledged (or, ``failed``, refused) message ``mid``."""
        future = self._futures.pop(mid, None)
        if future is None or future.done():
            return
        if failed:
            future.set_exception(PublishRefusedError(code, reason))
        else:
            future.set_result(None)

    def fail_all(self, broker: str) -> None:
        """The link is closing: every message not yet answered fails with LinkLost (closed)."""
        for future in self._futures.values():
            if not future.done():
                future.set_exception(
                    LinkLost(broker, "before the broker acknowledged", closed=True)
                )
        self._futures.clear()
