"""The broker password from somewhere other than a command line: a file, a variable, systemd.

A password on a command line (or in a URL there) is readable by every user of the machine
(``ps``, ``/proc/<pid>/cmdline``). These are the places a service takes it from instead:

- a file only its user can read (``--password-file``, ``[mqtt] password_file``);
- the environment variable :data:`PASSWORD_ENV` (visible to the same user and root only);
- a systemd credential: ``LoadCredential=mqtt-password:/etc/twitchwatch/mqtt-password`` in the
  unit puts it in ``$CREDENTIALS_DIRECTORY/mqtt-password``, readable by that service alone, and it
  is read from there with nothing on the command line.

:func:`with_password` puts one of them into a :class:`~twitchwatch.mqtt_link.BrokerUrl` that has
a username, and refuses a second password (a URL with one and a file too) rather than guess.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from twitchwatch.errors import CredentialError
from twitchwatch.mqtt_link.url import MAX_CREDENTIAL_BYTES, BrokerUrl

log = logging.getLogger(__name__)

#: Read when the broker URL has a username and no password, and no password file is given.
PASSWORD_ENV = "TWITCHWATCH_MQTT_PASSWORD"
#: Then this systemd credential (``LoadCredential=mqtt-password:…``), if the unit has one.
CREDENTIAL_NAME = "mqtt-password"
#: Where systemd puts a unit's credentials (set for the service's processes only).
CREDENTIALS_DIRECTORY_ENV = "CREDENTIALS_DIRECTORY"


def systemd_credential(environ: Mapping[str, str] = os.environ) -> Path | None:
    """``$CREDENTIALS_DIRECTORY/mqtt-password`` if this runs in a unit that loaded it."""
    folder = environ.get(CREDENTIALS_DIRECTORY_ENV)
    if not folder:
        return None
    path = Path(folder) / CREDENTIAL_NAME
    return path if path.is_file() else None


def read_password_file(path: Path) -> str:
    """The password a file holds (one line; a final newline is not part of it)."""
    source = f"file {path}"
    try:
        with path.open("rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            raw = f.read(MAX_CREDENTIAL_BYTES + 3)  # room for a CRLF, and one byte to see more
    except FileNotFoundError:
        raise CredentialError(source, "no such file") from None
    except IsADirectoryError:
        raise CredentialError(source, "is a folder, not a file") from None
    except OSError as exc:
        raise CredentialError(source, f"cannot read it ({exc.strerror or exc})") from None
    if stat.S_IMODE(mode) & (stat.S_IROTH | stat.S_IWOTH):
        log.warning("%s is readable by every user (mode %04o): chmod 600 it", path, mode & 0o777)
    return _one_password(source, raw)


def password_from_env(name: str = PASSWORD_ENV, environ: Mapping[str, str] = os.environ) -> str:
    """The password in environment variable ``name``; CredentialError if unset or unusable."""
    value = environ.get(name)
    if value is None:
        raise CredentialError(f"${name}", "the variable is not set")
    return _one_password(f"${name}", value.encode())


def _one_password(source: str, raw: bytes) -> str:
    text = raw.removesuffix(b"\n").removesuffix(b"\r")
    if len(text) > MAX_CREDENTIAL_BYTES:
        raise CredentialError(source, f"longer than MQTT allows ({MAX_CREDENTIAL_BYTES:,} bytes)")
    if not text:
        raise CredentialError(source, "empty")
    if b"\n" in text or b"\r" in text:
        raise CredentialError(source, "holds several lines; put the password alone on one line")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialError(source, "not UTF-8 text") from None


def with_password(
    broker: BrokerUrl,
    *,
    password_file: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> BrokerUrl:
    """``broker`` with its password from ``password_file``; else, when the URL has a username
    and no password, from :data:`PASSWORD_ENV` if set, else from the unit's systemd credential
    :data:`CREDENTIAL_NAME`; unchanged when none applies."""
    implicit = broker.password is None and broker.username is not None
    credential = systemd_credential(environ) if implicit else None
    if password_file is not None:
        if broker.password is not None:
            raise CredentialError(
                f"file {password_file}", "the broker URL holds a password too: keep one of them"
            )
        password = read_password_file(password_file)
    elif implicit and PASSWORD_ENV in environ:
        password = password_from_env(PASSWORD_ENV, environ)
    elif credential is not None:
        password = read_password_file(credential)
    else:
        return broker
    if broker.username is None:
        raise CredentialError(
            "the broker URL", "a password needs a username: mqtt://USERNAME@host:port"
        )
    return dataclasses.replace(broker, password=password)
