"""Secrets stay secret: the shipped units put no password on a command line, and the server run
the way its unit runs it logs in with a password nobody else can read, and prints none."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.services import MosquittoBroker, mosquitto_path, services_required

TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]
UNITS = Path(__file__).resolve().parents[1] / "deploy" / "systemd"
ACCOUNT, PASSWORD = "tw-server", "s3cret-broker-password"
DB_PASSWORD = "s3cret-db-password"


@pytest.mark.parametrize("unit", ["twitchwatch-server.service", "twitchwatch-edge.service"])
def test_the_shipped_units_keep_passwords_off_the_command_line(unit: str) -> None:
    text = (UNITS / unit).read_text()
    [exec_start] = re.findall(r"^ExecStart=(.*)$", text, re.MULTILINE)
    # No variable expanded onto the command line (a URL there is readable with `ps`).
    assert "$" not in exec_start and "password" not in exec_start.lower()
    assert "LoadCredential=mqtt-password:/etc/twitchwatch/mqtt-password" in text.splitlines()


@pytest.fixture
def password_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    if mosquitto_path() is None or shutil.which("mosquitto_passwd") is None:
        if services_required():
            pytest.fail("needs mosquitto and mosquitto_passwd", pytrace=False)
        pytest.skip("needs mosquitto and mosquitto_passwd")
    passwords = tmp_path / "passwd"
    passwords.touch(mode=0o600)
    subprocess.run(
        ["mosquitto_passwd", "-b", str(passwords), ACCOUNT, PASSWORD],
        check=True,
        capture_output=True,
    )
    with MosquittoBroker(
        extra_config=f"allow_anonymous false\npassword_file {passwords}"
    ) as broker:
        yield broker


def test_the_server_as_its_unit_runs_it_shows_no_password_anywhere(
    password_broker: MosquittoBroker, postgres_url: str, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"  # what LoadCredential=mqtt-password:… makes
    credentials.mkdir(mode=0o700)
    (credentials / "mqtt-password").write_text(PASSWORD + "\n")
    database = postgres_url.replace(
        "postgresql://postgres@", f"postgresql://postgres:{DB_PASSWORD}@"
    )
    env = {
        **os.environ,
        "TWITCHWATCH_BROKER": f"mqtt://{ACCOUNT}@127.0.0.1:{password_broker.port}",
        "TWITCHWATCH_DB": database,
        "CREDENTIALS_DIRECTORY": str(credentials),
    }
    server = subprocess.Popen(
        [*TWITCHWATCH, "-v", "server"],  # ExecStart: nothing but the command
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        started = server.stdout.readline()
        assert started.startswith(f"twitchwatch server: mqtt://{ACCOUNT}@127.0.0.1:"), started
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode()
        server.terminate()
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, err
    assert "postgresql://postgres:***@127.0.0.1" in started and f"as {ACCOUNT}" in started
    everything = cmdline + started + out + err  # -v: the DEBUG and INFO logs too
    assert "connected to" in err and "serving" in err
    assert PASSWORD not in everything and DB_PASSWORD not in everything
