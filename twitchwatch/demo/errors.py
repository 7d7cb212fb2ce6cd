"""The demo's typed errors."""

from __future__ import annotations

from twitchwatch.errors import TwitchWatchError


class DemoError(TwitchWatchError):
    """A part of the demo's chain did not answer in time."""

    def __init__(self, part: str, problem: str) -> None:
        super().__init__(f"{part}: {problem}")
        self.part, self.problem = part, problem
