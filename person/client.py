"""A person's link to the broker: their profile's zone, their reports, and the alerts they raise.

    async with PersonClient(broker, "alice") as client:   # connects, or finds the broker away
        await client.settle()                              # the retained profile and alerts
        before = client.alert_versions()
        delivery = await client.deliver(outbox)            # oldest first, QoS 1
        states = await client.changed_alerts(keys, before, within_s=5)

A broker that cannot be reached is not an error here: the reports stay in the outbox and
:class:`Delivery` says how many wait. A broker that refuses the login, or refuses a report, is
(one line, :class:`~twitchwatch.mqtt_link.MqttLinkError`): waiting would not help.

The client subscribes to the person's own profile (the zone ``--at`` reads times in), alerts (the
server's answer to a report) and the server's status (whether an answer can come), as a person's
broker account may.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from person.outbox import ReportOutbox, Waiting
from twitchwatch.contract import (
    SERVER_STATUS_TOPIC,
    AlertState,
    ContractError,
    DeviceState,
    PayloadError,
    Profile,
    ServerStatus,
    TopicKind,
    alerts_filter,
    check_id,
    parse_topic,
    profile_topic,
    reports_topic,
)
from twitchwatch.mqtt_link import (
    BrokerUnreachableError,
    BrokerUrl,
    LinkLost,
    Message,
    MqttLink,
    Protocol,
)

#: How long to wait for the broker at start: a person is waiting at the terminal.
CONNECT_TIMEOUT_S = 5.0
#: How long one report may wait for its PUBACK before the rest stay in the outbox.
PUBLISH_TIMEOUT_S = 10.0
#: After the subscriptions are answered, retained messages follow at once; this covers them.
RETAINED_GRACE_S = 0.3

AlertKey = tuple[str, str]  # (rule, scope)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one delivery did: the reports the broker acknowledged, and how many still wait."""

    sent: tuple[Waiting, ...]
    waiting: int
    problem: str | None = None  # why some still wait (None: the outbox was emptied)


class PersonClient:
    """One short MQTT connection as a person (their broker account), for ``twitchwatch log``.

    Parameters
    ----------
    broker : BrokerUrl
        With the person's account in it (``mqtts://alice:…@host``), or anonymous.
    user : str
        The ``<user>`` topic level the reports go to.
    """

    def __init__(
        self,
        broker: BrokerUrl,
        user: str,
        *,
        protocol: Protocol = Protocol.MQTT5,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        publish_timeout_s: float = PUBLISH_TIMEOUT_S,
    ) -> None:
        self.broker, self.user = broker, check_id(user, "user")
        self.protocol = protocol
        self.connect_timeout_s, self.publish_timeout_s = connect_timeout_s, publish_timeout_s
        self.reached = False  # connected this time
        self.profile: Profile | None = None  # the person's retained profile, once seen
        self.alerts: dict[AlertKey, AlertState] = {}  # the latest state seen of each alert
        self.server_online = False  # the server's retained status says it runs
        self._changed = asyncio.Event()
        self._link: MqttLink | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        link = MqttLink(
            self.broker,
            client_id=f"twitchwatch-log-{self.user}-{secrets.token_hex(4)}",
            protocol=self.protocol,
            subscriptions=[
                (profile_topic(self.user), 1),
                (alerts_filter(self.user), 1),
                (SERVER_STATUS_TOPIC, 1),
            ],
        )
        link.start()
        try:
            await link.wait_connected(self.connect_timeout_s)
        except BrokerUnreachableError:
            await link.close()
            return self  # not reached: reports wait in the outbox
        except BaseException:  # refused (a bad password), cancelled: nothing to keep open
            await link.close()
            raise
        self._link, self.reached = link, True
        self._reader = asyncio.create_task(self._read(link), name="twitchwatch log reader")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._link is not None:
            await self._link.close()  # ends the reader's iteration
            self._link = None
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self, link: MqttLink) -> None:
        async for message in link.messages_across_reconnects():
            self._take(message)

    def _take(self, message: Message) -> None:
        """Keep the profile and the newest state of each alert; anything malformed is ignored
        (the server and ``twitchwatch alerts`` report those)."""
        if not message.payload:
            return
        try:
            where = parse_topic(message.topic)
            if where.kind is TopicKind.PROFILE:
                self.profile = Profile.from_payload(message.payload)
            elif where.kind is TopicKind.SERVER_STATUS:
                status = ServerStatus.from_payload(message.payload)
                self.server_online = status.state is DeviceState.ONLINE
            elif where.kind is TopicKind.ALERT:
                state = AlertState.from_payload(message.payload)
                key = (state.rule.value, state.scope)
                if key not in self.alerts or state.version > self.alerts[key].version:
                    self.alerts[key] = state
                    self._changed.set()
        except (ContractError, PayloadError):
            return

    async def settle(self) -> None:
        """Wait until the retained profile and alerts have arrived (if the broker was reached)."""
        if self._link is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.connect_timeout_s):
                await self._link.subscribed.wait()
        await asyncio.sleep(RETAINED_GRACE_S)

    def alert_versions(self) -> dict[AlertKey, int]:
        """The version of every alert seen so far (before sending: to tell what changed after)."""
        return {key: state.version for key, state in self.alerts.items()}

    async def changed_alerts(
        self, keys: Collection[AlertKey], before: dict[AlertKey, int], within_s: float
    ) -> list[AlertState]:
        """States of ``keys`` newer than ``before``, waiting up to ``within_s`` for all of them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s

        def newer() -> list[AlertState]:
            return [
                self.alerts[k]
                for k in keys
                if k in self.alerts and self.alerts[k].version > before.get(k, 0)
            ]

        while self._link is not None and len(newer()) < len(keys):
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, deadline - loop.time())):
                    await self._changed.wait()
            if loop.time() >= deadline:
                break
        return newer()

    async def deliver(self, outbox: ReportOutbox) -> Delivery:
        """Publish this user's waiting reports, oldest first; each leaves the outbox on PUBACK.

        Raises
        ------
        PublishRefusedError
            The broker refused a report (MQTT 5: not authorized for this user's topic); it stays.
        """
        waiting = outbox.waiting(self.user)
        if self._link is None:
            return Delivery((), len(waiting), f"broker {self.broker} not reachable")
        topic = reports_topic(self.user)
        sent: list[Waiting] = []
        for item in waiting:
            try:
                async with asyncio.timeout(self.publish_timeout_s):
                    await self._link.publish(topic, item.report.to_payload(), qos=1)
            except TimeoutError:
                problem = f"no answer from {self.broker} within {self.publish_timeout_s:g} s"
                return Delivery(tuple(sent), len(waiting) - len(sent), problem)
            except LinkLost as exc:
                return Delivery(tuple(sent), len(waiting) - len(sent), str(exc))
            outbox.remove(item)
            sent.append(item)
        return Delivery(tuple(sent), 0)
