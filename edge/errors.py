"""The typed errors the edge agent raises, all under :class:`~twitchwatch.contract.TwitchWatchError`.

Each carries the fields a caller may branch on and composes its one-line message itself; the
command line prints that line (``twitchwatch: …``) and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from twitchwatch.contract import Kind, TwitchWatchError
from twitchwatch.errors import Category

if TYPE_CHECKING:
    from twitchwatch.mqtt_link import BrokerUrl


class DriverError(TwitchWatchError):
    """A sensor that did not do what its driver asked (a refused start, no answer)."""

    def __init__(self, device: str, problem: str) -> None:
        super().__init__(f"{device}: {problem}")
        self.device, self.problem = device, problem


class FrameError(TwitchWatchError):
    """A notification the driver could not decode: counted, and its time becomes a gap."""

    def __init__(self, device: str, seq: int | None, problem: str) -> None:
        where = "frame" if seq is None else f"frame {seq}"
        super().__init__(f"{device}: {where} rejected: {problem}")
        self.device, self.seq, self.problem = device, seq, problem


class ProtocolError(TwitchWatchError):
    """Bytes that do not follow a sensor's protocol (the DIY GATT profile, Polar PMD, …)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class ConfigError(TwitchWatchError):
    """The edge config file says something the agent cannot use."""

    category = Category.INPUT

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"config {path}: {problem}")
        self.path, self.problem = path, problem


class StreamInfoError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, field_name: str, expected: str, got: object) -> None:
        super().__init__(f"stream info: {field_name} must be {expected}, got {got!r}")
        self.field_name, self.expected, self.got = field_name, expected, got


class UnitError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, kind: Kind, unit: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind.value} unit {unit!r} (expected one of {', '.join(known)})")
        self.kind, self.unit, self.known = kind, unit, known


class UnknownDriverError(TwitchWatchError):
    """A driver name (config, ``twitchwatch sim --site``) that no registered driver has."""

    category = Category.INPUT

    def __init__(self, name: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown driver {name!r} (known: {', '.join(known)})")
        self.name, self.known = name, tuple(known)


class DriverMismatchError(TwitchWatchError):
    """The configured sensor advertises as another driver's sensor."""

    category = Category.INPUT

    def __init__(self, sensor: str, configured: str, advertised: str) -> None:
        super().__init__(
            f"sensor {sensor!r} advertises as a {advertised} sensor, but its config says "
            f'driver = "{configured}"'
        )
        self.sensor, self.configured, self.advertised = sensor, configured, advertised


class SensorNotFoundError(TwitchWatchError):
    def __init__(self, sensor: str, seconds: float) -> None:
        super().__init__(
            f"sensor {sensor!r} not found within {seconds:.0f} s: is it switched on, charged and "
            "within a few metres?"
        )
        self.sensor, self.seconds = sensor, seconds


class RateError(TwitchWatchError):
    """A sample rate the detector cannot analyse."""

    category = Category.INPUT

    def __init__(self, what: str, fs: float, need: str) -> None:
        super().__init__(f"{what} sampled at {fs:g} Hz cannot be analysed: {need}")
        self.what, self.fs, self.need = what, fs, need


class DetectorInputError(TwitchWatchError):
    """A block the detector cannot place (wrong shape, out of order)."""

    def __init__(self, site: str, kind: Kind, problem: str) -> None:
        super().__init__(f"{site} {kind.value}: {problem}")
        self.site, self.kind, self.problem = site, kind, problem


class WindowError(TwitchWatchError):
    """A window setting or a site the window builder cannot accept."""

    category = Category.INPUT

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class OutboxError(TwitchWatchError):
    """The outbox file cannot be opened, read or written; what was stored before is intact."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"outbox {path}: {problem}")
        self.path, self.problem = path, problem


class RecordingError(TwitchWatchError):
    """An EDF/BDF file that cannot be analysed; the message is one line naming file and problem."""

    category = Category.INPUT

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        problem = " ".join(problem.split())  # one line, whatever a wrapped message held
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = str(path), problem


class RecorderError(TwitchWatchError):
    """An EDF+ recording that cannot be written as asked; one line naming file and problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = str(path), problem


def broker_address(broker: BrokerUrl) -> str:
    """``mqtt://host:port`` without credentials: what a person checks against their broker."""
    return f"{'mqtts' if broker.tls else 'mqtt'}://{broker.host}:{broker.port}"


def _where(config: Path | None) -> str:
    return str(config) if config is not None else "the edge config"


class BrokerLoginError(TwitchWatchError):
    """The broker refused the username or password: the agent stops, retrying cannot help."""

    def __init__(self, broker: BrokerUrl, config: Path | None) -> None:
        if broker.username is None:
            problem = "refused an anonymous login (it wants a username and password)"
            advice = f"set [mqtt] username/password in {_where(config)}"
        else:
            problem = (
                f"refused the login for username {broker.username!r} (bad user name or password)"
            )
            advice = f"check [mqtt] username/password in {_where(config)}"
        super().__init__(f"broker {broker_address(broker)} {problem}: {advice}")
        self.broker, self.config = broker, config


class BrokerNotAuthorizedError(TwitchWatchError):
    """Logged in, but the broker's ACL refuses this device's topics: user/device disagree."""

    def __init__(self, broker: BrokerUrl, topic: str, config: Path | None) -> None:
        who = f"username {broker.username!r}" if broker.username else "an anonymous login"
        super().__init__(
            f"broker {broker_address(broker)} accepted {who} but refused its publish to {topic} "
            f"(not authorized): check that [mqtt] user and device in {_where(config)} are the "
            "ones this broker account was made for"
        )
        self.broker, self.topic, self.config = broker, topic, config
