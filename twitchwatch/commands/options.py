"""Argument types and small option helpers shared by several commands."""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from twitchwatch.commands.errors import AddressError
from twitchwatch.mqtt_link import BrokerUrl
from twitchwatch.mqtt_link.credentials import CREDENTIAL_NAME, PASSWORD_ENV, with_password

BROKER_HELP = "mqtt://[user@]host[:port] or mqtts://…?ca=ca.pem"
#: The exit code of a command stopped by Ctrl-C (128 + SIGINT, as a shell reports it), also when
#: the command took SIGINT as a clean stop (server, edge run); SIGTERM's clean stop is 0.
EXIT_INTERRUPTED = 130
#: ``--broker``'s default where a command takes it from the environment (a systemd unit's
#: EnvironmentFile): a URL there is not on the command line for ``ps`` to show.
BROKER_ENV = "TWITCHWATCH_BROKER"


def add_broker_options(parser: argparse.ArgumentParser, *, from_env: bool = False) -> None:
    """``--broker`` and ``--password-file``: the password stays off the command line."""
    default = os.environ.get(BROKER_ENV) if from_env else None
    parser.add_argument(
        "--broker",
        required=default is None,
        default=default,
        help=BROKER_HELP + (f" (default: ${BROKER_ENV})" if from_env else ""),
    )
    parser.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="the broker password, alone in a file; without it (and none in the URL): "
        f"${PASSWORD_ENV}, else the unit's systemd credential {CREDENTIAL_NAME}",
    )


def broker_from_args(args: argparse.Namespace) -> BrokerUrl:
    """The broker URL of ``--broker``, with its password from ``--password-file`` or the env."""
    return with_password(BrokerUrl.parse(args.broker), password_file=args.password_file)


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
