"""The server's publishing: retained state (latest wins) and alert events, marked once acked.

Retained state is each device's ack, each alert's state and the server's own status (online,
with its time, every ``status_every_s``: edges check their clocks against it). After a crash or
a lost session it is all published again from the store; sharing the load, each device's ack
is published once more from the store once it has settled (server/ack_settle.py).

A mixin of :class:`server.service.Server`, which owns the link, the store and the database
thread; kept apart so the service module stays about its loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

from server.ack_settle import AckSettling
from server.db_thread import StopRequested
from server.evaluate import AlertChanges
from server.service_options import ServerOptions, ServerStats
from server.store import Store
from twitchwatch.contract import (
    SERVER_STATUS_TOPIC,
    AlertEvent,
    AlertState,
    DeviceAck,
    DeviceState,
    ServerStatus,
    TopicKind,
    alert_events_topic,
    alert_topic,
    device_topic,
)
from twitchwatch.mqtt_link import MqttLink

log = logging.getLogger("server.service")  # one logger for the server's lines, as before


class RetainedPublishing:
    """Publishing for the server; the attributes below are the server's."""

    options: ServerOptions
    stats: ServerStats
    clock: Callable[[], datetime]
    _link: MqttLink | None
    _store: Store | None
    _settling: AckSettling
    _tasks: set[asyncio.Task[None]]
    _inflight: set[asyncio.Future[None]]
    _newer: dict[str, tuple[bytes, int | None] | None]
    _db: Callable[..., Awaitable[Any]]

    def _say(self, state: DeviceState) -> None:
        """The server's retained status with its time (its Last Will says offline, no time)."""
        status = ServerStatus(state, at=self.clock())
        self._publish_retained(SERVER_STATUS_TOPIC, status.to_payload(), None)

    async def _say_online_forever(self) -> None:
        """Online again, with the time, every ``status_every_s``: edges check their clocks."""
        while True:
            await asyncio.sleep(self.options.status_every_s)
            if self._link is not None and self._link.connected.is_set():
                self._say(DeviceState.ONLINE)

    async def _republish_retained(self) -> None:
        """Acks of devices heard from within ``ack_expiry_s``, expiring that long after their
        last window (a vanished device's ack is left to expire), and every alert state."""
        assert self._store is not None
        now = self.clock()
        expiry = timedelta(seconds=self.options.ack_expiry_s)
        for ack, last in await self._db(self._store.recent_device_acks, now - expiry):
            left_s = max(1, int((last + expiry - now).total_seconds()))
            self._publish_ack(ack.user, ack.device, ack.acked_seq, left_s)
        for record in await self._db(self._store.all_alerts):
            self._publish_state(record.user, record.state())

    async def _settle_acks_forever(self) -> None:
        """Sharing the load: each device's ack once more from the store, once it has settled
        (server/ack_settle.py): the retained ack ends on the newest seq whoever stored it."""
        assert self._store is not None
        while True:
            wait_s = self._settling.next_in(time.monotonic())
            await asyncio.sleep(self._settling.settle_s if wait_s is None else wait_s)
            due = self._settling.due(time.monotonic())
            if not due:
                continue
            try:
                acks = await self._db(self._store.device_acks_of, due)
            except StopRequested:
                return
            if self._link is not None:
                for ack in acks:
                    self._publish_ack(ack.user, ack.device, ack.acked_seq)

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
