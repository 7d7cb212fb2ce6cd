"""Who may log in to the web view: the people of ``twitchwatch broker-acl``, with their broker
passwords.

The folder that ``broker-acl --out`` writes holds ``passwd`` (Mosquitto's hashes) and ``people``
(which accounts are people, ``<username> <user>`` per line). Only accounts listed in ``people``
may log in; devices, the server and Home Assistant have broker accounts but no web login. Both
files are read again when they change, so a new person or a rotated password counts at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from server.broker_acl import PASSWORD_FILE, PEOPLE_FILE
from server.errors import WebConfigError
from server.web.passwords import verify_password
from twitchwatch.contract import ContractError, check_id


@dataclass(frozen=True, slots=True)
class _Snapshot:
    stamp: tuple[float, float, int, int]  # both files' mtimes and sizes
    hashes: dict[str, str]  # username -> Mosquitto hash
    people: dict[str, str]  # username -> user id


class Logins:
    """Checks a person's username and password against the broker's account files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.passwd, self.people = folder / PASSWORD_FILE, folder / PEOPLE_FILE
        self._snapshot = self._load()

    def check(self, username: str, password: str) -> str | None:
        """The user id of a person whose password matches; None otherwise (same time either way).

        Runs a key derivation: call it off the event loop.
        """
        snapshot = self._current()
        user = snapshot.people.get(username)
        stored = snapshot.hashes.get(username) if user is not None else None
        return user if verify_password(password, stored) else None

    def _current(self) -> _Snapshot:
        if self._stamp() != self._snapshot.stamp:
            self._snapshot = self._load()
        return self._snapshot

    def _stamp(self) -> tuple[float, float, int, int]:
        try:
            a, b = os.stat(self.passwd), os.stat(self.people)
        except OSError as exc:
            raise self._error(exc) from None
        return (a.st_mtime, b.st_mtime, a.st_size, b.st_size)

    def _load(self) -> _Snapshot:
        stamp = self._stamp()
        try:
            passwd, people = self.passwd.read_text(), self.people.read_text()
        except OSError as exc:
            raise self._error(exc) from None
        hashes = dict(_entries(passwd, ":"))
        users: dict[str, str] = {}
        for username, user in _entries(people, " "):
            try:
                users[username] = check_id(user, "user")
            except ContractError as exc:
                raise WebConfigError(str(self.people), str(exc)) from None
        return _Snapshot(stamp, hashes, users)

    def _error(self, exc: OSError) -> WebConfigError:
        where = exc.filename or str(self.folder)
        return WebConfigError(
            str(where),
            f"cannot read it ({exc.strerror}): write it with "
            f"`twitchwatch broker-acl ACCOUNTS --out {self.folder}`",
        )


def _entries(text: str, separator: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(separator)
        if sep and name and value:
            pairs.append((name, value.strip()))
    return pairs
