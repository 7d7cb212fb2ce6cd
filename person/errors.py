"""The typed errors of a person's client, all under :class:`~twitchwatch.contract.TwitchWatchError`.

Each carries the fields a caller may branch on and composes its one-line message itself; the
command line prints that line (``twitchwatch: …``) and exits 2 for what a person typed or wrote
(``Category.INPUT``), 1 for what failed while running.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from twitchwatch.errors import Category, TwitchWatchError


class PersonConfigError(TwitchWatchError):
    """The person config file (``person.toml``) says something the client cannot use."""

    category = Category.INPUT

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"config {path}: {problem}")
        self.path, self.problem = path, problem


class MissingSettingError(TwitchWatchError):
    """A setting that neither the command line nor the person config gives."""

    category = Category.INPUT

    def __init__(self, option: str, key: str, config: Path) -> None:
        super().__init__(f"{option} is needed (or {key} = … in {config})")
        self.option, self.key, self.config = option, key, config


class UnknownWordError(TwitchWatchError):
    """A report kind or body site that TwitchWatch does not know; the known ones are listed."""

    category = Category.INPUT

    def __init__(self, what: str, value: str, known: Sequence[str], guess: str | None) -> None:
        hint = f"did you mean {guess!r}? " if guess else ""
        super().__init__(f"unknown {what} {value!r}: {hint}(known: {', '.join(known)})")
        self.what, self.value, self.known, self.guess = what, value, tuple(known), guess


class WhenError(TwitchWatchError):
    """A ``--at`` time that cannot be read, or that names no moment a report can have."""

    category = Category.INPUT

    def __init__(self, text: str, problem: str) -> None:
        super().__init__(f"--at {text!r}: {problem}")
        self.text, self.problem = text, problem


class ReportOutboxError(TwitchWatchError):
    """The local outbox of reports cannot be opened, read or written."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"report outbox {path}: {problem}")
        self.path, self.problem = path, problem
