"""The web view's accounts from `twitchwatch broker-acl`: people log in with their broker
passwords (and nobody else does), and the web view's own broker account may write people's
reports and acks and nothing more, checked on a real Mosquitto with the production template."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.broker_acl import load_deployment, plan_accounts, render_people, write_files
from server.web.accounts import Logins
from support.services import MosquittoBroker, free_port, mosquitto_path
from tests.test_broker_acl import ACCOUNTS, _need, render_template
from twitchwatch.contract import (
    AlertAck,
    Profile,
    Rule,
    alert_acks_topic,
    alert_topic,
    profile_topic,
    reports_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, MqttLink, PublishRefusedError

WEB_ACCOUNTS = 'web = "tw-web"\n' + ACCOUNTS


def _write(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "accounts.toml"
    path.write_text(WEB_ACCOUNTS)
    etc = tmp_path / "etc"
    written = write_files(plan_accounts(load_deployment(path)), etc)
    return etc, written.new_passwords


def test_people_file_lists_people_only(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(WEB_ACCOUNTS)
    accounts = plan_accounts(load_deployment(path))
    people = [line for line in render_people(accounts).splitlines() if not line.startswith("#")]
    assert people == ["alice alice", "bob bob"]
    web = next(a for a in accounts if a.username == "tw-web")
    assert [(g.access.value, g.topic) for g in web.grants] == [
        ("write", "twitchwatch/v1/+/reports"),
        ("write", "twitchwatch/v1/+/acks"),
        ("readwrite", "twitchwatch/v1/+/profile"),
    ]


def test_only_people_log_in_with_their_broker_passwords(tmp_path: Path) -> None:
    from server.broker_acl import mosquitto_passwd_path

    _need(mosquitto_passwd_path(), "mosquitto_passwd")
    etc, passwords = _write(tmp_path)
    logins = Logins(etc)
    assert logins.check("alice", passwords["alice"]) == "alice"
    assert logins.check("alice", passwords["bob"]) is None
    for account in ("tw-web", "tw-server", "dev-alice-alice-laptop", "ha"):
        assert logins.check(account, passwords[account]) is None, account


async def test_the_web_account_writes_reports_acks_and_profiles_only(tmp_path: Path) -> None:
    _need(mosquitto_path(), "mosquitto")
    etc, passwords = _write(tmp_path)
    config = render_template(etc, free_port(), None)
    with MosquittoBroker(extra_config=config) as broker:
        url = BrokerUrl.parse(f"mqtt://tw-web:{passwords['tw-web']}@127.0.0.1:{broker.port}")
        watcher_url = BrokerUrl.parse(
            f"mqtt://tw-server:{passwords['tw-server']}@127.0.0.1:{broker.port}"
        )
        watcher = MqttLink(
            watcher_url,
            client_id="server",
            subscriptions=[("twitchwatch/v1/+/reports", 1), ("twitchwatch/v1/+/acks", 1)],
        )
        async with watcher, MqttLink(url, client_id="web") as web:
            await asyncio.wait_for(watcher.subscribed.wait(), 5)
            ack = AlertAck(Rule.PERSISTENCE, "left_calf").to_payload()
            await web.publish(reports_topic("bob"), b'{"v": 1}', qos=1)
            await web.publish(alert_acks_topic("alice"), ack, qos=1)
            got = [await anext(watcher.messages()) for _ in range(2)]
            assert [m.topic for m in got] == [reports_topic("bob"), alert_acks_topic("alice")]
            profile = Profile("Europe/Berlin", "Alice").to_payload()
            await web.publish(profile_topic("alice"), profile, qos=1, retain=True)
            for topic in (
                alert_topic("alice", Rule.SPREAD, "all"),
                "twitchwatch/v1/alice/x/windows",
            ):
                with pytest.raises(PublishRefusedError):
                    await web.publish(topic, b"{}", qos=1)
