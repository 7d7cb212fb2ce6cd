"""Outbox -> Mosquitto -> a tiny server: every window stored exactly once, whatever fails.

The in-test server is what the real one promises the edge: it subscribes with a persistent
session and manual acks, stores each window by seq (a seq it has is a duplicate, ignored), and
publishes the retained DeviceAck with its contiguous high-water mark. The broker is the real
Mosquitto, stopped, restarted, killed and starved of queue space by the tests.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.config import ConfigError, load_config, with_mqtt_overrides
from edge.outbox import Outbox
from edge.publisher import EdgePublisher
from edge.uplink import Uplink
from support.services import MosquittoBroker, free_port
from twitchwatch.contract import (
    DeviceAck,
    DeviceState,
    DeviceStatus,
    Profile,
    SiteWindow,
    TopicKind,
    WindowMessage,
    device_topic,
    profile_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, Message, MqttLink, Protocol

USER, DEVICE = "alice", "kitchen-pi"
TIMEOUT_S = 15.0
RESEND_S = 1.0  # tests resend after a second instead of 30


def windows(n: int, first: int = 0) -> list[tuple[datetime, datetime, dict[str, SiteWindow]]]:
    """n distinct minute windows of the last few hours (the server refuses future ones)."""
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    out = []
    for i in range(first, first + n):
        start = base + timedelta(minutes=i)
        sites = {"left_calf": SiteWindow(i % 7, 0, 50.0, 4.0, 6.0, 100.0 + i, "uV")}
        out.append((start, start + timedelta(minutes=1), sites))
    return out


async def until(condition: Callable[[], bool], what: str, timeout_s: float = TIMEOUT_S) -> None:
    """Poll a condition the system under test drives over real sockets."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class Store:
    """The server's database: survives the server's restarts, like a real one."""

    windows: dict[int, WindowMessage] = field(default_factory=dict)
    received: int = 0
    duplicates: int = 0

    @property
    def high_water(self) -> int:
        seq = 0
        while seq + 1 in self.windows:
            seq += 1
        return seq


class TestServer:
    """Stores windows by seq; acks (retained) every seq up to its contiguous high-water mark."""

    __test__ = False

    def __init__(self, broker: str, store: Store | None = None) -> None:
        self.url = BrokerUrl.parse(broker)
        self.store = store or Store()
        self.ack_topic = device_topic(USER, DEVICE, TopicKind.ACK)
        self._link: MqttLink | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TestServer:
        self._link = MqttLink(
            self.url,
            client_id="test-server",
            subscriptions=[(device_topic(USER, DEVICE, TopicKind.WINDOWS), 1)],
            session_expiry_s=3600,  # the broker queues windows while the server is away
            manual_ack=True,
        )
        await self._link.__aenter__()
        if self.store.high_water:  # what a real server left retained
            await self._link.publish(self.ack_topic, self._ack(), qos=1, retain=True)
        self._task = asyncio.create_task(self._serve(self._link))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None and self._link is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._link.close()

    def _ack(self) -> bytes:
        return DeviceAck(DEVICE, self.store.high_water).to_payload()

    async def _serve(self, link: MqttLink) -> None:
        async for message in link.messages_across_reconnects():
            self._take(message)
            future = link.publish_nowait(self.ack_topic, self._ack(), qos=1, retain=True)
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
            link.ack(message)  # after "commit", as the real server does

    def _take(self, message: Message) -> None:
        window = WindowMessage.from_payload(message.payload, user=USER, device=DEVICE)
        self.store.received += 1
        if window.seq in self.store.windows:
            self.store.duplicates += 1
            assert self.store.windows[window.seq] == window  # a duplicate is the same window
        else:
            self.store.windows[window.seq] = window


def expected(outbox_messages: list[WindowMessage]) -> dict[int, WindowMessage]:
    return {m.seq: m for m in outbox_messages}


