"""Argument types and small option helpers shared by several commands."""

from __future__ import annotations

import argparse
from datetime import date

from twitchwatch.commands.errors import AddressError

BROKER_HELP = "mqtt://[user:password@]host[:port] or mqtts://…?ca=ca.pem"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def host_port(value: str) -> tuple[str, int]:
    """``HOST:PORT`` of a ``twitchwatch sim`` radio."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise AddressError(value)
    return host, int(port)
