"""The typed errors firmware_sim raises for what a person asks of it (``twitchwatch sim``, the
demo, tests): each carries its fields and builds its one-line message here."""

from __future__ import annotations

from collections.abc import Sequence

from twitchwatch.contract import TwitchWatchError
from twitchwatch.errors import Category


class UnknownPresetError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, preset: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown preset {preset!r} (known: {', '.join(known)})")
        self.preset, self.known = preset, tuple(known)


class UnknownPersonalityError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, personality: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown Polar personality {personality!r} (known: {', '.join(known)})")
        self.personality, self.known = personality, tuple(known)


class FaultRateError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, fault: str, value: float) -> None:
        super().__init__(f"{fault} must be in [0, 1), got {value}")
        self.fault, self.value = fault, value


class NoSimulatorError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, driver: str) -> None:
        super().__init__(f"driver {driver!r} has no simulator (firmware_sim/{driver}/)")
        self.driver = driver


class UnsupportedFaultError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, driver: str, fault: str) -> None:
        super().__init__(f"the {driver} simulator cannot inject {fault}")
        self.driver, self.fault = driver, fault


class SimOptionsError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, driver: str, expected: str, got: object) -> None:
        super().__init__(f"{driver} sensor options must be {expected}, got {type(got).__name__}")
        self.driver, self.expected, self.got = driver, expected, got


class RadioAddressError(TwitchWatchError):
    """The virtual radio cannot listen on the address asked for (busy port, unknown host)."""

    category = Category.INPUT

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(
            f"cannot serve the virtual radio on {host}:{port}: {reason} (another "
            "`twitchwatch sim` on it? choose another --hci HOST:PORT)"
        )
        self.host, self.port, self.reason = host, port, reason
