"""The accounts file (TOML): who talks to the broker, read strictly (a typo is an error).

See :mod:`server.broker_acl` for its format.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.errors import BrokerAclError
from server.homeassistant import DEFAULT_PREFIX, check_prefix
from twitchwatch.contract import ContractError, TwitchWatchError, check_id

DEFAULT_SERVER_ACCOUNT = "twitchwatch-server"


@dataclass(frozen=True, slots=True)
class Person:
    user: str
    devices: tuple[str, ...] = ()
    homeassistant: bool = False


@dataclass(frozen=True, slots=True)
class Deployment:
    """Everyone who talks to the broker."""

    people: tuple[Person, ...]
    #: One account per server process (several: a share group, each with its own session).
    servers: tuple[str, ...] = (DEFAULT_SERVER_ACCOUNT,)
    homeassistant: str | None = None  # Home Assistant's account, if it connects
    ha_prefix: str = DEFAULT_PREFIX
    web: str | None = None  # the web view's account (twitchwatch server --http), if it runs


_TOP_KEYS = {"server", "homeassistant", "ha_prefix", "people", "web"}
_PERSON_KEYS = {"devices", "homeassistant"}


def load_deployment(path: Path) -> Deployment:
    """Read an accounts file; a typo is an error, not an account without rights."""
    where = str(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BrokerAclError(where, f"cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise BrokerAclError(
            where, f"not UTF-8 text (offset {exc.start}): save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise BrokerAclError(where, f"not valid TOML ({exc})") from None
    _no_unknown_keys(doc, _TOP_KEYS, where)
    people_doc = doc.get("people", {})
    if not isinstance(people_doc, dict) or not people_doc:
        raise BrokerAclError(where, "list at least one person: [people.<user>] devices = [...]")
    people = tuple(
        _person(user, entry, f"{where} [people.{user}]") for user, entry in people_doc.items()
    )
    ha_account, web_account = doc.get("homeassistant"), doc.get("web")
    return Deployment(
        people=people,
        servers=_servers(doc.get("server", DEFAULT_SERVER_ACCOUNT), where),
        homeassistant=None if ha_account is None else _name(ha_account, where, "homeassistant"),
        ha_prefix=_ha_prefix(doc.get("ha_prefix", DEFAULT_PREFIX), where),
        web=None if web_account is None else _name(web_account, where, "web"),
    )


def _person(user: str, entry: Any, where: str) -> Person:
    if not isinstance(entry, dict):
        raise BrokerAclError(where, "must be a table")
    _no_unknown_keys(entry, _PERSON_KEYS, where)
    devices = entry.get("devices", [])
    if not isinstance(devices, list) or not all(isinstance(d, str) for d in devices):
        raise BrokerAclError(where, "devices must be a list of device ids")
    homeassistant = entry.get("homeassistant", False)
    if not isinstance(homeassistant, bool):
        raise BrokerAclError(where, "homeassistant must be true or false")
    try:
        return Person(
            check_id(user, "user"), tuple(check_id(d, "device") for d in devices), homeassistant
        )
    except ContractError as exc:
        raise BrokerAclError(where, str(exc)) from None


def _name(value: Any, where: str, key: str) -> str:
    try:
        return check_id(value, f"{key} account")
    except ContractError as exc:
        raise BrokerAclError(where, str(exc)) from None


def _servers(value: Any, where: str) -> tuple[str, ...]:
    """``server = "name"``, or a list of names: one account per server process."""
    names = value if isinstance(value, list) else [value]
    if not names:
        raise BrokerAclError(where, "server = [] names no server: give at least one account")
    servers = tuple(_name(name, where, "server") for name in names)
    if len(set(servers)) != len(servers):
        raise BrokerAclError(where, "server lists an account twice: each server needs its own")
    return servers


def _ha_prefix(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise BrokerAclError(where, "ha_prefix must be a string")
    try:
        return check_prefix(value)
    except TwitchWatchError as exc:
        raise BrokerAclError(where, str(exc)) from None


def _no_unknown_keys(doc: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(doc) - known)
    if unknown:
        raise BrokerAclError(
            where, f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
