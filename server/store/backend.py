"""One database engine behind the store: connecting, placeholders, locks and error classes.

Every statement the store runs is portable SQL written with ``?`` placeholders; a backend only
rewrites the placeholders, opens and re-opens its connection, and says which of its exceptions
mean "try again later" and which mean "this row breaks a constraint". Like a bleak backend, each
engine is one module, imported only when a URL asks for it.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

from server.errors import DatabaseUrlError
from twitchwatch.errors import redact_url

#: How long a SQLite writer waits for another process's write lock, and how long a PostgreSQL
#: connection attempt may take, before the store calls the database unavailable.
BUSY_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5


def redact(url: str) -> str:
    """The URL with its password replaced (``user:***@``, ``?password=***``), for messages and
    logs."""
    return redact_url(url)


def one_line(exc: BaseException) -> str:
    """A driver's message on one line (psycopg's span several)."""
    return re.sub(r"\s+", " ", str(exc)).strip()


class Backend(abc.ABC):
    """A connection to one database. Not thread-safe: the store uses it from one thread at a time.

    Subclasses implement the docstrings below; :class:`server.store.Store` does the rest.
    """

    name: ClassVar[str]
    #: Errors after which the same transaction may succeed later.
    transient_errors: ClassVar[tuple[type[BaseException], ...]]
    #: Errors raised when the database refuses a value: a constraint, or a type rule.
    data_errors: ClassVar[tuple[type[BaseException], ...]]
    #: Errors that say the database cannot be used at all (opening it, or a broken schema).
    fatal_errors: ClassVar[tuple[type[BaseException], ...]]

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        #: Reads only (``twitchwatch report``): the database is never written or write-locked.
        self.read_only = read_only

    @abc.abstractmethod
    def connect(self) -> None:
        """Open (or re-open) the connection; StoreError with one line if that fails."""

    @abc.abstractmethod
    def ensure_connected(self) -> None:
        """Re-open the connection if it broke since the last transaction."""

    @abc.abstractmethod
    def begin(self) -> None:
        """Start a write transaction (SQLite: take the write lock at once, not on first write)."""

    def begin_read(self) -> None:
        """Start a transaction that only reads (and may not write): a reader beside the writer."""
        self.begin()

    @abc.abstractmethod
    def lock_users(self, users: Sequence[str]) -> None:
        """Lock these users' rows until the transaction ends (rows must exist; sorted order)."""

    @abc.abstractmethod
    def lock_schema(self) -> None:
        """Serialize schema creation between processes opening the same database at once."""

    @abc.abstractmethod
    def sql(self, statement: str) -> str:
        """A ``?``-placeholder statement in this driver's placeholder style."""

    @abc.abstractmethod
    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; the rows it returns (RETURNING or SELECT), else an empty list."""

    @abc.abstractmethod
    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per parameter row (no results)."""

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None:
        """Roll back; a connection that broke is left for :meth:`ensure_connected` to replace."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def check_identity(self) -> None:
        """Raise DatabaseReplacedError if the database is no longer the one opened (a server
        database has no file to lose: nothing to check)."""
        return None

    #: Most host parameters one statement may carry (SQLite allows 32,766, PostgreSQL 65,535).
    max_params: ClassVar[int] = 30_000


def backend_for(url: str, *, read_only: bool = False) -> Backend:
    """The backend a database URL names, imported lazily (psycopg loads only for PostgreSQL)."""
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:  # postgresql://…@[::1/db: "Invalid IPv6 URL"
        raise DatabaseUrlError(
            redact(url), f"a valid URL such as postgresql://user@host/db ({exc})"
        ) from None
    if scheme == "sqlite":
        from server.store.sqlite import SqliteBackend

        return SqliteBackend(url, read_only=read_only)
    if scheme in ("postgresql", "postgres"):
        from server.store.postgres import PostgresBackend

        return PostgresBackend(url, read_only=read_only)
    raise DatabaseUrlError(
        redact(url),
        "sqlite:///relative.db, sqlite:////absolute/path.db or postgresql://user@host/dbname",
    )
