"""A running server with its web view on a free loopback port, over a stored history: for the web
view's tests, its browser test and the README's screenshot.

Two people (alice and bob, each with their own weeks), their accounts as ``broker-acl`` writes
them (``passwd`` with Mosquitto hashes, ``people``) plus a device account that may not log in.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.rules import load_rule_config
from server.service import Server
from server.store import open_store
from server.web import WebConfig, WebView, hash_password
from support.person_story import recent_story, store_story
from twitchwatch.contract import Report, ReportKind
from twitchwatch.mqtt_link import BrokerUrl, Protocol

PASSWORDS = {"alice": "alice-correct-horse", "bob": "bob-battery-staple"}
#: What only bob reported (an urgent alert of his own); it must never reach alice's pages.
BOB_NOTE = "bob-only: choked on rice"
BOB_SITE = "left_thigh"
DEVICE_ACCOUNT = ("dev-alice-pi", "device-password")
READY_TIMEOUT_S = 30.0


@dataclass
class WebEnv:
    server: Server
    view: WebView
    db: Path
    accounts: Path

    @property
    def url(self) -> str:
        return self.view.url


def write_accounts(folder: Path, passwords: dict[str, str]) -> None:
    """``passwd`` and ``people`` as broker-acl writes them (a device account in passwd only)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{name}:{hash_password(pw)}" for name, pw in passwords.items()]
    lines.append(f"{DEVICE_ACCOUNT[0]}:{hash_password(DEVICE_ACCOUNT[1])}")
    (folder / "passwd").write_text("\n".join(lines) + "\n")
    (folder / "people").write_text("".join(f"{name} {name}\n" for name in passwords))


def store_people(db: Path, now: datetime) -> None:
    with open_store(f"sqlite:///{db}") as store:
        store_story(store, recent_story("alice", now), now)
        # bob's weeks differ (another seed); his note and site must never show on alice's pages.
        bob = recent_story("bob", now, seed=5, extra_site=BOB_SITE)
        store_story(store, bob, now)
        swallowing = Report(now - timedelta(hours=20), ReportKind.SWALLOWING, note=BOB_NOTE)
        store.store_report("bob", swallowing, received=now)


@contextlib.asynccontextmanager
async def web_env(
    broker_url: str,
    folder: Path,
    *,
    protocol: Protocol = Protocol.MQTT5,
    trusted_proxy: str | None = None,
    now: datetime | None = None,
) -> AsyncIterator[WebEnv]:
    """Store the history, start the server on it, then its web view on a free port."""
    now = now or datetime.now(UTC)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    db, accounts = folder / "tw.db", folder / "accounts"
    await asyncio.to_thread(store_people, db, now)
    await asyncio.to_thread(write_accounts, accounts, PASSWORDS)
    client_id = f"web-env-server-{secrets.token_hex(3)}"  # several envs may share a broker
    server = Server(broker_url, f"sqlite:///{db}", client_id=client_id, protocol=protocol)
    stop = asyncio.Event()
    task = asyncio.create_task(server.run(stop))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({task, ready}, timeout=READY_TIMEOUT_S, return_when="FIRST_COMPLETED")
    if task.done():
        task.result()
    assert server.ready.is_set(), "server not ready"
    config = WebConfig(
        "127.0.0.1", 0, accounts, BrokerUrl.parse(broker_url), trusted_proxy=trusted_proxy
    )
    view = WebView(config, f"sqlite:///{db}", load_rule_config(None), protocol=protocol)
    try:
        await view.start()
        # The first evaluation of both histories is done before anything is shown.
        async with asyncio.timeout(READY_TIMEOUT_S):
            while server.pending_evaluations:
                await asyncio.sleep(0.05)
        yield WebEnv(server, view, db, accounts)
    finally:
        await view.close()
        stop.set()
        await asyncio.wait_for(task, READY_TIMEOUT_S)
