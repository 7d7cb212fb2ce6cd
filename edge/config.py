"""The edge agent's TOML config: which sensors sit on which body sites, and which Bluetooth.

```toml
[ble]
backend = "sim"               # "bleak" (default): this computer's Bluetooth; "sim": twitchwatch sim
sim_hci = "127.0.0.1:7390"    # where `twitchwatch sim` serves its virtual radio

[[sensor]]
name = "TW-0001"              # advertised name, or: address = "F4:57:00:01:1B:83"
site = "left_calf"
driver = "diy"                # optional, "diy" by default

[[sensor]]
name = "Polar Sense B5A2B12E" # a Polar Verity Sense (or "Polar H10 ...") on the other calf
site = "right_calf"
driver = "polar_pmd"          # "polar" is accepted too

[[sensor]]
name = "BITalino-0A-3F"       # a PLUX BITalino (r)evolution BLE: EMG on A1, accelerometer on A5
site = "right_thumb"
driver = "bitalino"

[mqtt]                        # optional: publish per-site windows to a TwitchWatch server
broker = "mqtt://127.0.0.1:1883"  # mqtts://host:8883?ca=/path/ca.pem for TLS
user = "alice"                # the <user> and <device> topic levels
device = "kitchen-pi"
tz = "Europe/Berlin"          # optional: the person's time zone (IANA), published as their
                              # retained profile: their days and dates follow it (else UTC)
# username = "dev-kitchen"    # broker credentials (or user:password@ in the URL)
# password_file = "/etc/twitchwatch/mqtt-password"  # the password alone in a file (0600), or
# password_env = "MQTT_PASSWORD"  # a variable holding it, or password = "..." (least safe);
#                             # none: $TWITCHWATCH_MQTT_PASSWORD, else the systemd credential
#                             # mqtt-password (LoadCredential=, deploy/systemd/)
# protocol = "5"              # "5" (default) or "3.1.1"
# window_s = 60               # whole seconds that divide a day
# outbox = "outbox.db"        # relative to this file; default ~/.local/share/twitchwatch/
```

Every mistake is one :class:`ConfigError` line naming the file and the key, with a suggestion
for a misspelt key or driver name. The file is UTF-8, at most 1 MB, and no name or string in it
is longer than it could sensibly be (:data:`MAX_NAME_CHARS`, :data:`MAX_STRING_CHARS`), so no
error line echoes megabytes.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from edge.ble.session import SensorConfig
from edge.drivers import DEFAULT_DRIVER, driver_info
from edge.errors import ConfigError, UnknownDriverError
from edge.windows import WINDOW_S, WindowError, check_window_s
from twitchwatch.contract import (
    TwitchWatchError,
    ZoneError,
    check_id,
    check_zone,
    is_known_site,
    normalize_site,
)
from twitchwatch.mqtt_link import BrokerUrl, Protocol
from twitchwatch.mqtt_link.credentials import password_from_env, read_password_file, with_password

DEFAULT_SIM_HCI = "127.0.0.1:7390"
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"
#: Where [mqtt] may say the password: inline (least safe), a file, or a variable's name.
_PASSWORD_KEYS = ("password", "password_file", "password_env")
_MQTT_KEYS = frozenset(
    {
        "broker",
        "user",
        "device",
        "username",
        "protocol",
        "window_s",
        "outbox",
        "tz",
        *_PASSWORD_KEYS,
    }
)
_TABLES = frozenset({"ble", "sensor", "mqtt"})
_BLE_KEYS = frozenset({"backend", "sim_hci"})
_SENSOR_KEYS = frozenset({"name", "address", "site", "driver"})


class BleBackendKind(StrEnum):
    BLEAK = "bleak"
    SIM = "sim"


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """Where and as whom the agent publishes its windows."""

    broker: BrokerUrl
    user: str
    device: str
    protocol: Protocol = Protocol.MQTT5
    window_s: float = WINDOW_S
    outbox: Path | None = None  # None: the default place for this user and device
    tz: str | None = None  # the person's IANA zone, published as their retained profile

    @property
    def outbox_path(self) -> Path:
        return self.outbox or default_outbox_path(self.user, self.device)


def default_outbox_path(user: str, device: str) -> Path:
    """``$XDG_DATA_HOME/twitchwatch/outbox-<user>-<device>.db`` (``~/.local/share`` by default)."""
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "twitchwatch" / f"outbox-{user}-{device}.db"


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    sensors: tuple[SensorConfig, ...]
    ble_backend: BleBackendKind = BleBackendKind.BLEAK
    sim_hci: str = DEFAULT_SIM_HCI
    mqtt: MqttConfig | None = None  # None: detect and show, publish nothing


def load_config(path: Path) -> EdgeConfig:
    """Read and validate a config file; every problem is a one-line ConfigError."""
    doc = _read_toml(path)
    _check_keys(path, "the top level", doc, _TABLES)
    ble = doc.get("ble", {})
    if not isinstance(ble, dict):
        raise ConfigError(path, "[ble] must be a table")
    _check_keys(path, "[ble]", ble, _BLE_KEYS)
    try:
        backend = BleBackendKind(ble.get("backend", "bleak"))
    except ValueError:
        raise ConfigError(
            path, f"[ble] backend must be 'bleak' or 'sim', got {ble.get('backend')!r}"
        ) from None
    entries = doc.get("sensor", [])
    if isinstance(entries, dict):
        raise ConfigError(
            path, "write [[sensor]] (two brackets: one table per sensor), not [sensor]"
        )
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
    mqtt = None
    if "mqtt" in doc:
        mqtt = _mqtt(path, doc["mqtt"])
        _check_one_sensor_per_site(path, sensors)
    sim_hci = str(ble.get("sim_hci", DEFAULT_SIM_HCI))
    host, _, port = sim_hci.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(path, f'[ble] sim_hci must be "HOST:PORT", got {sim_hci!r}')
    return EdgeConfig(tuple(sensors), backend, sim_hci, mqtt)


# --- the file itself: its size, encoding and the length of what it holds ---------------------------

#: A config of a few sensors is a few hundred bytes; anything near this is not a config.
MAX_CONFIG_BYTES = 1024 * 1024
#: Keys and table names are short words.
MAX_NAME_CHARS = 64
#: A string value: a path, a URL, a password (PATH_MAX is 4096 on Linux).
MAX_STRING_CHARS = 4096


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(path, f"cannot read it ({exc.strerror or exc})") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(path, f"larger than {MAX_CONFIG_BYTES // 1024} KB: not an edge config")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            path,
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}): save it as UTF-8",
        ) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from exc
    _check_lengths(path, "", doc)
    return doc


def _check_lengths(path: Path, where: str, value: object) -> None:
    """Refuse an over-long key or string anywhere in the document, naming where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            if len(key) > MAX_NAME_CHARS:
                raise ConfigError(
                    path,
                    f"{where or 'the top level'} has a key {len(key):,} characters long "
                    f"(at most {MAX_NAME_CHARS}): {key[:20]!r}…",
                )
            inner = f"[{key}]" if not where else f"{where} {key}"
            _check_lengths(path, inner, item)
    elif isinstance(value, list):
        for number, item in enumerate(value, start=1):
            _check_lengths(path, f"{where} #{number}", item)
    elif isinstance(value, str) and len(value) > MAX_STRING_CHARS:
        raise ConfigError(
            path, f"{where} is {len(value):,} characters long (at most {MAX_STRING_CHARS:,})"
        )


