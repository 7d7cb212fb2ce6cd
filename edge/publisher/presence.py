"""The device's retained messages besides its windows: its status and the person's profile.

The status topic says ``online`` (retained) on every connect; the Last Will and a clean stop say
``offline``. The Will waits :data:`WILL_DELAY_S` (MQTT 5) and is dropped if the agent is back by
then, so a Wi-Fi blip does not flap the status offline and online. With a profile (``[mqtt] tz``)
the config's zone is merged into the retained profile when it changed since this edge last
published one (:mod:`edge.publisher.profile`).
"""

from __future__ import annotations

import asyncio
import logging

from edge.outbox import Outbox
from edge.publisher.profile import ProfileSync
from edge.publisher.state import TopicDenial
from twitchwatch.contract import (
    DeviceState,
    DeviceStatus,
    Profile,
    TopicKind,
    device_topic,
    profile_topic,
)
from twitchwatch.mqtt_link import Message, MqttLink, MqttLinkError, Will

#: Status and stop messages wait this long for the broker; they never hold the agent up longer.
ANNOUNCE_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 2.0
#: The broker says "offline" only if the agent has not reconnected this long after its link
#: died (paho retries after 1 s, then backs off): short outages do not flap the status.
WILL_DELAY_S = 30

log = logging.getLogger(__name__)


class Presence:
    """Says the device's status and publishes the person's profile (``profile``: None, never)."""

    def __init__(self, outbox: Outbox, profile: Profile | None, denial: TopicDenial) -> None:
        self.device = outbox.device
        self.status_topic = device_topic(outbox.user, outbox.device, TopicKind.STATUS)
        self.profile = profile
        self.profile_topic = profile_topic(outbox.user)
        self._profile_sync = None if profile is None else ProfileSync(profile, outbox)
        self._denial = denial

    def will(self) -> Will:
        offline = DeviceStatus(self.device, DeviceState.OFFLINE).to_payload()
        return Will(self.status_topic, offline, qos=1, retain=True, delay_s=WILL_DELAY_S)

    def subscriptions(self) -> list[tuple[str, int]]:
        """The retained profile is read only when there is a zone to publish."""
        return [(self.profile_topic, 1)] if self.profile is not None else []

    def on_profile(self, message: Message) -> None:
        if self._profile_sync is not None:
            self._profile_sync.on_message(message)

    async def say_online(self, link: MqttLink) -> bool:
        """Publish ``online``; False if the broker did not acknowledge it in time (try again).

        A refusal (an ACL?) counts as said: its PUBACK still orders the retained ack before it.
        """
        online = DeviceStatus(self.device, DeviceState.ONLINE).to_payload()
        try:
            async with asyncio.timeout(ANNOUNCE_TIMEOUT_S):
                await link.publish(self.status_topic, online, qos=1, retain=True)
        except TimeoutError:
            log.warning("%s: the broker did not acknowledge 'online'; trying again", self.device)
            return False
        except MqttLinkError as exc:
            level = logging.INFO if self._denial.note(self.status_topic, exc) else logging.ERROR
            log.log(level, "%s: could not say online: %s", self.device, exc)
        return True

    async def say_offline(self, link: MqttLink) -> None:
        """A clean stop's goodbye, if the link is up and the status topic is allowed."""
        if link.connected.is_set() and self._denial.topic != self.status_topic:
            offline = DeviceStatus(self.device, DeviceState.OFFLINE).to_payload()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await link.publish(self.status_topic, offline, qos=1, retain=True)
            except (TimeoutError, MqttLinkError) as exc:
                log.warning("%s: could not say offline before stopping (%s)", self.device, exc)

    async def publish_profile(self, link: MqttLink, connection: int) -> None:
        """The person's profile, retained, with the config's zone, if due on this connection
        (see ProfileSync.due: call it once the connection's retained messages came in)."""
        if self._profile_sync is None:
            return
        payload = self._profile_sync.due(connection)
        if payload is None:
            return
        try:
            async with asyncio.timeout(ANNOUNCE_TIMEOUT_S):
                await link.publish(self.profile_topic, payload, qos=1, retain=True)
            self._profile_sync.published()
        except TimeoutError:
            log.warning("%s: the broker did not acknowledge the profile; next connect", self.device)
        except MqttLinkError as exc:
            # Not fatal, unlike a refused window: without the profile the server keeps the
            # zone it had (UTC at first). An account made before profiles existed lacks the
            # grant; `twitchwatch broker-acl` adds it.
            log.error(
                "%s: could not publish the profile (tz) to %s: %s",
                self.device,
                self.profile_topic,
                exc,
            )
