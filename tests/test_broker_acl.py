"""Broker accounts and the production Mosquitto template, against a real Mosquitto.

The broker runs deploy/mosquitto/mosquitto.conf itself (ports and paths moved into a temp dir)
with files written by server/broker_acl/, so what is tested is what gets deployed.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.alert_feed import AlertFeed, FeedLine, follow
from server.broker_acl import (
    load_deployment,
    mosquitto_passwd_path,
    plan_accounts,
    render_acl,
    write_files,
)
from server.errors import BrokerAclError, SessionIdError
from server.homeassistant import HomeAssistantBridge
from server.service import session_client_id
from support.services import MosquittoBroker, free_port, mosquitto_path, services_required
from twitchwatch.contract import (
    SERVER_FILTERS,
    SERVER_STATUS_TOPIC,
    AlertState,
    AlertStatus,
    DeviceState,
    DeviceStatus,
    Profile,
    Rule,
    ServerStatus,
    Severity,
    SiteWindow,
    TopicKind,
    WindowMessage,
    alert_acks_topic,
    alert_topic,
    alerts_filter,
    device_topic,
    profile_topic,
    reports_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, Message, MqttLink, MqttLinkError
from twitchwatch.mqtt_link.credentials import PASSWORD_ENV

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto" / "mosquitto.conf"
TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]
WAIT_S = 5.0

ACCOUNTS = """
server = "tw-server"
homeassistant = "ha"

[people.alice]
devices = ["alice-laptop"]
homeassistant = true

