"""The device topics beside its windows: its retained status and the server's retained ack;
and the server's own retained status, which has the same shape without a device."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Self

from twitchwatch.contract.payload import (
    MAX_SEQ,
    SCHEMA_VERSION,
    check_same_id,
    decode_json,
    encode_json,
    format_utc,
    int_field,
    parse_utc,
)
from twitchwatch.contract.topics import TopicKind
from twitchwatch.errors import PayloadError


class DeviceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """``<user>/<device>/status``, retained: online on connect, offline from the Last Will."""

    device: str
    state: DeviceState

    def to_payload(self) -> bytes:
        return encode_json({"v": SCHEMA_VERSION, "device": self.device, "state": self.state.value})

    @classmethod
    def from_payload(cls, payload: bytes, *, device: str) -> Self:
        doc = decode_json(payload, TopicKind.STATUS)
        check_same_id(doc, "device", device, "status")
        try:
            return cls(device, DeviceState(doc.get("state")))
        except ValueError:
            raise PayloadError(
                "status",
                "bad_state",
                f'"state" must be online or offline, got {doc.get("state")!r}',
            ) from None


@dataclass(frozen=True, slots=True)
class DeviceAck:
    """``<user>/<device>/ack``, retained: the server has stored every window with seq <= ``seq``."""

    device: str
    seq: int  # 0: nothing yet

    def to_payload(self) -> bytes:
        return encode_json({"v": SCHEMA_VERSION, "device": self.device, "seq": self.seq})

    @classmethod
    def from_payload(cls, payload: bytes, *, device: str) -> Self:
        doc = decode_json(payload, TopicKind.ACK)
        check_same_id(doc, "device", device, "ack")
        return cls(device, int_field(doc, "seq", "ack", 0, MAX_SEQ))


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """``twitchwatch/v1/_server/status``, retained: online while the server runs (Last Will: offline).

    ``at`` (optional, additive): the server's UTC time when it published this. The server
    republishes its status about once a minute, so an edge that receives a fresh copy (not the
    retained one, whose ``at`` may be old) can tell whether its own clock is far off.
    """

    state: DeviceState
    at: datetime | None = None

    def to_payload(self) -> bytes:
        doc: dict[str, object] = {"v": SCHEMA_VERSION, "state": self.state.value}
        if self.at is not None:
            doc["at"] = format_utc(self.at)
        return encode_json(doc)

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        doc = decode_json(payload, TopicKind.SERVER_STATUS)
        try:
            state = DeviceState(doc.get("state"))
        except ValueError:
            raise PayloadError(
                "server status",
                "bad_state",
                f'"state" must be online or offline, got {doc.get("state")!r}',
            ) from None
        at = None if doc.get("at") is None else parse_utc(doc["at"], "server status", "at")
        return cls(state, at)
