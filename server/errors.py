"""The errors the server package raises, all under the contract's one root, ``TwitchWatchError``.

As in ``bleak/exc.py``: each class carries the data it is about as fields and composes its own
one-line message, so code branches on types and fields, and a person reads a sentence that
names what to check. The command line prints ``str(exc)`` and exits with the code of the
class's ``category`` (2: input a person can fix; 1: a runtime failure).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from twitchwatch.contract import TwitchWatchError
from twitchwatch.errors import Category

__all__ = [
    "AckTargetError",
    "BrokerAclError",
    "DatabaseMissingError",
    "DatabasePathError",
    "DatabaseReplacedError",
    "DatabaseUrlError",
    "FormError",
    "HomeAssistantError",
    "NoDataError",
    "PublishError",
    "ReportError",
    "ReportWriteError",
    "RuleConfigError",
    "SchemaVersionError",
    "SessionIdError",
    "StoreClosedError",
    "StoreDataError",
    "StoreError",
    "StoreUnavailable",
    "WebConfigError",
]


# --- the store -------------------------------------------------------------------------------------


class StoreError(TwitchWatchError):
    """The database cannot be opened, or refuses what the store asks of it.

    ``database`` is the URL with its password hidden, or the SQLite file's path.
    """

    def __init__(self, database: str, problem: str) -> None:
        super().__init__(self._sentence(database, problem))
        self.database, self.problem = database, problem

    @staticmethod
    def _sentence(database: str, problem: str) -> str:
        return f"database {database}: {problem}"


class DatabasePathError(StoreError):
    """A SQLite path that cannot be a database (its folder is missing): fix the URL."""

    category = Category.INPUT


class DatabaseReplacedError(StoreError):
    """The SQLite file the server opened was deleted or replaced while it ran: whatever it wrote
    since went to a file no one will read again, so it stops without acknowledging (exit 1);
    restarted, it opens the file now there and the edges resynchronise it (first_held)."""

    def __init__(self, database: str, what: str) -> None:
        super().__init__(
            database,
            f"{what} while the server ran: stopping without acknowledging what it received "
            "(a restart opens the file now there; the edges send what they still hold)",
        )


class StoreUnavailable(StoreError):
    """A transient failure (connection lost, lock timeout, deadlock): the same work may be retried."""

    @staticmethod
    def _sentence(database: str, problem: str) -> str:
        return f"database {database} unavailable: {problem}"


class StoreDataError(StoreError):
    """The database refused a value (a constraint, or a type rule such as PostgreSQL's "no NUL
    in text"): retrying the same work fails the same way."""


class StoreClosedError(StoreError):
    """The store was used after :meth:`~server.store.Store.close`."""

    def __init__(self, database: str) -> None:
        super().__init__(database, "closed")

    @staticmethod
    def _sentence(database: str, problem: str) -> str:
        return f"database {database} is {problem}"


class SchemaVersionError(StoreError):
    """The database was created by a newer TwitchWatch, whose schema this one cannot use."""

    def __init__(self, database: str, version: int, supported: int) -> None:
        super().__init__(
            database,
            f"has schema version {version}, newer than this TwitchWatch's ({supported}): "
            "upgrade TwitchWatch",
        )
        self.version, self.supported = version, supported

    @staticmethod
    def _sentence(database: str, problem: str) -> str:
        return f"database {database} {problem}"


class DatabaseUrlError(StoreError):
    """A database URL no backend understands; ``expected`` lists the forms that work."""

    category = Category.INPUT

    def __init__(self, url: str, expected: str) -> None:
        super().__init__(url, f"use {expected}")
        self.url, self.expected = url, expected

    @staticmethod
    def _sentence(database: str, problem: str) -> str:
        return f"database URL {database!r}: {problem}"


# --- the rules' configuration ----------------------------------------------------------------------


class RuleConfigError(TwitchWatchError):
    """A rules TOML file that cannot be used. One line, naming the file and the key."""

    category = Category.INPUT

    def __init__(self, problem: str, source: str | None = None) -> None:
        super().__init__(
            f"rules config {source}: {problem}" if source else f"rules config: {problem}"
        )
        self.problem, self.source = problem, source


# --- the report ------------------------------------------------------------------------------------


class ReportError(TwitchWatchError):
    """A report that cannot be written."""


class NoDataError(ReportError):
    """The store holds nothing for this user (or nothing in the period asked for)."""

    category = Category.INPUT

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

    category = Category.INPUT

    def __init__(self, path: Path) -> None:
        super().__init__(f"database {path} does not exist: pass the server's --db URL")
        self.path = path


class ReportWriteError(ReportError):
    """The report or its figures folder cannot be written (the --out a person gave)."""

    category = Category.INPUT

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path, self.reason = path, reason


# --- MQTT: alerts, Home Assistant, the broker's accounts -------------------------------------------


class AckTargetError(TwitchWatchError):
    """An ``--ack`` value that does not name an alert."""

    category = Category.INPUT

    def __init__(self, value: str, problem: str) -> None:
        super().__init__(f"--ack {value!r}: {problem}")
        self.value, self.problem = value, problem


class PublishError(TwitchWatchError):
    """The broker did not take a message (no PUBACK in time, or the link failed)."""

    def __init__(self, topic: str, problem: str) -> None:
        super().__init__(f"publishing to {topic}: {problem}")
        self.topic, self.problem = topic, problem


class HomeAssistantError(TwitchWatchError):
    """A discovery prefix Home Assistant cannot use."""

    category = Category.INPUT

    def __init__(self, prefix: str) -> None:
        super().__init__(
            f"Home Assistant discovery prefix {prefix!r}: use a topic prefix such as 'homeassistant'"
        )
        self.prefix = prefix


class SessionIdError(TwitchWatchError):
    """A server asked for a client id other than its broker account's username."""

    category = Category.INPUT

    def __init__(self, client_id: str, username: str) -> None:
        super().__init__(
            f"--client-id {client_id!r} is not the broker account {username!r}: with an account "
            "the server's session is bound to it (Mosquitto use_username_as_clientid); leave "
            f"--client-id out, or give {username!r}"
        )
        self.client_id, self.username = client_id, username


class BrokerAclError(TwitchWatchError):
    """A deployment file or an account file that cannot be turned into broker accounts."""

    category = Category.INPUT

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


# --- the web view ----------------------------------------------------------------------------------


class WebConfigError(TwitchWatchError):
    """The web view cannot start as asked: an address, a proxy setting or the accounts folder."""

    category = Category.INPUT

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


class FormError(TwitchWatchError):
    """A form a person sent that cannot become a report, an ack or a profile: shown on the page."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem
