"""Mosquitto 2's password hashes, checked with hashlib: the web view's logins reuse the broker's
accounts, so a person has one password and the server keeps no copy of it, not even hashed.

Two formats, as ``mosquitto_passwd`` writes them (Mosquitto 2.0, ``password_mosq.c``):

- ``$7$<iterations>$<salt>$<hash>``: PBKDF2-HMAC-SHA512 (the default; 101 iterations unless
  ``-I`` says otherwise), a 64-byte key;
- ``$6$<salt>$<hash>``: one SHA-512 of the password followed by the salt (``-H sha512``).

Salt and hash are base64; the salt is used as the bytes it decodes to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PBKDF2 = "7"
SHA512 = "6"
#: Mosquitto's own default; the tools' hashes and ours verify the same way whatever the count.
DEFAULT_ITERATIONS = 101
SALT_BYTES = 12
KEY_BYTES = 64
#: A hash no password matches, checked when a username is unknown so that a wrong username and
#: a wrong password take the same time.
_DECOY = f"${PBKDF2}${DEFAULT_ITERATIONS}${'A' * 16}${'A' * 88}"
#: More iterations than this in a password file is a typo or an attack on our CPU time.
MAX_ITERATIONS = 10_000_000


def hash_password(password: str, *, iterations: int = DEFAULT_ITERATIONS) -> str:
    """A ``$7$`` hash of ``password`` that Mosquitto and :func:`verify_password` accept."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, KEY_BYTES)
    return f"${PBKDF2}${iterations}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Does ``password`` match the Mosquitto hash ``stored``? None (no such account): no, in
    the same time as a wrong password. A malformed hash never matches."""
    parts = (stored or _DECOY).split("$")
    try:
        match parts:
            case ["", "7", iterations, salt, key] if 0 < int(iterations) <= MAX_ITERATIONS:
                want = base64.b64decode(key, validate=True)
                got = hashlib.pbkdf2_hmac(
                    "sha512", password.encode(), base64.b64decode(salt), int(iterations), len(want)
                )
            case ["", "6", salt, key]:
                want = base64.b64decode(key, validate=True)
                got = hashlib.sha512(password.encode() + base64.b64decode(salt)).digest()
            case _:
                return False
    except (ValueError, binascii.Error):
        return False
    return stored is not None and hmac.compare_digest(got, want)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
