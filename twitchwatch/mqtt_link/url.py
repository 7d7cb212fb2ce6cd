"""Where the broker is and how to speak to it: its URL, the MQTT version, the Last Will."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

from twitchwatch.errors import BrokerUrlError

DEFAULT_PORT = {"mqtt": 1883, "mqtts": 8883}


class Protocol(StrEnum):
    MQTT5 = "5"
    MQTT311 = "3.1.1"


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """``mqtt://[user[:password]@]host[:port]`` or ``mqtts://…?ca=/path/ca.pem`` (TLS)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None  # None with TLS: the system's trusted CAs

    @classmethod
    def parse(cls, url: str) -> Self:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORT or not parts.hostname:
            raise BrokerUrlError(url, "use mqtt://host[:port] or mqtts://host[:port] (TLS)")
        try:
            port = parts.port or DEFAULT_PORT[parts.scheme]
        except ValueError:
            raise BrokerUrlError(url, "the port is not a number") from None
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ca_file=query.get("ca", [None])[0],
        )

    def __str__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Will:
    """Published by the broker if the link dies without a clean disconnect."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True