class StatusWatcher:
    """Someone subscribed to the device's status topic (retained, and the Last Will)."""

    def __init__(self, broker: str, retained: bool = False) -> None:
        #: Also the retained state (what anyone who looks later sees); else only what the device
        #: says from now on (a retained state left by an earlier test would come first).
        self.retained = retained
        self.states: asyncio.Queue[DeviceState] = asyncio.Queue()
        self._link = MqttLink(
            BrokerUrl.parse(broker),
            client_id="status-watcher",
            subscriptions=[(device_topic(USER, DEVICE, TopicKind.STATUS), 1)],
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StatusWatcher:
        await self._link.__aenter__()
        await self._link.subscribed.wait()  # before the device connects: its states arrive live
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._link.close()

    async def _watch(self) -> None:
        async for message in self._link.messages_across_reconnects():
            if message.retain and not self.retained:
                continue
            self.states.put_nowait(DeviceStatus.from_payload(message.payload, device=DEVICE).state)

    async def next(self) -> DeviceState:
        async with asyncio.timeout(TIMEOUT_S):
            return await self.states.get()


@pytest.fixture
def outbox_path(tmp_path: Path) -> Path:
    return tmp_path / "outbox-alice-kitchen-pi.db"


# --- delivery ------------------------------------------------------------------------------------


async def test_windows_are_stored_exactly_once_and_the_outbox_empties(
    mosquitto_broker: MosquittoBroker, outbox_path: Path
) -> None:
    outbox = Outbox(outbox_path, USER, DEVICE)
    async with TestServer(mosquitto_broker.url) as server:
        publisher = EdgePublisher(outbox, mosquitto_broker.url, resend_after_s=RESEND_S)
        async with publisher:
            added = [publisher.add(*w) for w in windows(40)]
            assert await publisher.wait_drained(TIMEOUT_S)
            stats = publisher.stats
    assert server.store.windows == expected(added)  # every window once, as it was stored
    assert [m.seq for m in added] == list(range(1, 41))
    assert (stats.sent, stats.acked_seq, stats.pending, stats.lost) == (40, 40, 0, 0)
    assert len(outbox) == 0 and outbox.acked_seq == 40
    # A clean stop leaves the device "offline" (retained) for anyone who looks later.
    async with StatusWatcher(mosquitto_broker.url, retained=True) as watcher:
        assert await watcher.next() is DeviceState.OFFLINE
    outbox.close()


async def test_nothing_is_lost_when_the_broker_stops_and_restarts_mid_stream(
    mosquitto_broker: MosquittoBroker, outbox_path: Path
) -> None:
    outbox = Outbox(outbox_path, USER, DEVICE)
    store = Store()
    added: list[WindowMessage] = []
    async with (
        TestServer(mosquitto_broker.url, store),
        EdgePublisher(outbox, mosquitto_broker.url, resend_after_s=RESEND_S) as pub,
    ):
        added += [pub.add(*w) for w in windows(10)]
        await until(lambda: store.high_water >= 3, "the first windows")
        mosquitto_broker.stop()  # mid-stream: some sent, some in flight, some waiting
        added += [pub.add(*w) for w in windows(10, first=10)]  # stored while it is down
        mosquitto_broker.start()
        added += [pub.add(*w) for w in windows(10, first=20)]
        assert await pub.wait_drained(TIMEOUT_S)
        assert pub.link.connects >= 2
    assert store.windows == expected(added)
    assert len(outbox) == 0
    outbox.close()


async def test_a_restarted_edge_resends_what_the_server_never_acked(
    mosquitto_broker: MosquittoBroker, outbox_path: Path
) -> None:
    """The first run crashes after the broker took its windows but before any server ack."""
    first = Outbox(outbox_path, USER, DEVICE)
    crashed = EdgePublisher(first, mosquitto_broker.url, resend_after_s=RESEND_S)
    await crashed.start()
    added = [crashed.add(*w) for w in windows(12)]
    await until(lambda: crashed.stats.sent == 12 and crashed.stats.in_flight == 0, "broker PUBACKs")
    await crashed.abort()  # no server was listening: nothing acked
    first.close()

    second = Outbox(outbox_path, USER, DEVICE)
    assert len(second) == 12
    # A long resend timer: the reconnect itself must resend everything waiting.
    async with (
        TestServer(mosquitto_broker.url) as server,
        EdgePublisher(second, mosquitto_broker.url, resend_after_s=600.0) as again,
    ):
        assert await again.wait_drained(TIMEOUT_S)
        assert again.stats.resent == 0 and again.stats.sent == 12
    assert server.store.windows == expected(added)
    second.close()


@pytest.mark.parametrize("crash", ["queue cap", "broker killed"])
async def test_windows_the_broker_dropped_after_acknowledging_are_sent_again(
    outbox_path: Path, crash: str
) -> None:
    """The broker PUBACKs, then loses windows while the server is away: the resend timer
    notices that the server's ack does not cover them and sends them again."""
    # "queue cap": Mosquitto keeps 5 messages for an absent client and silently drops the rest.
    # "broker killed": SIGKILL loses everything it held in memory, sessions included.
    config = "max_queued_messages 5" if crash == "queue cap" else ""
    with MosquittoBroker(extra_config=config) as broker:
        outbox = Outbox(outbox_path, USER, DEVICE)
        store = Store()
        async with TestServer(broker.url, store):
            pass  # the server's session now exists; it is away from here on
        async with EdgePublisher(outbox, broker.url, resend_after_s=RESEND_S) as publisher:
            added = [publisher.add(*w) for w in windows(40)]
            await until(
                lambda: publisher.stats.sent == 40 and publisher.stats.in_flight == 0,
                "broker PUBACKs",
            )
            if crash == "broker killed":
                broker.kill()
                broker.start()
            async with TestServer(broker.url, store):
                assert await publisher.wait_drained(TIMEOUT_S)
            stats = publisher.stats
        assert store.windows == expected(added)
        # Capped, the broker kept 5 of the 40 it acknowledged; killed, it kept none.
        assert stats.resent >= (35 if crash == "queue cap" else 40)
        outbox.close()


async def test_resends_back_off_while_the_server_is_away(
    mosquitto_broker: MosquittoBroker, outbox_path: Path
) -> None:
    """No server: each resend round waits twice as long as the last; once the server acks,
    everything goes through."""
    outbox = Outbox(outbox_path, USER, DEVICE)
    loop = asyncio.get_running_loop()
    async with EdgePublisher(outbox, mosquitto_broker.url, resend_after_s=0.2) as publisher:
        added = [publisher.add(*w) for w in windows(5)]
        await until(
            lambda: publisher.stats.sent == 5 and publisher.stats.in_flight == 0, "broker PUBACKs"
        )
        started = loop.time()
        await until(lambda: publisher.stats.resent >= 15, "three rounds of resends")
        # Rounds after 0.2, 0.2 + 0.4 and 0.2 + 0.4 + 0.8 s (a fixed pace would be at 0.6 s).
        assert loop.time() - started >= 1.3
        async with TestServer(mosquitto_broker.url) as server:
            assert await publisher.wait_drained(TIMEOUT_S)
    assert server.store.windows == expected(added)
    outbox.close()


async def test_a_replaced_outbox_file_continues_after_the_servers_numbers(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    """The SD card died: a fresh outbox numbers from 1, but the server holds 1-3 already.

    The fresh file stored 5 windows before it reached the broker, so the server's ack (3) is not
    beyond its numbers: only waiting for the server's retained ack before sending saves them.
    """
    store = Store(windows={m.seq: m for m in _old_windows(3)})
    fresh = Outbox(tmp_path / "new.db", USER, DEVICE)
    stored_offline = [fresh.add(*w) for w in windows(5, first=100)]  # seqs 1-5, never sent
    async with (
        TestServer(mosquitto_broker.url, store),
        EdgePublisher(fresh, mosquitto_broker.url, resend_after_s=RESEND_S) as pub,
    ):
        added = [pub.add(*w) for w in windows(2, first=105)]
        assert await pub.wait_drained(TIMEOUT_S)
    assert sorted(store.windows) == list(range(1, 11))
    new = [store.windows[seq] for seq in range(4, 11)]
    assert [(w.start, w.sites) for w in new] == [(m.start, m.sites) for m in stored_offline + added]
    assert store.duplicates == 0  # nothing was sent under a number the server already had
    fresh.close()


def _old_windows(n: int) -> list[WindowMessage]:
    return [WindowMessage(USER, DEVICE, i + 1, *w) for i, w in enumerate(windows(n, first=-60))]


# --- status and protocol ---------------------------------------------------------------------


async def test_a_short_outage_does_not_flap_the_status_offline(
    mosquitto_broker: MosquittoBroker, outbox_path: Path
) -> None:
    """The Last Will waits WILL_DELAY_S (MQTT 5 Will Delay Interval): back within it, the
    device never looked offline (the Will itself is tested in tests/test_link_bounds.py)."""
    outbox = Outbox(outbox_path, USER, DEVICE)
    async with StatusWatcher(mosquitto_broker.url) as watcher:
        async with EdgePublisher(outbox, mosquitto_broker.url) as publisher:
            assert await watcher.next() is DeviceState.ONLINE
            publisher.link.drop_connection()  # no DISCONNECT: the Will is due in 30 s
            assert await watcher.next() is DeviceState.ONLINE  # reconnected, said so again
        assert await watcher.next() is DeviceState.OFFLINE  # the clean stop says it at once
    outbox.close()


async def test_mqtt_311_publishes_and_takes_acks(
    mosquitto_broker: MosquittoBroker, outbox_path: Path
) -> None:
    outbox = Outbox(outbox_path, USER, DEVICE)
    v311 = EdgePublisher(
        outbox, mosquitto_broker.url, protocol=Protocol.MQTT311, resend_after_s=RESEND_S
    )
    async with (
        StatusWatcher(mosquitto_broker.url) as watcher,
        TestServer(mosquitto_broker.url) as server,
        v311 as publisher,
    ):
        assert publisher.link.protocol is Protocol.MQTT311
        added = [publisher.add(*w) for w in windows(15)]
        assert await publisher.wait_drained(TIMEOUT_S)
        assert await watcher.next() is DeviceState.ONLINE
        publisher.link.drop_connection()
        assert await watcher.next() is DeviceState.OFFLINE
    assert server.store.windows == expected(added)
    outbox.close()


# --- the agent ---------------------------------------------------------------------------------


async def _line_with(stream: asyncio.StreamReader, text: str) -> list[str]:
    """Lines of a child's output up to and including the first one holding ``text``."""
    lines: list[str] = []
    async with asyncio.timeout(TIMEOUT_S):
        while not lines or text not in lines[-1]:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"output ended before {text!r}: {lines}")
            lines.append(line.decode())
    return lines


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_edge_run_publishes_the_live_windows(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    """`twitchwatch sim` + `twitchwatch edge run --config` with [mqtt]: the windows the server
    stores add up to the agent's own final table, and the outbox ends empty."""
    hci = f"127.0.0.1:{free_port()}"
    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "twitchwatch", "sim", "--site", "left_calf", "--hci", hci,
        "--speed", "8", "--seconds", "60",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        lines = await _line_with(sim.stdout, "site=left_calf")
        sensor = lines[-1].split()[0]
        config = tmp_path / "edge.toml"
        config.write_text(
            f'[ble]\nbackend = "sim"\nsim_hci = "{hci}"\n\n'
            f'[[sensor]]\nname = "{sensor}"\nsite = "left_calf"\n\n'
            f'[mqtt]\nbroker = "{mosquitto_broker.url}"\nuser = "{USER}"\n'
            f'device = "{DEVICE}"\nwindow_s = 5\noutbox = "outbox.db"\n'
        )
        async with TestServer(mosquitto_broker.url) as server:
            agent = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "twitchwatch", "edge", "run", "--config", str(config),
                "--seconds", "5",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            async with asyncio.timeout(60):
                _out, err = await agent.communicate()
    finally:
        sim.kill()
        await sim.wait()
    assert agent.returncode == 0, err.decode()
    # No terminal: the log view; its final lines hold the detection totals and the outbox.
    final = [
        line.split("edge.run: final: ")[1]
        for line in err.decode().splitlines()
        if "edge.run: final: " in line
    ]
    totals = re.search(r"\(left_calf\): .*; (\d+) twitch(?:es)? in (\d+) s of rest", final[0])
    assert totals is not None, final
    twitches, rest_s = int(totals.group(1)), float(totals.group(2))
    stored = server.store.windows
    assert sorted(stored) == list(range(1, len(stored) + 1)) and len(stored) >= 4
    shares = [stored[seq].sites["left_calf"] for seq in sorted(stored)]
    assert sum(s.twitches for s in shares) == twitches > 0
    assert abs(sum(s.rest_s for s in shares) - rest_s) <= 0.5 + 0.001 * len(shares)
    starts = [stored[seq].start for seq in sorted(stored)]
    assert all(b - a == timedelta(seconds=5) for a, b in itertools.pairwise(starts))
    uplink = next(line for line in final if line.startswith("broker "))
    assert "0 waiting in the outbox" in uplink and "lost" not in uplink
    with Outbox(tmp_path / "outbox.db", USER, DEVICE) as outbox:
        assert len(outbox) == 0 and outbox.acked_seq == len(stored)


# --- configuration -----------------------------------------------------------------------------

SENSORS_TOML = '[[sensor]]\nname = "TW-0001"\nsite = "left_calf"\n'


def test_the_mqtt_table_is_read_with_its_defaults(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(
        SENSORS_TOML + '[mqtt]\nbroker = "mqtts://broker.example?ca=/etc/tw/ca.pem"\n'
        'user = "alice"\ndevice = "kitchen-pi"\nusername = "dev-kitchen"\npassword = "s3cret"\n'
        'protocol = "3.1.1"\nwindow_s = 300\noutbox = "state/outbox.db"\n'
    )
    mqtt = load_config(path).mqtt
    assert mqtt is not None
    assert (mqtt.broker.host, mqtt.broker.port, mqtt.broker.tls) == ("broker.example", 8883, True)
    assert (mqtt.broker.username, mqtt.broker.password) == ("dev-kitchen", "s3cret")
    assert (mqtt.user, mqtt.device, mqtt.protocol, mqtt.window_s) == (
        "alice", "kitchen-pi", Protocol.MQTT311, 300.0
    )  # fmt: skip
    assert mqtt.outbox_path == tmp_path / "state" / "outbox.db"  # next to the config

    path.write_text(SENSORS_TOML + '[mqtt]\nuser = "alice"\ndevice = "kitchen-pi"\n')
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    mqtt = load_config(path).mqtt
    assert mqtt is not None and str(mqtt.broker) == "mqtt://127.0.0.1:1883"
    assert (mqtt.protocol, mqtt.window_s) == (Protocol.MQTT5, 60.0)
    assert mqtt.outbox_path == tmp_path / "data" / "twitchwatch" / "outbox-alice-kitchen-pi.db"
    assert load_config(tmp_path / "edge.toml").mqtt == mqtt
    path.write_text(SENSORS_TOML)
    assert load_config(path).mqtt is None  # no [mqtt]: detect and show only


@pytest.mark.parametrize(
    ("mqtt", "message"),
    [
        ('user = "alice"\n', "needs device"),
        ('user = "alice"\ndevice = "a/b"\n', "device id 'a/b'"),
        ('user = "alice"\ndevice = "pi"\nprotocol = "3"\n', 'protocol must be "5" or "3.1.1"'),
        ('user = "alice"\ndevice = "pi"\nwindow_s = 7\n', "divide a day"),
        ('user = "alice"\ndevice = "pi"\nbroker = "http://x"\n', "broker URL"),
        ('user = "alice"\ndevice = "pi"\nport = 1883\n', "unknown keys port"),
    ],
)
def test_mqtt_config_errors_are_one_line(tmp_path: Path, mqtt: str, message: str) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(SENSORS_TOML + "[mqtt]\n" + mqtt)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_two_sensors_on_one_site_cannot_be_published(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(SENSORS_TOML + '[[sensor]]\nname = "TW-0002"\nsite = "left_calf"\n')
    config = load_config(path)  # fine for watching...
    with pytest.raises(ConfigError, match="one sensor per site"):  # ...not for windows
        with_mqtt_overrides(config, path, user="alice", device="pi")


def test_command_line_overrides_the_mqtt_table(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(SENSORS_TOML)
    config = load_config(path)
    assert with_mqtt_overrides(config, path) is config
    with pytest.raises(ConfigError, match="needs a user and a device"):
        with_mqtt_overrides(config, path, broker="mqtt://127.0.0.1:1884")
    mqtt = with_mqtt_overrides(config, path, user="bob", device="pi").mqtt
    assert mqtt is not None and (mqtt.user, mqtt.device, mqtt.broker.port) == ("bob", "pi", 1883)
    path.write_text(
        SENSORS_TOML + '[mqtt]\nuser = "alice"\ndevice = "pi"\nusername = "u"\npassword = "p"\n'
    )
    mqtt = with_mqtt_overrides(load_config(path), path, broker="mqtt://10.0.0.2:1884").mqtt
    assert mqtt is not None and (mqtt.user, mqtt.broker.host, mqtt.broker.username) == (
        "alice", "10.0.0.2", "u"
    )  # fmt: skip
    with pytest.raises(ConfigError, match="user id"):
        with_mqtt_overrides(load_config(path), path, user="$SYS")


async def test_the_profile_is_published_retained(
    mosquitto_broker: MosquittoBroker, outbox_path: Path
) -> None:
    outbox = Outbox(outbox_path, USER, DEVICE)
    profile = Profile("America/Los_Angeles")

    async def read_profile(client_id: str) -> Message:
        reader = MqttLink(
            BrokerUrl.parse(mosquitto_broker.url),
            client_id=client_id,
            subscriptions=[(profile_topic(USER), 1)],
        )
        async with reader, asyncio.timeout(TIMEOUT_S):
            return await anext(reader.messages())

    async with EdgePublisher(outbox, mosquitto_broker.url, profile=profile) as publisher:
        await until(lambda: publisher.link.connected.is_set(), "the connection")
        # The edge reads the retained profile before it publishes its zone: the first reader may
        # see the publish live; one that comes after it gets the retained copy.
        first = await read_profile("profile-reader-1")
        later = await read_profile("profile-reader-2")
    assert Profile.from_payload(first.payload) == profile
    assert later.retain and Profile.from_payload(later.payload) == profile
    outbox.close()


async def test_the_edge_configs_tz_is_what_the_agent_publishes(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(
        '[[sensor]]\nname = "TW-0001"\nsite = "left_calf"\n'
        f'[mqtt]\nbroker = "{mosquitto_broker.url}"\nuser = "{USER}"\ndevice = "pi"\n'
        'tz = "Asia/Kolkata"\noutbox = "outbox.db"\n'
    )
    mqtt = load_config(path).mqtt
    assert mqtt is not None
    uplink = await Uplink.start(mqtt)
    try:
        reader = MqttLink(
            BrokerUrl.parse(mosquitto_broker.url),
            client_id="profile-reader",
            subscriptions=[(profile_topic(USER), 1)],
        )
        async with reader, asyncio.timeout(TIMEOUT_S):
            message = await anext(reader.messages())
        assert Profile.from_payload(message.payload).tz == "Asia/Kolkata"
    finally:
        await uplink.stop()
