"""Broker accounts for a deployment: one per device, one per person, the server, Home Assistant.

The deployed broker binds each session to its account (``use_username_as_clientid``), so every
process needs its own account: each server of a share group, each device.

Mosquitto's ``pattern`` ACLs substitute one whole topic level (``%u`` or ``%c``), and a TwitchWatch
device topic needs two (``twitchwatch/v1/<user>/<device>/…``), so every account gets an explicit
``user`` block instead. From an accounts file (TOML)::

    server = "twitchwatch-server"         # the server's account; a share group lists one each:
                                          # server = ["tw-server-1", "tw-server-2"]
    homeassistant = "homeassistant"       # optional: Home Assistant's own account

    [people.alice]
    devices = ["laptop", "pi-bedroom"]    # each becomes account dev-alice-laptop, ...
    homeassistant = true                  # alice's data may be shown in Home Assistant

:func:`write_files` writes the ACL file and the password file. New accounts get a random password,
returned once to be shown once; accounts already in the password file keep theirs (unless
rotated) and accounts no longer listed are removed. Passwords are hashed by ``mosquitto_passwd -U``
from a private temporary file, never passed on a command line where ``ps`` would show them.

What each account may do (anything else is denied; MQTT 5 clients get "Not authorized"):

- device ``dev-<user>-<device>``: write its ``windows`` and ``status`` (the Last Will too), read
  its ``ack``; read and write its person's ``profile`` (the edge merges ``[mqtt] tz`` into it);
  read the server's status (its time tells the edge whether its clock is right);
- person ``<user>``: read ``<user>/alerts/#``, write ``<user>/reports`` and ``<user>/acks``,
  read and write ``<user>/profile`` (``twitchwatch alerts`` shows times in its zone), read the
  server's status; with ``homeassistant = true`` also read its devices' ``windows``/``status``
  and write discovery configs under its own ``node_id`` (``alerts --homeassistant``);
- server: read every ``windows``, ``status``, ``reports``, ``acks`` and ``profile``; write every
  device ``ack``, every alert and its own status, and nothing more (least privilege: it never
  reads alerts, its status or the device acks);
- Home Assistant: read the windows, status and alerts of people who opted in, the server's
  status, and its own discovery prefix;
- the web view (``web = "twitchwatch-web"``, optional): write every person's ``reports`` and
  ``acks``, read and write every ``profile`` (it publishes what a logged-in person sends, on
  that person's topics only).

Beside ``acl`` and ``passwd``, :func:`write_files` writes ``people``: which accounts are people
(``<username> <user>`` per line). The web view lets only those log in, with their broker password
checked against ``passwd``; device, server and Home Assistant accounts cannot.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from server.errors import BrokerAclError
from server.homeassistant import DEFAULT_PREFIX, check_prefix, node_id
from twitchwatch.contract import (
    ALL_ALERTS_FILTER,
    SERVER_FILTERS,
    SERVER_STATUS_TOPIC,
    ContractError,
    TopicKind,
    TwitchWatchError,
    alert_acks_topic,
    alerts_filter,
    check_id,
    device_filter,
    device_topic,
    profile_topic,
    reports_topic,
)

ACL_FILE = "acl"
PASSWORD_FILE = "passwd"
PEOPLE_FILE = "people"
DEFAULT_SERVER_ACCOUNT = "twitchwatch-server"
#: 32 random bytes, URL-safe: a password can go into mqtt://user:password@host as it is.
PASSWORD_BYTES = 32
#: New files: owner read-write, group (mosquitto) read, nobody else.
FILE_MODE = 0o640


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    READWRITE = "readwrite"


class Role(StrEnum):
    SERVER = "server"
    DEVICE = "device"
    PERSON = "person"
    HOMEASSISTANT = "homeassistant"
    WEB = "web"


@dataclass(frozen=True, slots=True)
class Grant:
    access: Access
    topic: str


@dataclass(frozen=True, slots=True)
class Account:
    """One broker username and what it may read and write."""

    username: str
    role: Role
    description: str
    grants: tuple[Grant, ...]


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


# --- accounts file ---------------------------------------------------------------------------------

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


# --- accounts and their grants ---------------------------------------------------------------------


def device_username(user: str, device: str) -> str:
    return f"dev-{user}-{device}"


def plan_accounts(deployment: Deployment) -> list[Account]:
    """Every account with its grants; usernames must be unique. Device ids are per person
    (issue 15): two people may each have a ``kitchen-pi``, each its own account and topics."""
    shared = len(deployment.servers) > 1
    accounts = [_server(name, shared) for name in deployment.servers]
    for person in deployment.people:
        accounts.append(_person_account(person, deployment.ha_prefix))
        for device in person.devices:
            accounts.append(_device_account(person.user, device))
    if deployment.homeassistant is not None:
        shown = [p.user for p in deployment.people if p.homeassistant]
        accounts.append(_homeassistant(deployment.homeassistant, shown, deployment.ha_prefix))
    if deployment.web is not None:
        accounts.append(_web(deployment.web))
    seen: dict[str, Account] = {}
    for account in accounts:
        if account.username in seen:
            raise BrokerAclError(
                "accounts",
                f"username {account.username!r} is both {seen[account.username].description} "
                f"and {account.description}: rename one",
            )
        seen[account.username] = account
    return accounts


def _server(username: str, shared: bool) -> Account:
    """What the server subscribes to, and what it publishes (a share group's servers settle
    the device acks from the database, server/ack_settle.py: none reads them)."""
    reads = [Grant(Access.READ, SERVER_FILTERS[kind]) for kind in SERVER_FILTERS]
    writes = [
        Grant(Access.WRITE, device_filter(TopicKind.ACK)),
        Grant(Access.WRITE, ALL_ALERTS_FILTER),
        Grant(Access.WRITE, SERVER_STATUS_TOPIC),
    ]
    what = "a TwitchWatch server of the share group" if shared else "the TwitchWatch server"
    return Account(username, Role.SERVER, what, (*reads, *writes))


def _device_account(user: str, device: str) -> Account:
    return Account(
        device_username(user, device),
        Role.DEVICE,
        f"device {device} of {user}",
        (
            Grant(Access.WRITE, device_topic(user, device, TopicKind.WINDOWS)),
            Grant(Access.WRITE, device_topic(user, device, TopicKind.STATUS)),
            Grant(Access.READ, device_topic(user, device, TopicKind.ACK)),
            # read too: the edge merges its zone into the profile (edge/publisher/profile.py)
            Grant(Access.READWRITE, profile_topic(user)),
            # its "at" tells the edge whether its clock is far off (edge/wall_clock.py)
            Grant(Access.READ, SERVER_STATUS_TOPIC),
        ),
    )


def _person_account(person: Person, ha_prefix: str) -> Account:
    user = person.user
    grants = [
        Grant(Access.READ, alerts_filter(user)),
        Grant(Access.WRITE, reports_topic(user)),
        Grant(Access.WRITE, alert_acks_topic(user)),
        Grant(Access.READWRITE, profile_topic(user)),
        Grant(Access.READ, SERVER_STATUS_TOPIC),
    ]
    if person.homeassistant:
        grants += [
            Grant(Access.READ, device_filter(TopicKind.WINDOWS, user)),
            Grant(Access.READ, device_filter(TopicKind.STATUS, user)),
            Grant(Access.WRITE, f"{ha_prefix}/+/{node_id(user)}/+/config"),
            Grant(Access.READ, f"{ha_prefix}/status"),
        ]
    return Account(user, Role.PERSON, f"person {user}", tuple(grants))


def _homeassistant(username: str, users: Iterable[str], ha_prefix: str) -> Account:
    grants = [Grant(Access.READWRITE, f"{ha_prefix}/#"), Grant(Access.READ, SERVER_STATUS_TOPIC)]
    for user in users:
        grants += [
            Grant(Access.READ, device_filter(TopicKind.WINDOWS, user)),
            Grant(Access.READ, device_filter(TopicKind.STATUS, user)),
            Grant(Access.READ, alerts_filter(user)),
        ]
    return Account(username, Role.HOMEASSISTANT, "Home Assistant", tuple(grants))


def _web(username: str) -> Account:
    """The web view publishes what a logged-in person sends: reports, acks and their profile, on
    that person's own topics (the web view checks whose; the broker can only say "some
    person's"). It reads the profiles for people's display names."""
    writes = [SERVER_FILTERS[TopicKind.REPORTS], SERVER_FILTERS[TopicKind.ALERT_ACKS]]
    grants = [Grant(Access.WRITE, topic) for topic in writes]
    grants.append(Grant(Access.READWRITE, SERVER_FILTERS[TopicKind.PROFILE]))
    return Account(username, Role.WEB, "the TwitchWatch web view", tuple(grants))


def render_people(accounts: Iterable[Account]) -> str:
    """The ``people`` file: the accounts that may log in to the web view, and their user ids."""
    lines = [
        "# TwitchWatch people, written by `twitchwatch broker-acl`: the accounts that may log in",
        "# to the web view (twitchwatch server --http), as '<username> <user>'.",
    ]
    lines += [f"{a.username} {a.username}" for a in accounts if a.role is Role.PERSON]
    return "\n".join(lines) + "\n"


def render_acl(accounts: Iterable[Account]) -> str:
    """The Mosquitto ACL file. No topic lines before the first ``user``: anonymous gets nothing."""
    lines = [
        "# TwitchWatch broker ACL, written by `twitchwatch broker-acl`: edit the accounts file and",
        "# re-run it rather than this file. Whatever is not granted here is denied.",
    ]
    for account in accounts:
        lines += ["", f"# {account.role.value}: {account.description}", f"user {account.username}"]
        lines += [f"topic {grant.access.value} {grant.topic}" for grant in account.grants]
    return "\n".join(lines) + "\n"


# --- files -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WrittenFiles:
    acl_path: Path
    password_path: Path
    new_passwords: dict[str, str]  # username -> password, for accounts new or rotated now
    removed: tuple[str, ...]  # usernames dropped from the password file


def write_files(
    accounts: list[Account], out_dir: Path, *, rotate: Collection[str] = ()
) -> WrittenFiles:
    """Write ``acl`` and ``passwd`` into ``out_dir``; new and rotated accounts get passwords."""
    names = [a.username for a in accounts]
    unknown = sorted(set(rotate) - set(names))
    if unknown:
        raise BrokerAclError("--rotate", f"no account named {', '.join(unknown)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    password_path = out_dir / PASSWORD_FILE
    existing = _read_password_file(password_path)
    new_passwords = {
        name: secrets.token_urlsafe(PASSWORD_BYTES)
        for name in names
        if name not in existing or name in rotate
    }
    hashed = _hash_passwords(new_passwords, out_dir) if new_passwords else {}
    lines = [f"{name}:{hashed.get(name) or existing[name]}" for name in names]
    _replace(password_path, "\n".join(lines) + "\n")
    acl_path = out_dir / ACL_FILE
    _replace(acl_path, render_acl(accounts))
    _replace(out_dir / PEOPLE_FILE, render_people(accounts))
    removed = tuple(sorted(set(existing) - set(names)))
    return WrittenFiles(acl_path, password_path, new_passwords, removed)


def _read_password_file(path: Path) -> dict[str, str]:
    """username -> hash of an existing Mosquitto password file (empty if there is none)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not hashed:
            raise BrokerAclError(f"{path}:{number}", "not a 'username:hash' line")
        entries[name] = hashed
    return entries


