"""PostgreSQL through psycopg 3 (sync): the store for several server processes sharing the load.

Server processes that split the broker's messages (``$share/<group>/…``) meet here, so every
transaction that writes a user's data first locks that user's row (``SELECT … FOR UPDATE``, in
sorted order so two processes cannot deadlock on it); rule evaluation takes the same lock, so
two processes never evaluate one user at once. A dropped connection is reopened at the next
transaction; the work that failed is retried by the caller, whose messages are still unacked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import psycopg

from server.errors import StoreClosedError, StoreError
from server.store.backend import CONNECT_TIMEOUT_S, Backend, one_line, redact

#: Any constant: the key of the advisory lock that serializes schema creation.
_SCHEMA_LOCK_KEY = 0x7477_5343  # "twSC"


class PostgresBackend(Backend):
    name: ClassVar[str] = "postgresql"
    # Connection lost, server shutting down, deadlock or serialization failure: all retryable.
    transient_errors = (psycopg.OperationalError,)
    # A constraint, or a value PostgreSQL cannot hold (NUL in text is valid JSON, not TEXT).
    data_errors = (psycopg.IntegrityError, psycopg.DataError)
    fatal_errors = (psycopg.DatabaseError,)

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        super().__init__(url, read_only=read_only)
        self._conn: psycopg.Connection[Any] | None = None

    def connect(self) -> None:
        try:
            # autocommit: transactions are explicit BEGIN/COMMIT, as on SQLite.
            self._conn = psycopg.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
            )
        except psycopg.Error as exc:
            raise StoreError(redact(self.url), one_line(exc)) from exc

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise StoreClosedError(redact(self.url))
        return self._conn

    def ensure_connected(self) -> None:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            try:
                self._conn = psycopg.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
                )
            except psycopg.OperationalError:
                raise  # transient: the caller retries with backoff
            except psycopg.Error as exc:
                raise StoreError(redact(self.url), one_line(exc)) from exc

    def begin(self) -> None:
        self.conn.execute("BEGIN READ ONLY" if self.read_only else "BEGIN")

    def begin_read(self) -> None:
        self.conn.execute("BEGIN READ ONLY")

    def lock_users(self, users: Sequence[str]) -> None:
        if users:
            marks = ", ".join(["%s"] * len(users))
            self.conn.execute(
                f"SELECT user_id FROM users WHERE user_id IN ({marks}) ORDER BY user_id FOR UPDATE",
                list(users),
            )

    def lock_schema(self) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))

    def sql(self, statement: str) -> str:
        # Our statements hold no literal '?' or '%'.
        return statement.replace("?", "%s")

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.execute(self.sql(statement), params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description is not None else []

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(self.sql(statement), rows)  # type: ignore[arg-type]

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            return
        try:
            conn.execute("ROLLBACK")
        except psycopg.OperationalError:
            conn.close()  # replaced by ensure_connected() before the next transaction

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
