"""Where the web view listens, who may reach it in plain HTTP, and which accounts log in.

Plain HTTP carries passwords and health data in clear, so by default it listens on loopback only:
a browser on the same computer, or a TLS reverse proxy on it (Caddy, nginx; deploy/web/). Any
other address is refused unless one of two settings says why it is safe:

- ``trusted_proxy`` (``--http-proxy ADDRESS``): a TLS reverse proxy on another machine forwards
  to it; only that address is served, and its ``X-Forwarded-For``/``X-Forwarded-Proto`` headers
  are believed (the client's address for rate limiting, HTTPS for the Secure cookie flag);
- ``insecure`` (``--http-insecure``): plain HTTP on the network, knowingly (a lab, a test rig).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from server.errors import WebConfigError
from twitchwatch.mqtt_link import BrokerUrl

#: The folder ``twitchwatch broker-acl --out`` writes in the deployment guide.
DEFAULT_ACCOUNTS = Path("/etc/mosquitto/twitchwatch")


@dataclass(frozen=True, slots=True)
class WebConfig:
    """How the web view runs (``twitchwatch server --http …``)."""

    host: str
    port: int
    accounts: Path  # the folder broker-acl wrote: passwd and people
    broker: BrokerUrl  # the web view's own broker account (writes reports and acks)
    insecure: bool = False
    trusted_proxy: str | None = None

    def __post_init__(self) -> None:
        if self.trusted_proxy is not None:
            try:
                ipaddress.ip_address(self.trusted_proxy)
            except ValueError:
                raise WebConfigError(
                    f"--http-proxy {self.trusted_proxy!r}", "give the proxy's IP address"
                ) from None
        if not is_loopback(self.host) and not self.insecure and self.trusted_proxy is None:
            raise WebConfigError(
                f"--http {self.host}:{self.port}",
                "plain HTTP beyond this computer would carry passwords and health data in "
                "clear: listen on 127.0.0.1 behind a TLS reverse proxy (deploy/web/README.md), "
                "name a proxy on another machine with --http-proxy ADDRESS, or say --http-insecure",
            )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:8080`` or ``[::1]:8080`` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise WebConfigError(f"--http {text!r}", "use HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything
