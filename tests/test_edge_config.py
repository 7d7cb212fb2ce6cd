"""Mistakes a person makes in edge.toml, each refused in one line naming the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import edge.config
from edge.config import ConfigError, load_config
from edge.drivers import driver_names

SENSOR = '[[sensor]]\nname = "TW-0001"\nsite = "left_calf"\n'
MQTT = '[mqtt]\nuser = "alice"\ndevice = "pi"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[sensor]]\nadress = "F4:57:00:01:1B:83"\nsite = "left_calf"\n',
            "[[sensor]] #1 has unknown keys adress: did you mean 'address'?",
        ),
        (SENSOR + '[[sensor]]\nname = "TW-0002"\nsight = "left_calf"\n', "did you mean 'site'?"),
        (
            SENSOR + '[mqt]\nuser = "alice"\n',
            "the top level has unknown keys mqt: did you mean 'mqtt'?",
        ),
        ('broker = "mqtt://pi"\n' + SENSOR, "the top level has unknown keys broker (known: ble"),
        ('[ble]\nbackend = "sim"\nsimhci = "127.0.0.1:7390"\n' + SENSOR, "did you mean 'sim_hci'?"),
        ('[ble]\nsim_hci = "7390"\n' + SENSOR, "[ble] sim_hci must be \"HOST:PORT\", got '7390'"),
        ('[sensor]\nname = "TW-0001"\nsite = "left_calf"\n', "write [[sensor]] (two brackets"),
        (SENSOR + 'driver = "diyy"\n', "unknown driver 'diyy': did you mean 'diy'?"),
        (SENSOR + 'driver = "myo"\n', "unknown driver 'myo' (known: bitalino, diy"),
        (SENSOR + MQTT + "window_s = 7\n", "[mqtt] window_s = 7: window of 7 s"),
        (SENSOR + MQTT + 'password = "s3cret"\n', "[mqtt] has a password but no username"),
        (SENSOR + MQTT + 'passwort = "s3cret"\n', "did you mean 'password'?"),
        (SENSOR + MQTT + 'tz = "Europe/Berln"\n', "[mqtt] tz: time zone 'Europe/Berln': not in"),
        (SENSOR + MQTT + 'tz = "PST"\n', "use an IANA time zone name"),
        (SENSOR + MQTT + "tz = 1\n", "[mqtt] tz: time zone 1: must be a non-empty string"),
    ],
)
def test_mistakes_are_one_line_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"config {path}: ")
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("name", driver_names())
def test_a_misspelt_driver_name_gets_the_right_one_suggested(tmp_path: Path, name: str) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(SENSOR + f'driver = "{name[:-1]}{name[-1] * 2}"\n')
    with pytest.raises(ConfigError, match=f"did you mean '{name}'"):
        load_config(path)


def test_credentials_may_come_from_the_url(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(SENSOR + MQTT + 'broker = "mqtt://dev-pi@10.0.0.2"\npassword = "s3cret"\n')
    mqtt = load_config(path).mqtt
    assert mqtt is not None and (mqtt.broker.username, mqtt.broker.password) == ("dev-pi", "s3cret")


def test_the_docstring_example_is_a_valid_config(tmp_path: Path) -> None:
    assert edge.config.__doc__ is not None
    example = re.search(r"```toml\n(.*?)```", edge.config.__doc__, re.DOTALL)
    assert example is not None
    path = tmp_path / "edge.toml"
    path.write_text(example.group(1))
    config = load_config(path)
    assert [(s.site, s.driver) for s in config.sensors] == [
        ("left_calf", "diy"),
        ("right_calf", "polar_pmd"),
        ("right_thumb", "bitalino"),
    ]
    assert config.mqtt is not None and config.mqtt.device == "kitchen-pi"
    assert config.mqtt.tz == "Europe/Berlin"