def mosquitto_passwd_path() -> str | None:
    return shutil.which("mosquitto_passwd")


def _hash_passwords(passwords: dict[str, str], out_dir: Path) -> dict[str, str]:
    """username -> Mosquitto hash, by ``mosquitto_passwd -U`` on a private temporary file."""
    tool = mosquitto_passwd_path()
    if tool is None:
        raise BrokerAclError(
            "mosquitto_passwd", "not found: install Mosquitto (Debian: apt install mosquitto)"
        )
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".hashing-") as private:  # mode 0700
        plain = Path(private) / "passwd"
        fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.writelines(f"{name}:{password}\n" for name, password in passwords.items())
        done = subprocess.run(
            [tool, "-U", str(plain)], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise BrokerAclError("mosquitto_passwd -U", (done.stderr or done.stdout).strip())
        hashed = _read_password_file(plain)
    if set(hashed) != set(passwords) or any(hashed[n] == passwords[n] for n in passwords):
        raise BrokerAclError("mosquitto_passwd -U", "did not hash every password")
    return hashed


def _replace(path: Path, text: str) -> None:
    """Write atomically; an existing file keeps its mode and owner (e.g. root:mosquitto 0640)."""
    try:
        old = path.stat()
    except FileNotFoundError:
        old = None
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, FILE_MODE if old is None else old.st_mode & 0o777)
    if old is not None and os.geteuid() == 0:
        os.chown(tmp, old.st_uid, old.st_gid)
    os.replace(tmp, path)
