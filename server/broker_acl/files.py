"""The files Mosquitto and the web view read: ``acl``, ``passwd`` and ``people``.

Each is written atomically and keeps the mode and owner an existing one has.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from server.broker_acl.accounts import Account, Role
from server.broker_acl.passwords import hash_passwords, new_password, read_password_file
from server.errors import BrokerAclError

ACL_FILE = "acl"
PASSWORD_FILE = "passwd"
PEOPLE_FILE = "people"
#: New files: owner read-write, group (mosquitto) read, nobody else.
FILE_MODE = 0o640


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
    existing = read_password_file(password_path)
    new_passwords = {
        name: new_password() for name in names if name not in existing or name in rotate
    }
    hashed = hash_passwords(new_passwords, out_dir) if new_passwords else {}
    lines = [f"{name}:{hashed.get(name) or existing[name]}" for name in names]
    _replace(password_path, "\n".join(lines) + "\n")
    acl_path = out_dir / ACL_FILE
    _replace(acl_path, render_acl(accounts))
    _replace(out_dir / PEOPLE_FILE, render_people(accounts))
    removed = tuple(sorted(set(existing) - set(names)))
    return WrittenFiles(acl_path, password_path, new_passwords, removed)


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
