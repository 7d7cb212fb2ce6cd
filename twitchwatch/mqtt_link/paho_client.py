"""The paho client a link drives, set up once: TLS, login, the Last Will, CONNECT's properties,
and a network thread that reads the socket only while the link's receive window has room.

With :mod:`twitchwatch.mqtt_link.link` and :mod:`twitchwatch.mqtt_link.paho_callbacks`, the only
modules that import paho.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from twitchwatch.errors import BrokerUrlError
from twitchwatch.mqtt_link.flow import ReceiveWindow
from twitchwatch.mqtt_link.url import BrokerUrl, Protocol, Will

#: Reconnect backoff bounds: quick after a blip, gentle on a broker that stays down.
RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 30
#: paho's in-memory queue of QoS 1 messages not yet acknowledged (the edge keeps its own
#: durable outbox, so this only needs to cover what is in flight).
MAX_QUEUED_MESSAGES = 10_000
#: While the consumer is behind, paho's thread looks again for room this often (it still writes
#: and pings in between).
PAUSED_POLL_S = 0.1


class PausingClient(paho.Client):
    """paho's client whose network thread reads the socket only while the receive window has
    room (``loop_read`` is the one place its loop reads; writes and keep-alive go on)."""

    def __init__(self, *args: Any, window: ReceiveWindow, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._receive_window = window

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        if not self._receive_window.wait_for_room(PAUSED_POLL_S):
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super().loop_read(max_packets)


@dataclass(frozen=True, slots=True)
class Session:
    """How a link's connections relate to its broker session."""

    protocol: Protocol
    session_expiry_s: int | None  # None: a clean session on every connect
    manual_ack: bool
    receive_maximum: int
    max_packet_bytes: int


@dataclass(frozen=True, slots=True)
class PahoSetup:
    """A configured client, and what each ``connect_async`` passes."""

    client: PausingClient
    clean_start: Any  # bool, or paho's MQTT_CLEAN_START_FIRST_ONLY
    properties: Properties | None  # MQTT 5 CONNECT properties


def make_client(
    broker: BrokerUrl, client_id: str, session: Session, will: Will | None, window: ReceiveWindow
) -> PahoSetup:
    """The paho client for one link; BrokerUrlError for credentials or a CA file it cannot use."""
    v5 = session.protocol is Protocol.MQTT5
    persistent = session.session_expiry_s is not None
    broker.check_credentials()  # a BrokerUrl built by hand, not parsed
    client = PausingClient(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
        clean_session=None if v5 else not persistent,
        manual_ack=session.manual_ack,
        window=window,
    )
    if broker.tls:
        _set_tls(client, broker)
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    # A Will with a delay needs the session to outlive the connection that long (MQTT 5 sends
    # it when the delay passes or the session ends, whichever is first), and a reconnect must
    # resume that session: Mosquitto sends the old connection's Will at once to a clean start.
    will_delay = will.delay_s if will is not None and v5 else 0
    clean_start: Any = paho.MQTT_CLEAN_START_FIRST_ONLY  # 3.1.1: clean_session decides
    if v5 and persistent:
        clean_start = False  # resume the session, also on the first connect
    elif v5 and not will_delay:
        clean_start = True
    if will is not None:
        will_props = None
        if will_delay:
            will_props = Properties(PacketTypes.WILLMESSAGE)
            will_props.WillDelayInterval = will_delay
        client.will_set(
            will.topic, will.payload, qos=will.qos, retain=will.retain, properties=will_props
        )
    client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
    client.max_queued_messages_set(MAX_QUEUED_MESSAGES)
    properties = None
    if v5:
        properties = Properties(PacketTypes.CONNECT)
        properties.ReceiveMaximum = session.receive_maximum
        properties.MaximumPacketSize = session.max_packet_bytes
        if persistent:
            properties.SessionExpiryInterval = session.session_expiry_s
        elif will_delay:
            properties.SessionExpiryInterval = will_delay
    return PahoSetup(client, clean_start, properties)


def _set_tls(client: paho.Client, broker: BrokerUrl) -> None:
    """TLS; the CA file pins the project's CA, without one the system's trusted CAs decide."""
    ca = broker.ca_file
    try:
        client.tls_set(ca_certs=ca, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    except FileNotFoundError:
        raise BrokerUrlError(str(broker), f"?ca={ca}: no such file") from None
    except IsADirectoryError:
        raise BrokerUrlError(str(broker), f"?ca={ca}: is a folder, not a file") from None
    except (ssl.SSLError, ValueError) as exc:  # SSLError is an OSError: first
        reason = getattr(exc, "reason", None) or exc
        raise BrokerUrlError(
            str(broker), f"?ca={ca}: not a PEM CA certificate ({reason})"
        ) from None
    except OSError as exc:
        raise BrokerUrlError(str(broker), f"?ca={ca}: {exc.strerror or exc}") from None
