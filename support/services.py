"""Real services for tests and benches: an MQTT broker on a free loopback port and a throwaway
PostgreSQL DB.

Plain classes with no pytest dependency, so benches and scripts start the same broker as the
tests. The fixtures that wrap them live in tests/conftest.py.
"""

from __future__ import annotations

import os
import secrets
from types import TracebackType
from typing import Self, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from twitchwatch.demo import broker as demo_broker

# Re-exported: tests and benches take every service from here.
from twitchwatch.demo.broker import LOOPBACK, free_port, mosquitto_path  # noqa: F401


class MosquittoBroker(demo_broker.MosquittoBroker):
    """The demo's Mosquitto with what tests need: persistence, extra config, restarts and crashes.

    Persistence is on, so sessions and queued QoS>0 messages survive `stop()`/`start()`: Mosquitto
    writes its database on SIGTERM. `kill()` is a crash: anything since the last autosave
    (default every 1800 s) is lost, as it would be in production.
    """

    def __init__(self, extra_config: str = "") -> None:
        self.extra_config = extra_config
        super().__init__()

    def _config_lines(self) -> list[str]:
        # extra_config goes last: for single-valued options Mosquitto keeps the last one it reads.
        return [
            *super()._config_lines(),
            "persistence true",
            f"persistence_location {self.config_path.parent}/",
            self.extra_config,
        ]

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """Crash the broker (SIGKILL): nothing is saved."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


class EmbeddedBroker(demo_broker.EmbeddedBroker):
    """The demo's amqtt fallback; state is in memory only, so a restart or a crash loses it."""

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """No process to crash; in-memory state is lost either way, so this is `stop()`."""
        self.stop()


MqttBroker: TypeAlias = MosquittoBroker | EmbeddedBroker


def make_broker() -> MqttBroker:
    """Mosquitto if installed (MQTT 5, persistence), else the embedded 3.1.1 broker. Not started."""
    if mosquitto_path() is not None:
        return MosquittoBroker()
    return EmbeddedBroker()


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
