"""Typed errors of the command layer (options a person typed that no floor below can judge)."""

from __future__ import annotations

from twitchwatch.contract import TwitchWatchError
from twitchwatch.errors import Category


class UnknownScenarioError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown scenario {name!r} (known: {', '.join(known)})")
        self.name, self.known = name, known


class AddressError(TwitchWatchError):
    category = Category.INPUT

    def __init__(self, value: str) -> None:
        super().__init__(f"expected HOST:PORT, got {value!r}")
        self.value = value
