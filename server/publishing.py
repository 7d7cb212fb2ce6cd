"""The server's publishing: retained state (latest wins) and alert events, marked once acked.

A mixin of :class:`server.service.Server`, which owns the link, the store and the database
thread; kept apart so the service module stays about its loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from server.evaluate import AlertChanges
from server.store import Store
from twitchwatch.contract import (
    AlertEvent,
    AlertState,
    DeviceAck,
    TopicKind,
    alert_events_topic,
    alert_topic,
    device_topic,
)
from twitchwatch.mqtt_link import MqttLink

if TYPE_CHECKING:
    from server.service import ServerOptions, ServerStats

log = logging.getLogger("server.service")  # one logger for the server's lines, as before


class StopRequested(Exception):
    """Stop was requested while waiting for the database."""


class RetainedPublishing:
    """Publishing for the server; the attributes below are the server's."""

    options: ServerOptions
    stats: ServerStats
    _link: MqttLink | None
    _store: Store | None
    _tasks: set[asyncio.Task[None]]
    _inflight: set[asyncio.Future[None]]
    _newer: dict[str, tuple[bytes, int | None] | None]
    _db: Callable[..., Awaitable[Any]]

    def _publish_ack(self, user: str, device: str, seq: int, expiry_s: int | None = None) -> None:
        topic = device_topic(user, device, TopicKind.ACK)
        expiry_s = self.options.ack_expiry_s if expiry_s is None else expiry_s
        self._publish_retained(topic, DeviceAck(device, seq).to_payload(), expiry_s)
        self.stats.device_acks += 1

    def _publish_state(self, user: str, state: AlertState) -> None:
        topic = alert_topic(user, state.rule, state.scope)
        self._publish_retained(topic, state.to_payload(), self.options.alert_expiry_s)
        self.stats.alert_states += 1

    def _publish_retained(self, topic: str, payload: bytes, expiry_s: int | None) -> None:
        """Publish retained state, latest wins.

        One publish per topic awaits its PUBACK at a time, and only the newest payload that
        came meanwhile follows it: a device's ack moves with every batch, and under load
        publishing each one would only queue stale ones.
        """
        if topic in self._newer:
            self._newer[topic] = (payload, expiry_s)
            return
        assert self._link is not None
        self._newer[topic] = None
        future = self._link.publish_nowait(topic, payload, retain=True, expiry_s=expiry_s)

        def done(f: asyncio.Future[None]) -> None:
            self._inflight.discard(f)
            if not f.cancelled() and (exc := f.exception()) is not None:
                log.warning("publish to %s failed: %s", topic, exc)
            newer = self._newer.pop(topic, None)
            if newer is not None and self._link is not None:
                self._publish_retained(topic, *newer)

        self._inflight.add(future)
        future.add_done_callback(done)

    def _publish_changes(self, change: AlertChanges) -> None:
        for state in change.states:
            self._publish_state(change.user, state)
        self._publish_events(change.user, change.events)

    def _publish_events(self, user: str, events: Sequence[AlertEvent]) -> None:
        """Publish transitions; once the broker has them all, mark them published in the store."""
        if not events:
            return
        assert self._link is not None
        topic = alert_events_topic(user)
        futures = [
            self._link.publish_nowait(topic, e.to_payload(), expiry_s=self.options.alert_expiry_s)
            for e in events
        ]
        self.stats.alert_events += len(events)
        self._spawn(self._mark_published(user, events, futures))

    async def _mark_published(
        self, user: str, events: Sequence[AlertEvent], futures: Sequence[asyncio.Future[None]]
    ) -> None:
        results = await asyncio.gather(*futures, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            log.warning(
                "alert events for %s not acknowledged (%s); republished at the next start",
                user,
                failed[0],
            )
            return
        assert self._store is not None
        # Stopped first: republished at the next start, and subscribers dedupe by version.
        with contextlib.suppress(StopRequested):
            await self._db(self._store.mark_published, user, events)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