[people.bob]
devices = ["bob-pi"]
"""


def _need(tool: str | None, name: str) -> None:
    if tool is None:
        reason = f"needs {name} (not on PATH)"
        if services_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def make_certs(folder: Path) -> None:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    folder.mkdir(parents=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=TwitchWatch test CA",
    )  # fmt: skip
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf",
    )  # fmt: skip


def render_template(etc: Path, loopback_port: int, tls_port: int | None) -> str:
    """The production config with its paths under tmp and its ports free; TLS dropped if None.

    MosquittoBroker's own lines come first, as Debian's main mosquitto.conf does before conf.d:
    an anonymous listener and persistence_location, which the template must not repeat.
    """
    text = TEMPLATE.read_text()
    text = text.replace("/etc/mosquitto/twitchwatch/", f"{etc}/")
    text = text.replace("listener 1883 127.0.0.1", f"listener {loopback_port} 127.0.0.1")
    if tls_port is None:
        text = re.sub(
            r"listener 8883\n(?:(?:use_username_as_clientid|tls_version|cafile|certfile|keyfile) "
            r".*\n)+",
            "",
            text,
        )
    else:
        text = text.replace("listener 8883", f"listener {tls_port} 127.0.0.1")
    assert not re.search(r"^listener (1883|8883)\b", text, re.MULTILINE)
    return text


@dataclass
class Secured:
    broker: MosquittoBroker
    passwords: dict[str, str]
    etc: Path
    tls_port: int | None
    port: int  # the template's own loopback listener, with its per-listener settings

    def url(self, username: str, password: str | None = None) -> BrokerUrl:
        secret = self.passwords[username] if password is None else password
        return BrokerUrl.parse(f"mqtt://{username}:{secret}@127.0.0.1:{self.port}")


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Secured]:
    _need(mosquitto_path(), "mosquitto")
    _need(mosquitto_passwd_path(), "mosquitto_passwd")
    accounts_file = tmp_path / "accounts.toml"
    accounts_file.write_text(ACCOUNTS)
    etc = tmp_path / "etc"
    written = write_files(plan_accounts(load_deployment(accounts_file)), etc)
    tls_port = None
    if shutil.which("openssl") is not None:
        make_certs(etc / "certs")
        tls_port = free_port()
    port = free_port()
    config = render_template(etc, port, tls_port)
    with MosquittoBroker(extra_config=config) as broker:
        yield Secured(broker, written.new_passwords, etc, tls_port, port)


def window(user: str, device: str, seq: int = 1) -> WindowMessage:
    end = datetime.now(UTC).replace(microsecond=0)
    site = SiteWindow(3, 0, 50.0, 5.0, 5.0, 80.0, "uV")
    return WindowMessage(user, device, seq, end - timedelta(seconds=60), end, {"left_calf": site})


def alert(scope: str, version: int = 1) -> AlertState:
    return AlertState(
        Rule.PERSISTENCE,
        scope,
        Severity.ADVISORY,
        AlertStatus.FIRING,
        datetime(2026, 11, 1, tzinfo=UTC),
        "Twitching recorded at the left calf on 16 of the last 21 days.",
        version=version,
    )


async def next_message(link: MqttLink) -> Message:
    async with asyncio.timeout(WAIT_S):
        return await anext(link.messages())


def client(secured: Secured, username: str, subscriptions: list[str] = ()) -> MqttLink:  # type: ignore[assignment]
    return MqttLink(
        secured.url(username),
        client_id=f"test-{username}",
        subscriptions=[(topic, 1) for topic in subscriptions],
    )


# --- the generated ACL ----------------------------------------------------------------------------


def test_acl_grants_each_account_its_own_topics_only(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(ACCOUNTS)
    acl = render_acl(plan_accounts(load_deployment(path)))
    blocks = {
        block.splitlines()[1].removeprefix("user "): block.splitlines()[2:]
        for block in acl.split("\n\n")[1:]
    }
    assert blocks["dev-alice-alice-laptop"] == [
        "topic write twitchwatch/v1/alice/alice-laptop/windows",
        "topic write twitchwatch/v1/alice/alice-laptop/status",
        "topic read twitchwatch/v1/alice/alice-laptop/ack",
        "topic readwrite twitchwatch/v1/alice/profile",  # merged into, not overwritten
        "topic read twitchwatch/v1/_server/status",  # the server's time: is our clock right?
    ]
    assert blocks["bob"] == [  # no Home Assistant for bob
        "topic read twitchwatch/v1/bob/alerts/#",
        "topic write twitchwatch/v1/bob/reports",
        "topic write twitchwatch/v1/bob/acks",
        "topic readwrite twitchwatch/v1/bob/profile",
        "topic read twitchwatch/v1/_server/status",
    ]
    assert "topic write homeassistant/+/twitchwatch_alice/+/config" in blocks["alice"]
    assert "topic read twitchwatch/v1/alice/+/windows" in blocks["alice"]
    # Least privilege: the server reads what it subscribes to, writes acks, alerts, its status.
    assert blocks["tw-server"] == [
        *(f"topic read {topic}" for topic in SERVER_FILTERS.values()),
        "topic write twitchwatch/v1/+/+/ack",
        "topic write twitchwatch/v1/+/alerts/#",
        "topic write twitchwatch/v1/_server/status",
    ]
    assert "topic read twitchwatch/v1/alice/alerts/#" in blocks["ha"]
    assert "topic read twitchwatch/v1/_server/status" in blocks["ha"]
    assert not any("/bob/" in line for line in blocks["ha"])
    # Lines before the first "user" would apply to anonymous clients: there are none.
    before_first_user = acl.split("\nuser ", 1)[0]
    assert not any(line.startswith(("topic", "pattern")) for line in before_first_user.splitlines())


@pytest.mark.parametrize(
    ("accounts", "problem"),
    [
        ('server = "alice"\n[people.alice]\n', "username 'alice' is both"),
        (
            '[people.a-b]\ndevices = ["c"]\n[people.a]\ndevices = ["b-c"]\n',
            "username 'dev-a-b-c' is both",
        ),
        ('[people.alice]\ndevice = ["pi"]\n', "unknown key(s) device"),
        ('[people."al/ice"]\n', "user id 'al/ice'"),
        ("server = \n", "not valid TOML"),
        ("", "list at least one person"),
    ],
)
def test_bad_accounts_files_are_refused_with_the_reason(
    tmp_path: Path, accounts: str, problem: str
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(accounts)
    with pytest.raises(BrokerAclError) as caught:
        plan_accounts(load_deployment(path))
    assert problem in str(caught.value)


def test_two_people_may_each_have_a_device_of_the_same_name(tmp_path: Path) -> None:
    # Issue 15: device ids are per person; each device has its own account and topics.
    path = tmp_path / "accounts.toml"
    path.write_text('[people.alice]\ndevices = ["pi"]\n[people.bob]\ndevices = ["pi"]\n')
    accounts = {a.username: a for a in plan_accounts(load_deployment(path))}
    assert {"dev-alice-pi", "dev-bob-pi"} <= accounts.keys()
    assert all("/bob/" not in g.topic for g in accounts["dev-alice-pi"].grants)


def test_rerun_keeps_passwords_rotates_on_request_and_drops_removed_accounts(
    tmp_path: Path,
) -> None:
    _need(mosquitto_passwd_path(), "mosquitto_passwd")
    path, out = tmp_path / "accounts.toml", tmp_path / "etc"
    path.write_text(ACCOUNTS)
    accounts = plan_accounts(load_deployment(path))
    first = write_files(accounts, out)
    assert set(first.new_passwords) == {a.username for a in accounts}
    hashes = first.password_path.read_text()
    assert not any(password in hashes for password in first.new_passwords.values())
    assert first.password_path.stat().st_mode & 0o777 == 0o640

    again = write_files(accounts, out)
    assert again.new_passwords == {} and again.password_path.read_text() == hashes

    rotated = write_files(accounts, out, rotate=["alice"])
    assert list(rotated.new_passwords) == ["alice"]
    changed = set(hashes.splitlines()) ^ set(rotated.password_path.read_text().splitlines())
    assert {line.partition(":")[0] for line in changed} == {"alice"}

    path.write_text(ACCOUNTS.split("[people.bob]")[0])
    dropped = write_files(plan_accounts(load_deployment(path)), out)
    assert dropped.removed == ("bob", "dev-bob-bob-pi")
    assert "bob" not in dropped.password_path.read_text()
    assert "bob" not in dropped.acl_path.read_text()
    with pytest.raises(BrokerAclError, match="no account named carol"):
        write_files(accounts, out, rotate=["carol"])


def test_broker_acl_command_prints_new_passwords_once(tmp_path: Path) -> None:
    _need(mosquitto_passwd_path(), "mosquitto_passwd")
    path, out = tmp_path / "accounts.toml", tmp_path / "etc"
    path.write_text(ACCOUNTS)
    command = [*TWITCHWATCH, "broker-acl", str(path), "--out", str(out)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    printed = dict(line.split() for line in first.stdout.splitlines() if line.startswith("  "))
    assert set(printed) == {
        "tw-server",
        "alice",
        "dev-alice-alice-laptop",
        "bob",
        "dev-bob-bob-pi",
        "ha",
    }
    second = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0 and "no new accounts" in second.stdout
    assert not any(password in second.stdout for password in printed.values())
    path.write_text("[people.a]\nunknown = 1\n")
    bad = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.startswith("twitchwatch: ") and len(bad.stderr.splitlines()) == 1


# --- the broker enforcing it ----------------------------------------------------------------------


async def test_device_cannot_publish_into_another_users_topics(secured: Secured) -> None:
    readers = [SERVER_FILTERS[TopicKind.WINDOWS], SERVER_FILTERS[TopicKind.STATUS]]
    server, ha = client(secured, "tw-server", readers), client(secured, "ha", readers)
    alice_laptop = client(secured, "dev-alice-alice-laptop")
    bob_pi = client(secured, "dev-bob-bob-pi")
    async with server, ha, alice_laptop, bob_pi:
        # The device's own retained status reaching both readers shows they are subscribed.
        status = device_topic("alice", "alice-laptop", TopicKind.STATUS)
        online = DeviceStatus("alice-laptop", DeviceState.ONLINE).to_payload()
        await alice_laptop.publish(status, online, retain=True)
        assert (await next_message(server)).topic == status
        assert (await next_message(ha)).topic == status
        spoofs = [window("bob", "bob-pi"), window("alice", "bob-pi"), window("bob", "alice-laptop")]
        for spoof in spoofs:
            with pytest.raises(MqttLinkError, match="Not authorized"):
                await alice_laptop.publish(spoof.topic, spoof.to_payload())
        with pytest.raises(MqttLinkError, match="Not authorized"):
            await alice_laptop.publish(reports_topic("alice"), b"{}")
        own = window("alice", "alice-laptop")
        await alice_laptop.publish(own.topic, own.to_payload())
        await bob_pi.publish(window("bob", "bob-pi").topic, window("bob", "bob-pi").to_payload())

        # Same publisher, same order: a spoof that got through would have arrived first.
        first = await next_message(server)
        assert first.topic == own.topic and first.payload == own.to_payload()
        assert (await next_message(server)).topic == device_topic(
            "bob", "bob-pi", TopicKind.WINDOWS
        )
        assert server.pending_messages() == 0
        # Home Assistant sees alice's windows (she opted in), never bob's.
        assert (await next_message(ha)).topic == own.topic
        assert ha.pending_messages() == 0


async def test_person_cannot_read_another_persons_alerts(secured: Secured) -> None:
    server = client(secured, "tw-server")
    async with server:
        for user in ("alice", "bob"):
            topic = alert_topic(user, Rule.PERSISTENCE, "left_calf")
            await server.publish(topic, alert("left_calf").to_payload(), retain=True)
        bob = client(secured, "bob", [alerts_filter("alice"), alerts_filter("bob")])
        alice = client(secured, "alice", [alerts_filter("alice")])
        async with bob, alice:
            assert (await next_message(alice)).topic.startswith("twitchwatch/v1/alice/")
            assert (await next_message(bob)).topic.startswith("twitchwatch/v1/bob/")
            # Live too: alice's change first, then bob's; bob's link only ever sees his own.
            for user in ("alice", "bob"):
                topic = alert_topic(user, Rule.PERSISTENCE, "left_calf")
                await server.publish(topic, alert("left_calf", 2).to_payload(), retain=True)
            assert (await next_message(bob)).topic.startswith("twitchwatch/v1/bob/")
            assert bob.pending_messages() == 0
            assert (await next_message(alice)).topic.startswith("twitchwatch/v1/alice/")
            with pytest.raises(MqttLinkError, match="Not authorized"):
                await bob.publish(alert_acks_topic("alice"), b"{}")
            await alice.publish(alert_acks_topic("alice"), b"{}")


async def test_wrong_password_and_anonymous_clients_are_refused(secured: Secured) -> None:
    for url in (
        secured.url("alice", "not-her-password"),
        BrokerUrl.parse(f"mqtt://127.0.0.1:{secured.port}"),
    ):
        link = MqttLink(url, client_id="test-intruder")
        link.start()
        try:
            with pytest.raises(MqttLinkError, match="refused the connection: Not authorized"):
                await link.wait_connected(WAIT_S)
        finally:
            await link.close()


async def test_tls_listener_needs_the_project_ca(secured: Secured) -> None:
    if secured.tls_port is None:
        _need(None, "openssl")
    password, ca = secured.passwords["dev-alice-alice-laptop"], secured.etc / "certs" / "ca.crt"
    base = f"mqtts://dev-alice-alice-laptop:{password}@127.0.0.1:{secured.tls_port}"
    async with MqttLink(BrokerUrl.parse(f"{base}?ca={ca}"), client_id="test-tls") as link:
        own = window("alice", "alice-laptop")
        await link.publish(own.topic, own.to_payload())
    untrusting = MqttLink(BrokerUrl.parse(base), client_id="test-tls-system-cas")
    untrusting.start()
    try:
        with pytest.raises(MqttLinkError, match="not reachable"):
            await untrusting.wait_connected(1.5)
    finally:
        await untrusting.close()


async def test_a_person_who_opted_in_can_feed_home_assistant(secured: Secured) -> None:
    feed, bridge = AlertFeed("alice"), HomeAssistantBridge("alice")
    alice = client(
        secured, "alice", [topic for topic, _ in feed.subscriptions + bridge.subscriptions]
    )
    ha = client(secured, "ha", ["homeassistant/#"])
    server, laptop = client(secured, "tw-server"), client(secured, "dev-alice-alice-laptop")
    bob = client(secured, "bob")
    lines: list[FeedLine] = []
    async with server, alice, ha, laptop, bob:
        calf = alert_topic("alice", Rule.PERSISTENCE, "left_calf")
        await server.publish(calf, alert("left_calf").to_payload(), retain=True)
        task = asyncio.create_task(follow(alice, feed, lines.append, bridge))
        try:
            # alice's subscriptions went out in one burst, before the config this alert causes.
            alert_config = await next_message(ha)
            assert alert_config.topic.startswith("homeassistant/binary_sensor/twitchwatch_alice/")
            own = window("alice", "alice-laptop")
            await laptop.publish(own.topic, own.to_payload())
            config = await next_message(ha)
            assert (
                config.topic
                == "homeassistant/sensor/twitchwatch_alice/alice-laptop_left_calf_rate/config"
            )
            assert not task.done()
            assert not [line for line in lines if line.problem]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        with pytest.raises(MqttLinkError, match="Not authorized"):  # bob did not opt in
            await bob.publish("homeassistant/sensor/twitchwatch_bob/x/config", b"{}", retain=True)


async def test_a_device_reads_the_servers_time_and_its_persons_profile(secured: Secured) -> None:
    """What the edge subscribes to: the server's status (is its clock right?) and the profile
    it merges its zone into; never another person's profile, never the server's status."""
    server, alice = client(secured, "tw-server"), client(secured, "alice")
    async with server, alice:
        status = ServerStatus(DeviceState.ONLINE, at=datetime.now(UTC).replace(microsecond=0))
        await server.publish(SERVER_STATUS_TOPIC, status.to_payload(), retain=True)
        await alice.publish(
            profile_topic("alice"), Profile("Europe/Berlin").to_payload(), retain=True
        )
    laptop = client(
        secured,
        "dev-alice-alice-laptop",
        [SERVER_STATUS_TOPIC, profile_topic("alice"), profile_topic("bob")],
    )
    async with laptop:
        got = {(await next_message(laptop)).topic for _ in range(2)}
        assert got == {SERVER_STATUS_TOPIC, profile_topic("alice")}
        with pytest.raises(MqttLinkError, match="Not authorized"):
            await laptop.publish(SERVER_STATUS_TOPIC, status.to_payload(), retain=True)
        await asyncio.sleep(0.3)
        assert laptop.pending_messages() == 0  # nothing of bob's


# --- sessions belong to accounts ------------------------------------------------------------------


async def test_no_account_can_take_over_the_servers_or_a_devices_session(secured: Secured) -> None:
    windows = SERVER_FILTERS[TopicKind.WINDOWS]
    server = MqttLink(
        secured.url("tw-server"),
        client_id="tw-server",
        subscriptions=[(windows, 1)],
        session_expiry_s=3600,
        manual_ack=True,
    )
    laptop = client(secured, "dev-alice-alice-laptop")
    async with server, laptop:
        # The attacks of H1: a device's login with the server's client id (clean start, to
        # drop its queued windows), and another person's device with alice's device's id.
        spoof_server = MqttLink(secured.url("dev-bob-bob-pi"), client_id="tw-server")
        spoof_device = MqttLink(secured.url("bob"), client_id="dev-alice-alice-laptop")
        async with spoof_server, spoof_device:
            await asyncio.sleep(0.5)  # a takeover's DISCONNECT arrives at once
            for victim in (server, laptop):
                assert victim.connected.is_set() and victim.connects == 1
                assert not victim.taken_over
            own = window("alice", "alice-laptop")
            await laptop.publish(own.topic, own.to_payload())
            received = await next_message(server)
            assert received.payload == own.to_payload()
            server.ack(received)


async def test_a_second_login_of_one_account_is_named_as_the_likely_cause(
    secured: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    """Mosquitto 2.0.11 closes a taken-over connection without saying why (no DISCONNECT 0x8E),
    and two logins of one account then take the session from each other at every reconnect."""
    first = client(secured, "tw-server")
    async with first:
        second = MqttLink(secured.url("tw-server"), client_id="another-id")
        async with second:
            async with asyncio.timeout(15):
                while "is another client logged in with the same client id" not in caplog.text:
                    await asyncio.sleep(0.2)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert 1 <= len(errors) <= 2  # once per link at most, whichever noticed first
    assert all("'test-tw-server'" in e or "'another-id'" in e for e in errors)


def test_the_server_takes_its_accounts_username_as_client_id() -> None:
    with_account = BrokerUrl.parse("mqtt://tw-server-1:pw@127.0.0.1:1883")
    assert session_client_id(with_account, None) == "tw-server-1"
    assert session_client_id(with_account, "tw-server-1") == "tw-server-1"
    with pytest.raises(SessionIdError, match="not the broker account 'tw-server-1'"):
        session_client_id(with_account, "twitchwatch-server")
    anonymous = BrokerUrl.parse("mqtt://127.0.0.1:1883")
    assert session_client_id(anonymous, None) == "twitchwatch-server"


def test_server_refuses_a_client_id_that_is_not_its_account_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *TWITCHWATCH, "server", "--broker", f"mqtt://tw-server@127.0.0.1:{free_port()}",
            "--db", f"sqlite:///{tmp_path / 'tw.db'}", "--client-id", "twitchwatch-server",
        ],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, PASSWORD_ENV: "secret"},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("twitchwatch: --client-id 'twitchwatch-server' is not the broker")
    assert len(done.stderr.splitlines()) == 1 and "secret" not in done.stderr


def test_share_group_servers_each_have_an_account_that_writes_the_acks(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(ACCOUNTS.replace('server = "tw-server"', 'server = ["tw-1", "tw-2"]'))
    accounts = {a.username: a for a in plan_accounts(load_deployment(path))}
    for name in ("tw-1", "tw-2"):
        grants = {(g.access.value, g.topic) for g in accounts[name].grants}
        assert ("write", "twitchwatch/v1/+/+/ack") in grants
        assert ("write", "twitchwatch/v1/+/alerts/#") in grants
    path.write_text(ACCOUNTS.replace('server = "tw-server"', 'server = ["tw-1", "tw-1"]'))
    with pytest.raises(BrokerAclError, match="each server needs its own"):
        load_deployment(path)
