"""The web view's own MQTT link: what a logged-in person sends goes out as any client's would.

It publishes on the person's own topics only: every topic is built here from the session's user,
never from anything the browser sent. Its broker account may write every person's reports and
acks and read and write every profile (``web = …`` in the accounts file); which person is the web
view's to check. It keeps every person's retained profile as the broker hands it over (their
display name, and their zone as they last set it).
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from server.errors import PublishError
from twitchwatch.contract import (
    SERVER_FILTERS,
    AlertAck,
    ContractError,
    PayloadError,
    Profile,
    Report,
    TopicKind,
    alert_acks_topic,
    parse_topic,
    profile_topic,
    reports_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, Message, MqttLink, MqttLinkError, Protocol

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
#: A person is waiting on the page: a broker that does not answer in this long is a failure.
PUBLISH_TIMEOUT_S = 10.0


class WebLink:
    def __init__(self, broker: BrokerUrl, *, protocol: Protocol = Protocol.MQTT5) -> None:
        self.broker = broker
        #: Every person's retained profile, by user, as the broker last handed it over.
        self.profiles: dict[str, Profile] = {}
        self.profiles_refused = 0  # malformed profiles seen (the server counts its own)
        self._link = MqttLink(
            broker,
            client_id=f"twitchwatch-web-{secrets.token_hex(4)}",
            protocol=protocol,
            subscriptions=[(SERVER_FILTERS[TopicKind.PROFILE], 1)],
        )
        self._reader: asyncio.Task[None] | None = None

    async def start(self, within_s: float = CONNECT_TIMEOUT_S) -> None:
        self._link.start()
        try:
            await self._link.wait_connected(within_s)
        except BaseException:
            await self._link.close()
            raise
        self._reader = asyncio.create_task(self._read(), name="web view profiles")

    async def close(self) -> None:
        await self._link.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        async for message in self._link.messages_across_reconnects():
            self._take(message)

    def _take(self, message: Message) -> None:
        try:
            where = parse_topic(message.topic)
            if where.kind is not TopicKind.PROFILE:
                return
            if not message.payload:  # the retained profile was removed
                self.profiles.pop(where.user, None)
                return
            self.profiles[where.user] = Profile.from_payload(message.payload)
        except (ContractError, PayloadError) as exc:
            self.profiles_refused += 1
            log.debug("ignored a profile on %s: %s", message.topic, exc)

    async def report(self, user: str, report: Report) -> None:
        await self._publish(reports_topic(user), report.to_payload())

    async def ack(self, user: str, ack: AlertAck) -> None:
        await self._publish(alert_acks_topic(user), ack.to_payload())

    async def profile(self, user: str, profile: Profile) -> None:
        """The person's profile, retained (the server cuts their days in its zone)."""
        await self._publish(profile_topic(user), profile.to_payload(), retain=True)

    async def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                await self._link.publish(topic, payload, qos=1, retain=retain)
        except TimeoutError:
            raise PublishError(topic, f"no answer within {PUBLISH_TIMEOUT_S:g} s") from None
        except MqttLinkError as exc:
            raise PublishError(topic, str(exc)) from exc
