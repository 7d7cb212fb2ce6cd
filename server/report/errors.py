"""The report's errors: one line each, naming what is missing and what to check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from twitchwatch.contract import TwitchWatchError


class ReportError(TwitchWatchError):
    """A report that cannot be written."""


class NoDataError(ReportError):
    """The store holds nothing for this user (or nothing in the period asked for)."""

    def __init__(self, user: str, url: str, period: tuple[date, date] | None = None) -> None:
        if period is None:
            text = f"no data for user {user!r} in {url}: has the server received any windows?"
        else:
            first, last = period
            text = (
                f"no data for user {user!r} from {first} to {last} in {url}: "
                "try a later --until or more --days"
            )
        super().__init__(text)
        self.user, self.url, self.period = user, url, period


class DatabaseMissingError(ReportError):
    """A SQLite file that does not exist: opening it would create an empty database."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"database {path} does not exist: pass the server's --db URL")
        self.path = path


class ReportWriteError(ReportError):
    """The report or its figures folder cannot be written."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path, self.reason = path, reason
