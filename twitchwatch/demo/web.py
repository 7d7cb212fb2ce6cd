"""``twitchwatch demo --web``: the person's web view over the demo's server, with a demo login.

The demo person gets an account with a generated password (shown once): in the ``passwd`` and
``people`` files that ``twitchwatch broker-acl`` would write, which the web view checks logins
against and Mosquitto (when the demo runs it) takes too, so the same login works for
``twitchwatch log`` and ``twitchwatch alerts`` on the demo's broker.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from server.broker_acl import PASSWORD_FILE, PEOPLE_FILE
from server.errors import WebConfigError
from server.rules import RuleConfig
from server.web import WebConfig, WebView, hash_password
from twitchwatch.mqtt_link import BrokerUrl, Protocol

#: The port the demo's web view tries first; a free one if it is taken.
DEFAULT_PORT = 8080


@dataclass(frozen=True, slots=True)
class DemoLogin:
    url: str  # the web view
    user: str
    password: str
    broker: str  # for `twitchwatch log` and `alerts`: with the login when the broker has it


def write_demo_account(folder: Path, user: str) -> str:
    """The demo person's account files in ``folder``; the password, to be shown once."""
    folder.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    (folder / PASSWORD_FILE).write_text(f"{user}:{hash_password(password)}\n")
    (folder / PEOPLE_FILE).write_text(f"{user} {user}\n")
    return password


async def start_web(
    stack: contextlib.AsyncExitStack,
    broker: BrokerUrl,
    db_url: str,
    protocol: Protocol,
    rules: RuleConfig,
    accounts: Path,
    port: int,
) -> WebView:
    """The web view on 127.0.0.1:``port`` (another free port if that one is taken)."""
    for attempt in (port, 0):
        view = WebView(
            WebConfig("127.0.0.1", attempt, accounts, broker), db_url, rules, protocol=protocol
        )
        try:
            await view.start()
        except WebConfigError:
            await view.close()
            if attempt == 0:
                raise
            continue
        stack.push_async_callback(view.close)
        return view
    raise AssertionError("unreachable")
