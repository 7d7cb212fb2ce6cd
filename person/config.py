"""A person's own settings: ``~/.config/twitchwatch/person.toml`` (XDG paths, via platformdirs).

```toml
broker = "mqtts://broker.example:8883?ca=/etc/twitchwatch/ca.crt"
user = "alice"            # your id: topics twitchwatch/v1/alice/…
password = "…"            # your broker account's (the account is named like the user)
# username = "alice"      # only if your broker account has another name
# tz = "Europe/Berlin"    # the zone --at reads times in, until the server knows yours
# outbox = "reports.db"   # relative to this file; default ~/.local/share/twitchwatch/
```

Every key is optional: the command line gives what the file does not. A typo is one line naming
the file and the key.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

from person.errors import PersonConfigError
from person.zone import zone_named
from twitchwatch.contract import ContractError, check_id
from twitchwatch.mqtt_link import BrokerUrl, MqttLinkError

APP = "twitchwatch"
CONFIG_NAME = "person.toml"
OUTBOX_NAME = "reports-outbox.db"
_KEYS = ("broker", "user", "username", "password", "tz", "outbox")


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/twitchwatch/person.toml`` (``~/.config`` by default)."""
    return platformdirs.user_config_path(APP) / CONFIG_NAME


def default_outbox_path() -> Path:
    """``$XDG_DATA_HOME/twitchwatch/reports-outbox.db`` (``~/.local/share`` by default)."""
    return platformdirs.user_data_path(APP) / OUTBOX_NAME


@dataclass(frozen=True, slots=True)
class PersonConfig:
    """What person.toml says; None where it says nothing."""

    path: Path
    broker: str | None = None
    user: str | None = None
    username: str | None = None
    password: str | None = None
    tz: str | None = None
    outbox: Path | None = None

    def broker_url(self, url: str) -> BrokerUrl:
        """``url`` with this file's credentials when the URL carries none.

        The account is named like the user unless ``username`` says otherwise (that is how
        ``twitchwatch broker-acl`` names a person's account).
        """
        try:
            broker = BrokerUrl.parse(url)
        except MqttLinkError as exc:
            raise PersonConfigError(self.path, str(exc)) from None
        if broker.username is not None or self.password is None:
            return broker
        return replace(broker, username=self.username or self.user, password=self.password)


def load_person_config(path: Path | None = None) -> PersonConfig:
    """Read person.toml; the default file may be missing (nothing set), a named one may not."""
    named = path is not None
    path = path or default_config_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        if named:
            raise PersonConfigError(path, "no such file") from None
        return PersonConfig(path)
    except OSError as exc:
        raise PersonConfigError(path, f"cannot read it ({exc.strerror})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PersonConfigError(path, f"not valid TOML ({exc})") from None
    for key, value in doc.items():
        if key not in _KEYS:
            guess = difflib.get_close_matches(key, _KEYS, n=1)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            raise PersonConfigError(path, f"unknown key {key!r}: {hint}(known: {', '.join(_KEYS)})")
        if not isinstance(value, str):
            raise PersonConfigError(path, f"{key} must be a string")
    user = doc.get("user")
    if user is not None:
        try:
            check_id(user, "user")
        except ContractError as exc:
            raise PersonConfigError(path, str(exc)) from None
    tz = doc.get("tz")
    if tz is not None and zone_named(tz) is None:
        raise PersonConfigError(path, f'tz {tz!r} is not an IANA time zone such as "Europe/Berlin"')
    outbox = None
    if "outbox" in doc:
        outbox = Path(doc["outbox"]).expanduser()
        outbox = outbox if outbox.is_absolute() else path.parent / outbox
    return PersonConfig(
        path,
        broker=doc.get("broker"),
        user=user,
        username=doc.get("username"),
        password=doc.get("password"),
        tz=tz,
        outbox=outbox,
    )
