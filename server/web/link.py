"""The web view's own MQTT link: what a logged-in person sends goes out as any client's would.

It publishes on the person's own topics only: every topic is built here from the session's user,
never from anything the browser sent. Its broker account may write every person's reports and
acks (``web = …`` in the accounts file); which person is the web view's to check.
"""

from __future__ import annotations

import asyncio
import secrets

from server.errors import PublishError
from twitchwatch.contract import AlertAck, Report, alert_acks_topic, reports_topic
from twitchwatch.mqtt_link import BrokerUrl, MqttLink, MqttLinkError, Protocol

CONNECT_TIMEOUT_S = 10.0
#: A person is waiting on the page: a broker that does not answer in this long is a failure.
PUBLISH_TIMEOUT_S = 10.0


class WebLink:
    def __init__(self, broker: BrokerUrl, *, protocol: Protocol = Protocol.MQTT5) -> None:
        self.broker = broker
        self._link = MqttLink(
            broker, client_id=f"twitchwatch-web-{secrets.token_hex(4)}", protocol=protocol
        )

    async def start(self, within_s: float = CONNECT_TIMEOUT_S) -> None:
        self._link.start()
        try:
            await self._link.wait_connected(within_s)
        except BaseException:
            await self._link.close()
            raise

    async def close(self) -> None:
        await self._link.close()

    async def report(self, user: str, report: Report) -> None:
        await self._publish(reports_topic(user), report.to_payload())

    async def ack(self, user: str, ack: AlertAck) -> None:
        await self._publish(alert_acks_topic(user), ack.to_payload())

    async def _publish(self, topic: str, payload: bytes) -> None:
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                await self._link.publish(topic, payload, qos=1)
        except TimeoutError:
            raise PublishError(topic, f"no answer within {PUBLISH_TIMEOUT_S:g} s") from None
        except MqttLinkError as exc:
            raise PublishError(topic, str(exc)) from exc
