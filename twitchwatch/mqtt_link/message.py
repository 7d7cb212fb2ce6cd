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
    mid: int
