"""The one MQTT adapter: paho-mqtt 2.x behind a small asyncio API. It moves bytes, knows no payloads.

Use::

    link = MqttLink(BrokerUrl.parse("mqtt://127.0.0.1:1883"), client_id="server-1",
                    subscriptions=[("twitchwatch/v1/+/+/windows", 1)], manual_ack=True,
                    session_expiry_s=7 * 86400)
    async with link:
        async for message in link.messages_across_reconnects():
            ...  # store it, then:
            link.ack(message)

``messages()`` ends with :class:`LinkLost` when the connection drops (paho reconnects: iterate
again once ``connected`` is set) or the link is closed; ``messages_across_reconnects()`` does that
waiting itself and ends on close.

The modules: ``url`` (BrokerUrl, Protocol, Will), ``message`` (Message), ``refusal`` (what the
broker's refusals mean), ``flow`` (how much a link takes in before it stops reading its socket),
``inbox`` (received messages and their iterators), ``connection`` (what a link knows of its
connection), ``pubacks`` (messages awaiting the broker's answer), ``link`` (MqttLink),
``paho_client`` (its paho client, set up) and ``paho_callbacks`` (paho's callbacks, handing over
to the loop), the only modules that import paho, ``credentials`` (passwords from a file, a
variable or systemd credentials). Its errors live in :mod:`twitchwatch.errors` with the rest of
the ground floor's.
"""

from __future__ import annotations

from twitchwatch.errors import (
    BrokerHandshakeError,
    BrokerUnreachableError,
    BrokerUrlError,
    ConnectRefusedError,
    CredentialError,
    LinkLost,
    MqttLinkError,
    PublishNotQueuedError,
    PublishRefusedError,
    SessionTakenOverError,
)
from twitchwatch.mqtt_link.flow import MAX_PACKET_BYTES, ReceiveLimits
from twitchwatch.mqtt_link.link import CONNECT_TIMEOUT_S, KEEPALIVE_S, MqttLink
from twitchwatch.mqtt_link.message import Message
from twitchwatch.mqtt_link.paho_client import MAX_QUEUED_MESSAGES, RECONNECT_MAX_S, RECONNECT_MIN_S
from twitchwatch.mqtt_link.refusal import LOGIN_REFUSED_CODES, NOT_AUTHORIZED, ConnectRefusal
from twitchwatch.mqtt_link.url import DEFAULT_PORT, MAX_CREDENTIAL_BYTES, BrokerUrl, Protocol, Will

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_PORT",
    "KEEPALIVE_S",
    "LOGIN_REFUSED_CODES",
    "MAX_CREDENTIAL_BYTES",
    "MAX_PACKET_BYTES",
    "MAX_QUEUED_MESSAGES",
    "NOT_AUTHORIZED",
    "RECONNECT_MAX_S",
    "RECONNECT_MIN_S",
    "BrokerHandshakeError",
    "BrokerUnreachableError",
    "BrokerUrl",
    "BrokerUrlError",
    "ConnectRefusal",
    "ConnectRefusedError",
    "CredentialError",
    "LinkLost",
    "Message",
    "MqttLink",
    "MqttLinkError",
    "Protocol",
    "PublishNotQueuedError",
    "PublishRefusedError",
    "ReceiveLimits",
    "SessionTakenOverError",
    "Will",
]
