"""`twitchwatch edge run` as a home user and a systemd service meet it: simulated sensors over real
bleak, a real Mosquitto that checks passwords and ACLs, and the lines a person reads."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from rich.console import Console

from edge.ble.reconnect import ReconnectPolicy
from edge.ble.session import Backend, SensorConfig
from edge.config import load_config
from edge.outbox import Outbox
from edge.publisher import BrokerState
from edge.run import RunTuning, run_agent
from edge.uplink import BrokerLoginError, BrokerNotAuthorizedError
from edge.views import NOT_FOUND_ADVICE, View
from firmware_sim.bleak_backend import BumbleAdapter, bumble_backend
from firmware_sim.fleet import FleetSpec, SimSensor, close_fleet, start_fleet
from firmware_sim.radio import VirtualRadio
from support.services import MosquittoBroker, free_port, mosquitto_path, services_required
from twitchwatch.cli import main

TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]
#: Quick backoff; a scan long enough to see the simulated sensor's first advertisements.
QUICK = RunTuning(scan_timeout_s=2.0, policy=ReconnectPolicy(first_s=0.2, cap_s=0.4))
#: Short scans too, so a missing sensor is retried several times in a few seconds.
RETRY_FAST = RunTuning(
    scan_timeout_s=0.5, policy=ReconnectPolicy(first_s=0.2, cap_s=0.4, unreachable_after=3)
)
ACCOUNT, PASSWORD = "dev-alice-pi", "right"


def _need(tool: str) -> None:
    if subprocess.run(["which", tool], capture_output=True).returncode != 0:
        reason = f"needs {tool} (not on PATH)"
        if services_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def sim_hci() -> Iterator[str]:
    """`twitchwatch sim` with one sensor (TW-0001, left_calf) in its own process, like at home."""
    hci = f"127.0.0.1:{free_port()}"
    sim = subprocess.Popen(
        [*TWITCHWATCH, "sim", "--site", "left_calf", "--hci", hci, "--seconds", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert sim.stdout is not None and "virtual radio on" in sim.stdout.readline()
        assert "site=left_calf" in sim.stdout.readline()
        yield hci
    finally:
        sim.terminate()
        sim.wait(timeout=10)


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """Mosquitto with a password file and an ACL: dev-alice-pi may publish as alice/pi only."""
    if mosquitto_path() is None:
        _need("mosquitto")
    _need("mosquitto_passwd")
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    passwd.touch(mode=0o600)
    subprocess.run(
        ["mosquitto_passwd", "-b", str(passwd), ACCOUNT, PASSWORD], check=True, capture_output=True
    )
    acl.write_text(
        f"user {ACCOUNT}\ntopic write twitchwatch/v1/alice/pi/windows\n"
        "topic write twitchwatch/v1/alice/pi/status\ntopic read twitchwatch/v1/alice/pi/ack\n"
    )
    extra = f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}\n"
    with MosquittoBroker(extra_config=extra) as broker:
        yield broker


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    """One simulated sensor, TW-0001 on left_calf, on an in-process radio."""
    radio = VirtualRadio()
    sensors = await start_fleet(radio, FleetSpec((SimSensor("left_calf"),)))
    adapter = BumbleAdapter(radio=radio)
    classes = bumble_backend(adapter)
    yield Backend(classes.scanner, classes.client)
    await adapter.close()
    await close_fleet(sensors)
    await asyncio.sleep(0.05)  # let Bumble finish in-flight HCI exchanges before the loop ends


def write_config(path: Path, hci: str, mqtt: str = "") -> Path:
    path.write_text(
        f'[ble]\nbackend = "sim"\nsim_hci = "{hci}"\n'
        f'[[sensor]]\nname = "TW-0001"\nsite = "left_calf"\n{mqtt}'
    )
    return path


def mqtt_table(broker_url: str, tmp_path: Path, password: str, device: str = "pi") -> str:
    return (
        f'[mqtt]\nbroker = "{broker_url}"\nuser = "alice"\ndevice = "{device}"\n'
        f'username = "{ACCOUNT}"\npassword = "{password}"\n'
        f'outbox = "{tmp_path / f"outbox-{device}.db"}"\n'
    )


# --- the command line, as systemd runs it -------------------------------------------------------


def test_a_refused_login_stops_at_once_in_one_line(
    sim_hci: str, secured_broker: MosquittoBroker, tmp_path: Path, capsys
) -> None:
    config = write_config(
        tmp_path / "edge.toml", sim_hci, mqtt_table(secured_broker.url, tmp_path, "wrong")
    )
    started = time.monotonic()
    # A runtime failure (the broker decides), not a usage error: exit code 1.
    assert main(["edge", "run", "--config", str(config), "--seconds", "30", "--view", "log"]) == 1
    assert time.monotonic() - started < 5
    assert capsys.readouterr().err == (
        f"twitchwatch: broker mqtt://127.0.0.1:{secured_broker.port} refused the login for "
        f"username '{ACCOUNT}' (bad user name or password): check [mqtt] username/password in "
        f"{config}\n"
    )


# --- run_agent -----------------------------------------------------------------------------------


async def test_a_sensor_never_found_is_said_once_and_in_the_summary(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    sensors = [SensorConfig("TW-0009", "right_calf")]  # the radio has TW-0001 only
    with caplog.at_level(logging.INFO, logger="edge.run"):
        final = await run_agent(sensors, backend, seconds=3.0, view=View.LOG, tuning=RETRY_FAST)
    lines = [r.getMessage() for r in caplog.records if r.name == "edge.run"]
    [missing] = final.sensors
    assert missing.failures >= 4 and missing.connects == 0  # retried, not given up
    assert lines.count(f"TW-0009 (right_calf): {NOT_FOUND_ADVICE} (still looking)") == 1
    unreachable = [line for line in lines if "TW-0009 (right_calf): still not found" in line]
    assert len(unreachable) == 1 and unreachable[0].endswith("attempts; retrying, less often")
    never = "final: TW-0009 (right_calf) was never found in 3 s: is it switched on, charged"
    assert lines[-2:] == [
        f"{never} and within a few metres?",
        "final: 0 of 1 sensors streamed; every lost sample is counted as a gap.",
    ]


async def test_live_view_shows_the_tables_and_the_advice(backend: Backend) -> None:
    console = Console(record=True, width=150, color_system=None)  # not a terminal: final frame only
    sensors = [SensorConfig("TW-0001", "left_calf"), SensorConfig("TW-0009", "right_calf")]
    await run_agent(sensors, backend, seconds=5.0, view=View.LIVE, console=console, tuning=QUICK)
    text = console.export_text()
    assert "left_calf  TW-0001 · diy" in text and "right_calf  TW-0009 · diy" in text
    assert "streaming" in text and NOT_FOUND_ADVICE in text and "Ctrl-C to stop" in text
    assert text.rstrip().endswith("1 of 2 sensors streamed; every lost sample is counted as a gap.")


async def test_a_login_refused_by_the_acl_names_the_topic(
    backend: Backend, secured_broker: MosquittoBroker, tmp_path: Path
) -> None:
    path = write_config(
        tmp_path / "edge.toml",
        "127.0.0.1:1",
        mqtt_table(secured_broker.url, tmp_path, PASSWORD, device="laptop"),
    )
    config = load_config(path)
    started = time.monotonic()
    with pytest.raises(BrokerNotAuthorizedError) as refused:
        await run_agent(
            config.sensors, backend, seconds=30, mqtt=config.mqtt, config_path=path, tuning=QUICK
        )
    assert time.monotonic() - started < 3
    assert str(refused.value) == (
        f"broker mqtt://127.0.0.1:{secured_broker.port} accepted username '{ACCOUNT}' but refused "
        "its publish to twitchwatch/v1/alice/laptop/status (not authorized): check that [mqtt] "
        f"user and device in {path} are the ones this broker account was made for"
    )
    # The right account and password get through (the refusal above was the device name).
    write_config(path, "127.0.0.1:1", mqtt_table(secured_broker.url, tmp_path, PASSWORD))
    config = load_config(path)
    final = await run_agent(
        config.sensors, backend, seconds=1, mqtt=config.mqtt, config_path=path, tuning=QUICK
    )
    assert final.uplink is not None and final.uplink.state is BrokerState.CONNECTED
    assert config.mqtt is not None
    wrong = dataclasses.replace(config.mqtt.broker, password="wrong")
    with pytest.raises(BrokerLoginError, match="refused the login for username"):
        await run_agent(
            config.sensors,
            backend,
            seconds=30,
            mqtt=dataclasses.replace(config.mqtt, broker=wrong),
            config_path=path,
            tuning=QUICK,
        )


async def test_an_unreachable_broker_keeps_the_windows(
    backend: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    path = write_config(tmp_path / "edge.toml", "127.0.0.1:1", mqtt_table(url, tmp_path, "x"))
    config = load_config(path)
    assert config.mqtt is not None
    with caplog.at_level(logging.INFO, logger="edge.run"):
        final = await run_agent(
            config.sensors, backend, seconds=4.0, mqtt=config.mqtt, config_path=path, tuning=QUICK
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "edge.run"]
    unreachable = [line for line in lines if "unreachable, retrying" in line]
    assert len(unreachable) == 1 and "windows are kept, not lost" in unreachable[0]
    assert final.uplink is not None and final.uplink.state is BrokerState.UNREACHABLE
    assert final.uplink.pending >= 1 and final.uplink.sent == 0
    with Outbox(tmp_path / "outbox-pi.db", "alice", "pi") as outbox:
        assert len(outbox) == final.uplink.pending  # stored for the next run, not lost
