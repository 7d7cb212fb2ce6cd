"""New broker passwords, and their hashes by Mosquitto's own ``mosquitto_passwd``.

The plain passwords go to ``mosquitto_passwd -U`` in a private temporary file, never on a
command line where ``ps`` would show them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from server.errors import BrokerAclError

#: 32 random bytes, URL-safe: a password can go into mqtt://user:password@host as it is.
PASSWORD_BYTES = 32


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def read_password_file(path: Path) -> dict[str, str]:
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


def hash_passwords(passwords: dict[str, str], out_dir: Path) -> dict[str, str]:
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
        hashed = read_password_file(plain)
    if set(hashed) != set(passwords) or any(hashed[n] == passwords[n] for n in passwords):
        raise BrokerAclError("mosquitto_passwd -U", "did not hash every password")
    return hashed
