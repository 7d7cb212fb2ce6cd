"""The edge config at its limits: huge strings, huge files, other encodings, and where the broker
password may come from (never the command line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import (
    MAX_CONFIG_BYTES,
    MAX_STRING_CHARS,
    ConfigError,
    load_config,
    with_mqtt_overrides,
)
from twitchwatch.mqtt_link.credentials import PASSWORD_ENV

TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]
SENSOR = '[[sensor]]\nname = "TW-0001"\nsite = "left_calf"\n'
MQTT = '[mqtt]\nbroker = "mqtt://127.0.0.1:1883"\nuser = "alice"\ndevice = "pi"\n'


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "edge.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message[:400]
    return message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (SENSOR + MQTT + f'password = "{"p" * 10_000_000}"\n', "larger than 1024 KB"),
        (SENSOR + MQTT + f'password = "{"p" * 500_000}"\n', "[mqtt] password is 500,000"),
        (SENSOR + MQTT + f'username = "{"u" * 5000}"\n', "[mqtt] username is 5,000 characters"),
        (f'[[sensor]]\nname = "{"n" * 9000}"\nsite = "left_calf"\n', "[sensor] #1 name is 9,000"),
        (SENSOR + f"[ble]\n{'k' * 100} = 1\n", "[ble] has a key 100 characters long"),
        (SENSOR + f"[{'t' * 1000}]\n", "the top level has a key 1,000 characters long"),
    ],
)
def test_huge_strings_and_names_are_one_short_line_naming_the_key(
    tmp_path: Path, text: str, problem: str
) -> None:
    assert problem in refused(write(tmp_path, text))


def test_a_huge_or_non_utf8_file_is_one_line(tmp_path: Path) -> None:
    big = SENSOR + "#" * MAX_CONFIG_BYTES + "\n"
    assert "larger than 1024 KB: not an edge config" in refused(write(tmp_path, big))
    latin1 = ('[[sensor]]\nname = "Capteur mollet gauche é"\nsite = "left_calf"\n').encode(
        "latin-1"
    )
    message = refused(write(tmp_path, latin1))
    assert "not UTF-8 text (byte 0xe9 at offset" in message and "save it as UTF-8" in message
    assert MAX_STRING_CHARS >= 4096  # a long path still fits


def test_the_password_comes_from_a_file_a_variable_or_inline_one_at_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    secret = tmp_path / "mqtt-password"
    secret.write_text("from-file\n")
    secret.chmod(0o600)
    mqtt = MQTT + 'username = "dev-alice-pi"\n'
    from_file = load_config(write(tmp_path, SENSOR + mqtt + 'password_file = "mqtt-password"\n'))
    assert from_file.mqtt is not None and from_file.mqtt.broker.password == "from-file"
    monkeypatch.setenv("MY_SECRET", "from-var")
    from_var = load_config(write(tmp_path, SENSOR + mqtt + 'password_env = "MY_SECRET"\n'))
    assert from_var.mqtt is not None and from_var.mqtt.broker.password == "from-var"
    monkeypatch.setenv(PASSWORD_ENV, "from-default-var")
    implicit = load_config(write(tmp_path, SENSOR + mqtt))
    assert implicit.mqtt is not None and implicit.mqtt.broker.password == "from-default-var"

    twice = SENSOR + mqtt + 'password = "x"\npassword_file = "mqtt-password"\n'
    assert "gives the password twice (password and password_file)" in refused(
        write(tmp_path, twice)
    )
    unset = SENSOR + mqtt + 'password_env = "NOT_SET_ANYWHERE"\n'
    assert "$NOT_SET_ANYWHERE: the variable is not set" in refused(write(tmp_path, unset))
    missing = SENSOR + mqtt + 'password_file = "nowhere"\n'
    assert "mqtt] broker password from file" in refused(write(tmp_path, missing))

    # `edge run --password-file` (a systemd credential) wins over [mqtt].
    config_path = write(tmp_path, SENSOR + mqtt + 'password = "inline"\n')
    override = with_mqtt_overrides(load_config(config_path), config_path, password_file=secret)
    assert override.mqtt is not None and override.mqtt.broker.password == "from-file"


def test_a_refused_config_never_prints_the_password(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        SENSOR + MQTT.replace("mqtt://127.0.0.1:1883", "mqtt://dev:s3cret@[::1") + "\n",
    )
    done = subprocess.run(
        [*TWITCHWATCH, "edge", "run", "--config", str(config), "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "s3cret" not in done.stderr and "not a URL" in done.stderr
