"""A person's link to the broker: send what waits in the outbox, each report once acknowledged.

    async with PersonClient(broker, "alice") as client:   # connects, or finds the broker away
        delivery = await client.deliver(outbox)            # oldest first, QoS 1

A broker that cannot be reached is not an error here: the reports stay in the outbox and
:class:`Delivery` says how many wait. A broker that refuses the login, or refuses a report, is
(one line, :class:`~twitchwatch.mqtt_link.MqttLinkError`): waiting would not help.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from person.outbox import ReportOutbox, Waiting
from twitchwatch.contract import check_id, reports_topic
from twitchwatch.mqtt_link import (
    BrokerUnreachableError,
    BrokerUrl,
    LinkLost,
    MqttLink,
    Protocol,
)

#: How long to wait for the broker at start: a person is waiting at the terminal.
CONNECT_TIMEOUT_S = 5.0
#: How long one report may wait for its PUBACK before the rest stay in the outbox.
PUBLISH_TIMEOUT_S = 10.0


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
        self._link: MqttLink | None = None

    async def __aenter__(self) -> Self:
        link = MqttLink(
            self.broker,
            client_id=f"twitchwatch-log-{self.user}-{secrets.token_hex(4)}",
            protocol=self.protocol,
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
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._link is not None:
            await self._link.close()
            self._link = None

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