def _check_keys(path: Path, where: str, table: dict[str, object], known: frozenset[str]) -> None:
    """Refuse unknown keys, naming the nearest known one: a typo must not be silently ignored."""
    unknown = sorted(set(table) - known)
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
    hint = f": did you mean {close[0]!r}?" if close and len(unknown) == 1 else ""
    raise ConfigError(
        path,
        f"{where} has unknown keys {', '.join(unknown)}{hint} (known: {', '.join(sorted(known))})",
    )


def with_mqtt_overrides(
    config: EdgeConfig,
    path: Path,
    *,
    broker: str | None = None,
    user: str | None = None,
    device: str | None = None,
    password_file: Path | None = None,
) -> EdgeConfig:
    """The config with the command line's ``--broker``/``--user``/``--device`` and
    ``--password-file`` over [mqtt]."""
    if broker is None and user is None and device is None and password_file is None:
        return config
    base = config.mqtt
    if base is None:
        if user is None or device is None:
            raise ConfigError(
                path, "publishing needs a user and a device: add [mqtt] or pass --user and --device"
            )
        base = _mqtt(path, {"user": user, "device": device})
    try:
        url = base.broker
        if broker is not None:
            url = BrokerUrl.parse(broker)
            if url.username is None:  # keep the config's credentials for the new address
                url = dataclasses.replace(
                    url, username=base.broker.username, password=base.broker.password
                )
        if password_file is not None:  # edge run --password-file
            url = with_password(
                dataclasses.replace(url, password=None), password_file=password_file
            )
        mqtt = dataclasses.replace(
            base,
            broker=url,
            user=base.user if user is None else check_id(user, "user"),
            device=base.device if device is None else check_id(device, "device"),
        )
    except TwitchWatchError as exc:
        raise ConfigError(path, str(exc)) from exc
    _check_one_sensor_per_site(path, list(config.sensors))
    return dataclasses.replace(config, mqtt=mqtt)


