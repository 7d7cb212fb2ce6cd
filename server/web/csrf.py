"""CSRF tokens: one per session, in every form, compared in constant time.

The login form has no session yet: it carries a random token that is also set as a short-lived
HttpOnly, SameSite=Strict cookie, and the two must match (a "double submit"). Another site can
make a browser post a form, but it can neither read our page's token nor set our cookie.
"""

from __future__ import annotations

import hmac
import secrets

LOGIN_COOKIE = "tw_login"
#: The login form's token lasts as long as a person may take to type a password.
LOGIN_TOKEN_S = 3600
TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def login_token(given: str | None) -> str:
    """The login form's token: the one the browser already holds, if it looks like ours."""
    if (
        given
        and len(given) == len(new_token())
        and given.replace("-", "").replace("_", "").isalnum()
    ):
        return given
    return new_token()


def matches(expected: str | None, given: str) -> bool:
    """Does the token a form carried match the one we gave out? Never for a missing one."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
