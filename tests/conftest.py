"""Shared fixtures: a real MQTT broker and a real PostgreSQL database per test (tests/services.py).

A test whose service is missing (no `mosquitto` on PATH, PostgreSQL unreachable) is skipped with the
reason. With TWITCHWATCH_REQUIRE_SERVICES=1, as CI sets it, the same test fails instead, so a broken
CI image cannot turn into a green run of skipped tests.
"""

from collections.abc import Iterator
from typing import NoReturn

import pytest
from hypothesis import settings

from support.services import (
    EmbeddedBroker,
    MosquittoBroker,
    MqttBroker,
    PostgresDatabase,
    make_broker,
    mosquitto_path,
    pg_admin_dsn,
    postgres_available,
    services_required,
)

# Property tests draw the same examples on every run: a CI result must not depend on luck. A bug
# they would find by chance is found by raising max_examples locally, not by a red CI someday.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")

NO_MQTT5 = "needs MQTT 5 (Mosquitto not on PATH); embedded amqtt broker is MQTT 3.1.1 only"
NO_MOSQUITTO = "needs Mosquitto (not on PATH)"

# A fixture implies its marker, so `-m "not postgres"` also deselects tests using the fixture.
_FIXTURE_MARKERS = {
    "mqtt5_broker": "mqtt5",
    "mosquitto_broker": "mqtt5",
    "postgres_admin_dsn": "postgres",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in _FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


def _missing(reason: str) -> NoReturn:
    if services_required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def mqtt_broker() -> Iterator[MqttBroker]:
    """Started Mosquitto, else the embedded amqtt broker (check `.mqtt5`). The test may stop it."""
    with make_broker() as broker:
        yield broker


@pytest.fixture
def mosquitto_broker() -> Iterator[MosquittoBroker]:
    if mosquitto_path() is None:
        _missing(NO_MOSQUITTO)
    with MosquittoBroker() as broker:
        yield broker


@pytest.fixture
def mqtt5_broker() -> Iterator[MosquittoBroker]:
    if mosquitto_path() is None:
        _missing(NO_MQTT5)
    with MosquittoBroker() as broker:
        yield broker


@pytest.fixture
def embedded_broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as broker:
        yield broker


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> str:
    """Admin DSN, checked once per session; its skip or failure repeats for each dependent test."""
    dsn = pg_admin_dsn()
    if (reason := postgres_available(dsn)) is not None:
        _missing(reason)
    return dsn


@pytest.fixture
def postgres_url(postgres_admin_dsn: str) -> Iterator[str]:
    """URL of a fresh empty database, dropped after the test."""
    with PostgresDatabase(postgres_admin_dsn) as database:
        yield database.url


# Simulated sensors on a virtual radio, reached through real bleak (tests/ble_fixtures.py).
pytest_plugins = ["tests.ble_fixtures"]