def _mqtt(path: Path, table: object) -> MqttConfig:
    if not isinstance(table, dict):
        raise ConfigError(path, "[mqtt] must be a table")
    _check_keys(path, "[mqtt]", table, _MQTT_KEYS)
    for key in ("user", "device"):
        if key not in table:
            raise ConfigError(path, f'[mqtt] needs {key} = "..." (the {key} topic level)')
    protocol = str(table.get("protocol", Protocol.MQTT5.value))
    if protocol not in Protocol.__members__.values():
        raise ConfigError(path, f'[mqtt] protocol must be "5" or "3.1.1", got {protocol!r}')
    window_s = table.get("window_s", WINDOW_S)
    if isinstance(window_s, bool) or not isinstance(window_s, int | float):
        raise ConfigError(path, f"[mqtt] window_s must be a number, got {window_s!r}")
    try:
        window_s = check_window_s(float(window_s))
    except WindowError as exc:
        raise ConfigError(path, f"[mqtt] window_s = {window_s!r}: {exc}") from exc
    try:
        broker = BrokerUrl.parse(str(table.get("broker", DEFAULT_BROKER)))
        if "username" in table:
            broker = dataclasses.replace(broker, username=str(table["username"]) or None)
        password = _password(path, table, broker)
        if password is not None:
            broker = dataclasses.replace(broker, password=password)
        elif broker.password is None:  # nothing in the file: $TWITCHWATCH_MQTT_PASSWORD, if set
            broker = with_password(broker)
        broker.check_credentials()
        user = check_id(str(table["user"]), "user")
        device = check_id(str(table["device"]), "device")
    except TwitchWatchError as exc:  # the URL, a password source or an id
        raise ConfigError(path, f"[mqtt] {exc}") from exc
    if broker.password is not None and broker.username is None:
        raise ConfigError(path, '[mqtt] has a password but no username: add username = "..."')
    outbox = None
    if "outbox" in table:
        outbox = Path(str(table["outbox"])).expanduser()
        if not outbox.is_absolute():
            outbox = path.parent / outbox
    tz = table.get("tz")
    if tz is not None:
        try:
            check_zone(tz)
        except ZoneError as exc:
            raise ConfigError(path, f"[mqtt] tz: {exc}") from None
    return MqttConfig(broker, user, device, Protocol(protocol), window_s, outbox, tz)


def _password(path: Path, table: dict[str, object], broker: BrokerUrl) -> str | None:
    """The password [mqtt] gives (inline, ``password_file`` or ``password_env``): one at most."""
    given = [key for key in _PASSWORD_KEYS if key in table]
    if broker.password is not None:
        given.insert(0, "a password in the broker URL")
    if len(given) > 1:
        raise ConfigError(
            path, f"[mqtt] gives the password twice ({' and '.join(given)}): keep one"
        )
    if "password_file" in table:
        secret = Path(str(table["password_file"])).expanduser()
        return read_password_file(secret if secret.is_absolute() else path.parent / secret)
    if "password_env" in table:
        return password_from_env(str(table["password_env"]))
    if "password" in table:
        return str(table["password"]) or None
    return None


def _check_one_sensor_per_site(path: Path, sensors: list[SensorConfig]) -> None:
    """A window reports each site once: two sensors on one site cannot both be published."""
    sites = [s.site for s in sensors]
    shared = sorted({s for s in sites if sites.count(s) > 1})
    if shared:
        raise ConfigError(
            path, f"[mqtt] publishes one sensor per site, but {', '.join(shared)} has several"
        )


def _sensor(path: Path, number: int, entry: object) -> SensorConfig:
    if not isinstance(entry, dict):
        raise ConfigError(path, f"sensor #{number} must be a table")
    _check_keys(path, f"[[sensor]] #{number}", entry, _SENSOR_KEYS)
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
    driver = str(entry.get("driver", DEFAULT_DRIVER))
    try:
        driver = driver_info(driver).name  # an alias ("polar") becomes its canonical name
    except UnknownDriverError as exc:
        close = difflib.get_close_matches(driver.lower(), exc.known, n=1, cutoff=0.5)
        hint = f": did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            path,
            f"sensor {key!r}: unknown driver {driver!r}{hint} (known: {', '.join(exc.known)})",
        ) from None
    try:
        return SensorConfig(key, site, driver)
    except TwitchWatchError as exc:
        raise ConfigError(path, f"sensor {key!r}: {exc}") from exc
