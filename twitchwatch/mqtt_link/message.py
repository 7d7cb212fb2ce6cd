"""A received MQTT message, as the rest of TwitchWatch sees it (never paho's class)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Message:
    """A received message, converted once from paho's."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    mid: int  # paho's packet id: it names this message on this connection only
    #: The link's connection it arrived on (``MqttLink.connects`` then, from 1); 0 for a message
    #: built by hand. ``MqttLink.ack`` ignores a message from an earlier connection.
    connection: int = 0
