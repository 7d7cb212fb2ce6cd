"""SQLite (stdlib ``sqlite3``) in WAL mode: the default store, one file, no server.

WAL lets readers (a report tool, a backup) run beside the writer; ``synchronous=NORMAL`` is WAL's
usual pairing: the file stays consistent, and a power cut can only lose the last commits, whose
messages were not acknowledged yet either (the server acks after commit), so the broker
redelivers them. Write transactions start with ``BEGIN IMMEDIATE`` so two server processes on
one file queue on the lock (``busy_timeout``) instead of failing with a deadlock on upgrade.

A new database file is created private (0600; SQLite gives its -wal and -shm the same mode), and
the write-ahead log is truncated after each checkpoint so it cannot keep the size of its largest
transaction and fill a small disk. The file's (device, inode) is checked before every ack
(:meth:`SqliteBackend.check_identity`): a file deleted or replaced under a running server stops
it. Read-only (the report) opens the file ``mode=ro`` and reads in plain ``BEGIN`` transactions:
no write access needed, no write lock taken.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from server.errors import (
    DatabasePathError,
    DatabaseReplacedError,
    DatabaseUrlError,
    StoreClosedError,
    StoreError,
)
from server.store.backend import BUSY_TIMEOUT_S, Backend, one_line

PREFIX = "sqlite:///"
#: A new database file: its owner (the service user) alone reads it.
FILE_MODE = 0o600
#: Checkpoint the write-ahead log every 1,000 pages (SQLite's default, ~4 MB) and truncate it to
#: this after each checkpoint.
WAL_LIMIT_BYTES = 4 * 1024 * 1024


def sqlite_path(url: str) -> Path:
    """``sqlite:///rel/path.db`` -> ``rel/path.db``; ``sqlite:////abs/path.db`` -> ``/abs/path.db``."""
    if not url.startswith(PREFIX) or len(url) == len(PREFIX):
        raise DatabaseUrlError(url, "sqlite:///relative.db or sqlite:////absolute/path.db")
    return Path(url[len(PREFIX) :])


class SqliteBackend(Backend):
    name: ClassVar[str] = "sqlite"
    transient_errors = (sqlite3.OperationalError,)
    data_errors = (sqlite3.IntegrityError, sqlite3.DataError)
    fatal_errors = (sqlite3.DatabaseError,)

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        super().__init__(url, read_only=read_only)
        self.path = sqlite_path(url)
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file opened

    def connect(self) -> None:
        if not self.path.parent.is_dir():
            raise DatabasePathError(str(self.path), f"folder {self.path.parent} does not exist")
        try:
            if not self.read_only:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
            # isolation_level=None: no implicit transactions; begin() and commit() are explicit.
            # check_same_thread=False: the server runs every store call on its one database
            # thread, but not necessarily the thread that opened the store.
            conn = sqlite3.connect(
                f"file:{quote(str(self.path))}?mode=ro" if self.read_only else self.path,
                uri=self.read_only,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
            query = "PRAGMA journal_mode" if self.read_only else "PRAGMA journal_mode=WAL"
            mode = conn.execute(query).fetchone()[0]
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        except OSError as exc:
            raise StoreError(str(self.path), f"cannot create it ({exc.strerror})") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(str(self.path), f"cannot open it ({one_line(exc)})") from exc
        if mode != "wal":
            conn.close()
            raise StoreError(str(self.path), f"WAL mode refused (journal mode {mode!r})")
        identity = self._stat()
        if self._identity is not None and identity != self._identity:
            conn.close()  # a reconnect must not quietly carry on in another file
            raise DatabaseReplacedError(str(self.path), "the file was replaced")
        self._conn, self._identity = conn, identity

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def check_identity(self) -> None:
        """A deleted or replaced file: SQLite would keep writing to the deleted one, and every
        ack after it would be a lie (issue 15, M1). One stat per batch, before its acks."""
        if self._identity is None:
            return
        identity = self._stat()
        if identity is None:
            raise DatabaseReplacedError(str(self.path), "the file was deleted")
        if identity != self._identity:
            raise DatabaseReplacedError(str(self.path), "the file was replaced")

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosedError(str(self.path))
        return self._conn

    def ensure_connected(self) -> None:
        if self._conn is None:
            self.connect()

    def begin(self) -> None:
        if self.read_only:  # opened mode=ro: a write would fail anyway, and takes no lock
            self.conn.execute("BEGIN")
            return
        self.conn.execute("PRAGMA query_only = 0")
        self.conn.execute("BEGIN IMMEDIATE")

    def begin_read(self) -> None:
        """A deferred transaction takes no write lock: WAL readers never wait for the writer.
        ``query_only`` makes a write inside it fail instead of taking the lock."""
        self.conn.execute("PRAGMA query_only = 1")
        self.conn.execute("BEGIN DEFERRED")

    def lock_users(self, users: Sequence[str]) -> None:
        """Nothing to do: BEGIN IMMEDIATE already holds the database's one write lock."""

    def lock_schema(self) -> None:
        """Nothing to do: schema creation runs inside BEGIN IMMEDIATE."""

    def sql(self, statement: str) -> str:
        return statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(statement, params).fetchall()

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(statement, rows)

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
