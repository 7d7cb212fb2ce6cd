"""Where the publisher stands with its broker and its outbox, as the views and the logs show it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twitchwatch.mqtt_link import NOT_AUTHORIZED, MqttLink, PublishRefusedError


class BrokerState(StrEnum):
    """Where the publisher stands with its broker, for the live view and the logs."""

    CONNECTING = "connecting"  # no answer yet
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"  # nothing answered the last attempt; paho keeps trying
    LOGIN_REFUSED = "login refused"  # CONNACK refused the username/password: retrying cannot help
    NOT_AUTHORIZED = "not authorized"  # logged in, but the ACL refuses this device's topics
    STOPPED = "stopped"


def broker_state(link: MqttLink | None, denied_topic: str | None) -> BrokerState:
    """The state of a publisher's ``link`` (None: not started, or stopped)."""
    if link is None:
        return BrokerState.STOPPED
    if link.refusal is not None and link.refusal.bad_login:
        return BrokerState.LOGIN_REFUSED
    if denied_topic is not None:
        return BrokerState.NOT_AUTHORIZED
    if link.connected.is_set():
        return BrokerState.CONNECTED
    if link.connect_failures or link.refusal is not None:
        return BrokerState.UNREACHABLE
    return BrokerState.CONNECTING


@dataclass(slots=True)
class TopicDenial:
    """The first topic the broker refused as not authorized (MQTT 5 PUBACK): the account and the
    configured user/device disagree, and no retry will change that."""

    topic: str | None = None

    def note(self, topic: str, exc: BaseException) -> bool:
        """Remember ``topic`` if ``exc`` is an ACL refusal (BrokerState.NOT_AUTHORIZED); say if
        it was one."""
        if isinstance(exc, PublishRefusedError) and exc.code == NOT_AUTHORIZED:
            self.topic = self.topic or topic
            return True
        return False


@dataclass(frozen=True, slots=True)
class PublisherStats:
    """Counters for the live table and the logs."""

    connected: bool
    sent: int  # windows published for the first time by this publisher
    resent: int  # publishes of a window already published (reconnects, resend timer)
    acked_seq: int  # the server's last ack: every window up to it is stored
    pending: int  # windows in the outbox, not yet covered by an ack
    in_flight: int  # publishes awaiting the broker's PUBACK
    lost: int  # windows the outbox could not store (disk full...): never sent, counted here
    refused: int  # publishes the broker refused (MQTT 5 reason code); retried later
    bad_acks: int  # ack messages that broke the contract; ignored
    state: BrokerState = BrokerState.CONNECTING
    dropped: int = 0  # windows the full outbox dropped unsent (over the outbox file's life)
