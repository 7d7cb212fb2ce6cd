"""Where the broker is and how to speak to it: its URL, the MQTT version, the Last Will."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

from twitchwatch.errors import BrokerUrlError

DEFAULT_PORT = {"mqtt": 1883, "mqtts": 8883}
#: MQTT strings (username, password) hold at most this many bytes; paho's network thread dies on
#: a longer one while the caller still waits for it to connect.
MAX_CREDENTIAL_BYTES = 65_535


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
        """Parse a broker URL; BrokerUrlError (password hidden) names what is wrong with it."""
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
        except ValueError as exc:  # mqtt://[::1 : "Invalid IPv6 URL"
            raise BrokerUrlError(url, f"not a URL ({exc})") from None
        if parts.scheme not in DEFAULT_PORT or not hostname:
            raise BrokerUrlError(url, "use mqtt://host[:port] or mqtts://host[:port] (TLS)")
        try:
            port = parts.port or DEFAULT_PORT[parts.scheme]
        except ValueError:
            raise BrokerUrlError(url, "the port is not a number from 1 to 65535") from None
        query = parse_qs(parts.query)
        ca_file = query.get("ca", [None])[0]
        if ca_file is not None and parts.scheme != "mqtts":
            raise BrokerUrlError(url, "?ca= is for TLS: use mqtts://")
        broker = cls(
            host=hostname,
            port=port,
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ca_file=ca_file,
        )
        broker.check_credentials()
        return broker

    def check_credentials(self) -> None:
        """BrokerUrlError if the username or password cannot go into an MQTT CONNECT."""
        for what, value in (("username", self.username), ("password", self.password)):
            if value is not None and len(value.encode()) > MAX_CREDENTIAL_BYTES:
                raise BrokerUrlError(
                    str(self),
                    f"the {what} is {len(value.encode()):,} bytes long; MQTT allows at most "
                    f"{MAX_CREDENTIAL_BYTES:,}",
                )

    def __str__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Will:
    """Published by the broker if the link dies without a clean disconnect.

    ``delay_s`` (MQTT 5 Will Delay Interval): the broker waits this long, and sends nothing if
    the client reconnects meanwhile, so a short outage does not flap offline/online.
    """

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True
    delay_s: int = 0
