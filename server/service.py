"""The server as an MQTT service: receive, store exactly once, ack, evaluate, publish alerts.

One loop, in this order per batch, so that a crash at any point loses nothing and counts nothing
twice:

1. take every message that has arrived (up to ``batch_max``), validate it and store the batch in
   ONE transaction, then commit;
2. acknowledge each message to the broker (``manual_ack``: until now the broker would redeliver
   it, and the store ignores what it already has);
3. publish each moved device's retained DeviceAck (the edge deletes windows up to it);
4. evaluate the rules for the users whose data changed and publish each changed alert's retained
   state and each new transition. Users stay marked in the store until evaluated, and
   transitions until the broker acknowledged them, so both resume after a restart.

Between batches, users are evaluated in time slices, reporters first, so acks never wait for a
thousand users' evaluations; every user with an open alert is also evaluated on the wall clock,
every ``tick_s`` and once at start, data or not (server/evaluation_rounds.py). Retained state and
alert events are published by server/publishing.py. The server's own retained status
(``twitchwatch/v1/_server/status``: online, and offline from its Last Will or a clean stop)
tells Home Assistant whether the alerts it shows are still being evaluated; the Will waits
``will_delay_s`` (MQTT 5 Will Delay Interval, as the edge's), so a reconnect or a restart by
systemd within it never shows the alerts as unavailable.

The store is called on one dedicated thread (server/db_thread.py), so the event loop never
stalls on it. A transient database error leaves the batch unacknowledged and is retried with
backoff; a bad message is rejected and counted, never retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from server.ack_settle import AckSettling
from server.db_thread import DatabaseThread, StopRequested
from server.errors import SessionIdError
from server.evaluation_queue import EvaluationQueue
from server.evaluation_rounds import EvaluationRounds
from server.ingest import BatchOutcome, Ingest
from server.publishing import RetainedPublishing
from server.rules import RuleConfig, load_rule_config
from server.service_options import ServerOptions, ServerStats
from server.store import Outcome, Store, open_store
from server.store.backend import redact
from twitchwatch.contract import (
    SERVER_FILTERS,
    SERVER_STATUS_TOPIC,
    DeviceState,
    ServerStatus,
    TopicKind,
    check_id,
)
from twitchwatch.mqtt_link import BrokerUrl, Message, MqttLink, Protocol, Will

log = logging.getLogger(__name__)
T = TypeVar("T")


#: The client id of a server that logs in without an account (a test or demo broker).
ANONYMOUS_CLIENT_ID = "twitchwatch-server"


def session_client_id(broker: BrokerUrl, client_id: str | None) -> str:
    """The server's MQTT client id: its account's username when it logs in with one.

    The deployed broker replaces every client id by the username (``use_username_as_clientid``)
    so that no other account can take over the server's session; a server asked to use another
    id with an account is refused (SessionIdError), because that id would be a session any
    account could take over on a broker that does not bind them.
    """
    if broker.username is None:
        return client_id or ANONYMOUS_CLIENT_ID
    if client_id is not None and client_id != broker.username:
        raise SessionIdError(client_id, broker.username)
    return broker.username


def _reporters(batch: Sequence[Message]) -> set[str]:
    """The users who sent a report in ``batch``: evaluated before the others."""
    suffix = f"/{TopicKind.REPORTS.value}"
    return {m.topic.split("/")[2] for m in batch if m.topic.endswith(suffix)}


class Server(RetainedPublishing, EvaluationRounds):
    """Consumes TwitchWatch messages from a broker into a store and publishes alerts.

    Parameters
    ----------
    broker_url : str or BrokerUrl
        ``mqtt://host:port`` or ``mqtts://user:password@host:port?ca=…``.
    store_url : str
        ``sqlite:///twitchwatch.db`` or ``postgresql://user@host/dbname``.
    client_id : str or None
        Fixed: the broker keeps this id's session (and queues messages) while the server is down.
        None: the broker username, else ``twitchwatch-server``. With a username it must be the
        username: the deployed broker binds each session to its account
        (``use_username_as_clientid``), so any other id would be a session another account can
        take over. Several processes sharing the load need their own accounts (so their own
        ids) and one ``share_group``.
    share_group : str or None
        Subscribe as ``$share/<group>/…``: the broker splits messages between the processes of
        the group (state is in the shared PostgreSQL database).
    protocol : Protocol
        MQTT 5 (default) or 3.1.1.
    rule_config : RuleConfig or None
        Rule thresholds; None: the defaults.
    clock : callable
        The wall clock (aware UTC datetimes) the tick evaluates at; a test may pass its own.
    """

    def __init__(
        self,
        broker_url: str | BrokerUrl,
        store_url: str,
        *,
        client_id: str | None = None,
        share_group: str | None = None,
        protocol: Protocol = Protocol.MQTT5,
        rule_config: RuleConfig | None = None,
        options: ServerOptions = ServerOptions(),  # frozen: one shared default is safe
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.broker = (
            broker_url if isinstance(broker_url, BrokerUrl) else BrokerUrl.parse(broker_url)
        )
        self.store_url = store_url
        self.client_id = session_client_id(self.broker, client_id)
        self.share_group = None if share_group is None else check_id(share_group, "share group")
        self.protocol = Protocol(protocol)
        self.rule_config = rule_config or load_rule_config(None)
        self.options = options
        self.clock = clock
        self.stats = ServerStats()
        self.ready = asyncio.Event()  # connected, subscribed, startup work done
        self._dirty = EvaluationQueue()
        self._last_evaluation = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: set[asyncio.Future[None]] = set()  # retained publishes not yet acked
        self._newer: dict[str, tuple[bytes, int | None] | None] = {}  # topic -> what follows
        self._settling = AckSettling(options.ack_settle_s)  # sharing the load: acks to settle
        self._link: MqttLink | None = None
        self._store: Store | None = None
        self._database: DatabaseThread | None = None
        self._stop = asyncio.Event()

    @property
    def pending_evaluations(self) -> int:
        """Users whose stored data awaits rule evaluation in this process."""
        return len(self._dirty)

    @property
    def link(self) -> MqttLink | None:
        """The broker connection while serving (None before and after)."""
        return self._link

    @property
    def subscriptions(self) -> list[tuple[str, int]]:
        prefix = f"$share/{self.share_group}/" if self.share_group else ""
        return [(prefix + topic_filter, 1) for topic_filter in SERVER_FILTERS.values()]

    # --- lifecycle ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until ``stop`` is set. StoreError or MqttLinkError if either cannot be reached."""
        self._stop = stop or asyncio.Event()
        with ThreadPoolExecutor(1, thread_name_prefix="twitchwatch-db") as pool:
            self._database = DatabaseThread(pool, self._stop, self.options, self.stats)
            # Open the database first: a wrong URL must fail before the broker keeps a session.
            self._store = await self._db(open_store, self.store_url)
            try:
                await self._serve(Ingest(self._store))
            finally:
                await self._db(self._store.close)

    async def _serve(self, ingest: Ingest) -> None:
        link = MqttLink(
            self.broker,
            client_id=self.client_id,
            protocol=self.protocol,
            subscriptions=self.subscriptions,
            session_expiry_s=self.options.session_expiry_s,
            manual_ack=True,
            receive_maximum=self.options.receive_maximum,
            will=Will(
                SERVER_STATUS_TOPIC,
                ServerStatus(DeviceState.OFFLINE).to_payload(),
                delay_s=self.options.will_delay_s,
            ),
        )
        link.on_connected = self._on_connected
        link.start()
        tasks: list[asyncio.Task[None]] = []
        try:
            await link.wait_connected(self.options.connect_timeout_s)
            self._link = link
            log.info("serving %s -> %s as %s", self.broker, redact(self.store_url), self.client_id)
            self._say(DeviceState.ONLINE)
            await self._startup()
            self.ready.set()
            tasks = [
                asyncio.create_task(self._tick_forever(), name="server wall clock"),
                asyncio.create_task(self._say_online_forever(), name="server status"),
            ]
            if self.share_group:
                tasks.append(asyncio.create_task(self._settle_acks_forever(), name="ack settling"))
            await self._consume(ingest)
        except StopRequested:
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._link is not None and link.connected.is_set():
                self._say(DeviceState.OFFLINE)  # a clean stop; a crash leaves it to the Will
            await self._drain()
            await link.close()

    async def _startup(self) -> None:
        """Finish what a crash may have left undone: retained state, events, evaluations."""
        assert self._store is not None
        await self._republish_retained()  # idempotent: subscribers keep the highest version
        for user, event in await self._db(self._store.unpublished_events):
            self._publish_events(user, [event])
        self._dirty.add(await self._db(self._store.dirty_users))
        while self._dirty:
            await self._evaluate(force=True)
        await self._tick()  # the server may have been down for days: catch up on the clock

    def _on_connected(self, session_present: bool) -> None:
        if self._link is not None:
            self._say(DeviceState.ONLINE)  # after a lost connection the Will said offline
        if not session_present and self.ready.is_set():
            log.warning("the broker lost our session: republishing retained acks and alerts")
            self._spawn(self._republish_retained())

    async def _drain(self) -> None:
        """Let the broker acknowledge what we published (events are then marked published)."""
        deadline = time.monotonic() + self.options.drain_s
        while (waiting := self._tasks | self._inflight) and time.monotonic() < deadline:
            await asyncio.wait(waiting, timeout=deadline - time.monotonic())
        self._link = None  # a publish finishing now starts no other
        for pending in self._tasks | self._inflight:
            pending.cancel()
        await asyncio.gather(*self._tasks, *self._inflight, return_exceptions=True)

    # --- the loop ------------------------------------------------------------------------------

    async def _consume(self, ingest: Ingest) -> None:
        assert self._link is not None
        # Across reconnects: the broker keeps our session meanwhile and delivers again what we
        # had not acknowledged (an ack from the lost connection is not sent).
        messages = self._link.messages_across_reconnects()
        while True:
            batch = await self._next_batch(messages)
            if not batch:  # nothing to store, users to evaluate: a slice, then look again
                if self._stop.is_set():
                    raise StopRequested
                await self._evaluate(force=True)
                continue
            outcome = await self._db(self._ingest, ingest, batch)
            for message in batch:
                self._link.ack(message)
            self._count(batch, outcome)
            for ack in outcome.acks:
                self._publish_ack(ack.user, ack.device, ack.acked_seq)
            if self.share_group:
                self._settling.published(
                    ((a.user, a.device) for a in outcome.acks), time.monotonic()
                )
            for change in outcome.alert_changes:
                self._publish_changes(change)
            self._dirty.add(outcome.dirty_users, _reporters(batch))
            await self._evaluate(force=self._link.pending_messages() == 0)

    def _ingest(self, ingest: Ingest, batch: Sequence[Message]) -> BatchOutcome:
        """Store a batch and when it was stored (the tick defers its users a while, on any
        server: tick_deferral.py), then make sure it went to the database file still there:
        acking what went to a deleted file would lose acknowledged data (DatabaseReplacedError:
        exit 1)."""
        outcome = ingest.batch(batch)
        assert self._store is not None
        if outcome.dirty_users:
            self._store.mark_stored(sorted(outcome.dirty_users), self.clock())
        self._store.check_identity()
        return outcome

    async def _next_batch(self, messages: AsyncIterator[Message]) -> list[Message]:
        """Wait for one message, then take whatever else has arrived (up to batch_max).

        Empty while users wait for evaluation and no message is there to store: evaluating them
        must not wait for the next message.
        """
        assert self._link is not None
        if self._dirty and not self._link.pending_messages():
            return []
        first = asyncio.ensure_future(anext(messages))
        stop = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({first, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not first.done():
            first.cancel()
            raise StopRequested
        if isinstance(first.exception(), StopAsyncIteration):  # the link was closed
            raise StopRequested
        batch = [first.result()]
        while len(batch) < self.options.batch_max and self._link.pending_messages():
            batch.append(await anext(messages))
        return batch

    def _count(self, batch: Sequence[Message], outcome: BatchOutcome) -> None:
        stats = self.stats
        stats.batches += 1
        stats.messages += len(batch)
        stats.stored += outcome.outcomes.count(Outcome.STORED)
        stats.duplicates += outcome.outcomes.count(Outcome.DUPLICATE)
        stats.replayed += outcome.outcomes.count(Outcome.REPLAYED)
        stats.rejected += outcome.outcomes.count(Outcome.REJECTED)
        log.debug("batch of %d: %s", len(batch), dict(outcome.rejected) or "no rejects")

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the database thread (server/db_thread.py)."""
        assert self._database is not None
        return await self._database.call(fn, *args)
