"""Real services for tests: an MQTT broker on a free loopback port and a throwaway PostgreSQL DB.

Plain classes with no pytest dependency, so benches and scripts can start the same broker.
The fixtures that wrap them live in tests/conftest.py.
"""

from __future__ import annotations

import os
import secrets
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

# The brokers live in the package: the demo runs on the same ones (re-exported for the tests).
from twitchwatch.demo.broker import (  # noqa: F401
    LOOPBACK,
    EmbeddedBroker,
    MosquittoBroker,
    MqttBroker,
    free_port,
    make_broker,
    mosquitto_path,
)

REQUIRE_SERVICES_ENV = "TWITCHWATCH_REQUIRE_SERVICES"
PG_DSN_ENV = "TWITCHWATCH_PG_DSN"
DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def services_required() -> bool:
    """True when a missing broker or database must fail the test rather than skip it (CI)."""
    return os.environ.get(REQUIRE_SERVICES_ENV) == "1"


def pg_admin_dsn() -> str:
    return os.environ.get(PG_DSN_ENV, DEFAULT_PG_DSN)


def postgres_available(admin_dsn: str | None = None) -> str | None:
    """None if PostgreSQL answers on the admin DSN, else the reason it does not."""
    try:
        with psycopg.connect(admin_dsn or pg_admin_dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL unavailable (set {PG_DSN_ENV} to override the DSN): {exc}"
    return None


class PostgresDatabase:
    """A fresh, uniquely named database, created on construction and force-dropped by `close()`.

    The admin DSN must be a postgresql:// URL whose role may CREATE DATABASE.
    """

    def __init__(self, admin_dsn: str | None = None) -> None:
        self.admin_dsn = admin_dsn or pg_admin_dsn()
        parts = urlsplit(self.admin_dsn)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"{PG_DSN_ENV} must be a postgresql:// URL")
        self.name = f"twitchwatch_test_{secrets.token_hex(6)}"
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self._closed = False

    def _admin(self, statement: sql.Composable) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction.
        with psycopg.connect(self.admin_dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(statement)

    def close(self) -> None:
        if self._closed:
            return
        # FORCE disconnects sessions a test left open, which would otherwise block the drop.
        self._admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
        )
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
