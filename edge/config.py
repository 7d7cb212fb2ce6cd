"""The edge agent's TOML config: which sensors sit on which body sites, and which Bluetooth.

```toml
[ble]
backend = "sim"               # "bleak" (default): this computer's Bluetooth; "sim": twitchwatch sim
sim_hci = "127.0.0.1:7390"    # where `twitchwatch sim` serves its virtual radio

[[sensor]]
name = "TW-0001"              # advertised name, or: address = "F4:57:00:01:1B:83"
site = "left_calf"
driver = "diy"                # optional, "diy" by default
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from edge.ble.session import SensorConfig
from twitchwatch.contract import TwitchWatchError, is_known_site, normalize_site

DEFAULT_SIM_HCI = "127.0.0.1:7390"


class ConfigError(TwitchWatchError):
    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"config {path}: {problem}")
        self.path, self.problem = path, problem


class BleBackendKind(StrEnum):
    BLEAK = "bleak"
    SIM = "sim"


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    sensors: tuple[SensorConfig, ...]
    ble_backend: BleBackendKind = BleBackendKind.BLEAK
    sim_hci: str = DEFAULT_SIM_HCI


def load_config(path: Path) -> EdgeConfig:
    """Read and validate a config file; every problem is a one-line ConfigError."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(path, f"cannot read it ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from exc
    ble = doc.get("ble", {})
    try:
        backend = BleBackendKind(ble.get("backend", "bleak"))
    except ValueError:
        raise ConfigError(
            path, f"[ble] backend must be 'bleak' or 'sim', got {ble.get('backend')!r}"
        ) from None
    entries = doc.get("sensor", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            path, "no [[sensor]] entries: add one per sensor with its name or address and site"
        )
    sensors = []
    for number, entry in enumerate(entries, start=1):
        sensors.append(_sensor(path, number, entry))
    seen = [s.sensor.upper() for s in sensors]
    duplicates = sorted({s for s in seen if seen.count(s) > 1})
    if duplicates:
        raise ConfigError(path, f"sensor listed twice: {', '.join(duplicates)}")
    return EdgeConfig(tuple(sensors), backend, str(ble.get("sim_hci", DEFAULT_SIM_HCI)))


def _sensor(path: Path, number: int, entry: object) -> SensorConfig:
    if not isinstance(entry, dict):
        raise ConfigError(path, f"sensor #{number} must be a table")
    key = entry.get("address") or entry.get("name")
    if not key or not isinstance(key, str):
        raise ConfigError(path, f"sensor #{number} needs a name or an address")
    site = entry.get("site")
    if not site or not isinstance(site, str):
        raise ConfigError(path, f'sensor {key!r} needs a site, e.g. site = "left_calf"')
    if not is_known_site(normalize_site(site)):
        raise ConfigError(
            path, f"sensor {key!r}: unknown site {site!r} (use e.g. left_calf, right_thumb, tongue)"
        )
    try:
        return SensorConfig(key, site, str(entry.get("driver", "diy")))
    except TwitchWatchError as exc:
        raise ConfigError(path, f"sensor {key!r}: {exc}") from exc
