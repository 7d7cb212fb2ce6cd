"""``twitchwatch log``: a report from a terminal reaches the server and raises its alert; words,
config and times are checked first; a broker that is away keeps the report in the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from person import ReportOutbox, load_person_config, report_kind, report_site
from person.errors import PersonConfigError, UnknownWordError
from server.service import Server
from server.store import open_store
from support.services import MosquittoBroker
from support.web_client import get, logged_in
from support.web_env import web_env
from twitchwatch.contract import (
    AlertState,
    AlertStatus,
    Profile,
    Report,
    ReportKind,
    Rule,
    Severity,
    alert_topic,
    profile_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, MqttLink

TIMEOUT_S = 20.0
TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]


def run_log(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``twitchwatch log …`` as a person runs it, with its XDG folders under ``home``."""
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "TZ": "Europe/Berlin",
    }
    return subprocess.run(
        [*TWITCHWATCH, "log", *args], capture_output=True, text=True, env=env, timeout=60
    )


@asynccontextmanager
async def serving(broker_url: str, db: Path) -> AsyncIterator[Server]:
    server = Server(broker_url, f"sqlite:///{db}", client_id="server-under-test")
    stop = asyncio.Event()
    task = asyncio.create_task(server.run(stop))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({task, ready}, timeout=TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    assert server.ready.is_set()
    try:
        yield server
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT_S)


async def wait_alert(link: MqttLink, rule: Rule, scope: str) -> AlertState:
    """The first firing state of ``rule/scope`` on the person's alert topics."""
    topic = alert_topic("alice", rule, scope)
    async with asyncio.timeout(TIMEOUT_S):
        async for message in link.messages_across_reconnects():
            if message.topic == topic and message.payload:
                state = AlertState.from_payload(message.payload)
                if state.state is AlertStatus.FIRING:
                    return state
    raise AssertionError("link closed")


async def test_log_weakness_makes_the_warning_appear(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    """The issue's "done when": `twitchwatch log weakness --site right_hand` against a running
    server raises the weakness warning on twitchwatch/v1/<user>/alerts/… and in the web view, at
    a site that has no sensor (the forearm beside it twitches)."""
    watcher = MqttLink(
        BrokerUrl.parse(mosquitto_broker.url),
        client_id="watcher",
        subscriptions=[(alert_topic("alice", Rule.WEAKNESS, "cervical"), 1)],
    )
    async with web_env(mosquitto_broker.url, tmp_path) as env, watcher:
        done = await asyncio.to_thread(
            run_log,
            *("weakness", "--site", "right_hand", "--note", "hard to open a jar"),
            *("--broker", mosquitto_broker.url, "--user", "alice"),
            home=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert "weakness at the right hand" in lines[0]
        assert "sent, the broker acknowledged it" in lines[0]
        # At once, then the server's own alert as published, worded from alice's sensors.
        assert lines[1] == "WARNING: Reported weakness or wasting. Please consult a doctor."
        assert lines[2].startswith("the server's alert weakness/cervical: Weakness reported on ")
        assert "right forearm" in lines[2]
        state = await wait_alert(watcher, Rule.WEAKNESS, "cervical")
        async with logged_in(env.url, "alice") as alice:
            _, page, _ = await get(alice, env.url + "alerts/weakness/cervical")
    assert state.severity is Severity.WARNING
    assert "right hand" in state.message and "Please consult a doctor." in state.message
    assert "Reported weakness or wasting" in page and "Please consult a doctor." in page
    with open_store(f"sqlite:///{env.db}") as store:
        reports = store.load_history("alice", date.today() - timedelta(days=1), datetime.now(UTC))
    weakness = [r for r in reports.reports if r.kind is ReportKind.WEAKNESS]
    assert [(r.site, r.note) for r in weakness] == [("right_hand", "hard to open a jar")]


async def test_urgent_advice_is_shown_at_once_and_the_time_is_the_persons(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    (tmp_path / "config" / "twitchwatch").mkdir(parents=True)
    (tmp_path / "config" / "twitchwatch" / "person.toml").write_text(
        f'broker = "{mosquitto_broker.url}"\nuser = "alice"\ntz = "America/Los_Angeles"\n'
    )
    done = await asyncio.to_thread(run_log, "breathing", "--at", "now", home=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("breathing, ") and "America/Los_Angeles" in lines[0]
    assert lines[1] == (
        "URGENT: Reported speech, swallowing or breathing difficulty. "
        "Seek medical attention promptly."
    )
    assert len(lines) == 2  # no server runs: no alert of its own is waited for
    # person.toml's zone wins over the system's (TZ=Europe/Berlin): 8:15 in Los Angeles.
    done = await asyncio.to_thread(
        run_log, "caffeine", "--value", "2", "--at", "yesterday 8:15", home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert " 08:15 America/Los_Angeles: sent" in done.stdout
    assert "URGENT" not in done.stdout


async def test_the_profiles_zone_wins_and_is_remembered(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    """--at reads the time in the zone of the person's retained profile (as the server cuts their
    days), over person.toml's; the outbox remembers it for when the broker is away."""
    (tmp_path / "config" / "twitchwatch").mkdir(parents=True)
    (tmp_path / "config" / "twitchwatch" / "person.toml").write_text(
        f'broker = "{mosquitto_broker.url}"\nuser = "alice"\ntz = "America/Los_Angeles"\n'
    )
    async with MqttLink(BrokerUrl.parse(mosquitto_broker.url), client_id="edge") as edge:
        await edge.publish(profile_topic("alice"), Profile("Asia/Tokyo").to_payload(), retain=True)
    done = await asyncio.to_thread(
        run_log, "sleep", "--value", "6", "--at", "yesterday 7:00", home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert " 07:00 Asia/Tokyo: sent" in done.stdout
    mosquitto_broker.stop()
    away = await asyncio.to_thread(
        run_log, "stress", "--at", "yesterday 9:30", "--connect-timeout", "1", home=tmp_path
    )
    assert away.returncode == 75 and " 09:30 Asia/Tokyo: stored, not sent yet" in away.stdout


async def test_a_broker_that_is_away_keeps_the_report_until_the_next_log(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    url = mosquitto_broker.url
    mosquitto_broker.stop()  # away: its port refuses connections
    away = await asyncio.to_thread(
        run_log,
        "numbness",
        "--site",
        "l_foot",
        "--broker",
        url,
        "--user",
        "alice",
        "--connect-timeout",
        "1",
        home=tmp_path,
    )
    assert away.returncode == 75, away.stderr
    assert "numbness at the left foot" in away.stdout and "stored, not sent yet" in away.stdout
    assert "1 report(s) wait in" in away.stderr and "twitchwatch log --flush" in away.stderr
    outbox = tmp_path / "data" / "twitchwatch" / "reports-outbox.db"
    with ReportOutbox(outbox) as box:
        [waiting] = box.waiting("alice")
    assert (waiting.report.kind, waiting.report.site) == (ReportKind.NUMBNESS, "left_foot")

    # The broker is back: --flush sends it, and the server stores it once.
    mosquitto_broker.start()
    db = tmp_path / "tw.db"
    async with serving(url, db) as server:
        flushed = await asyncio.to_thread(
            run_log, "--flush", "--broker", url, "--user", "alice", home=tmp_path
        )
        assert flushed.returncode == 0, flushed.stderr
        assert "also sent 1 earlier report(s) that were waiting" in flushed.stdout
        again = await asyncio.to_thread(
            run_log, "--flush", "--broker", url, "--user", "alice", home=tmp_path
        )
        assert again.stdout.strip() == "nothing was waiting"
        async with asyncio.timeout(TIMEOUT_S):
            while server.stats.stored < 1:
                await asyncio.sleep(0.05)
        with ReportOutbox(outbox) as box:
            assert box.waiting() == []
            # The broker's PUBACK was lost: the outbox still holds the report, and sends it again.
            box.add("alice", waiting.report)
        resent = await asyncio.to_thread(
            run_log, "--flush", "--broker", url, "--user", "alice", home=tmp_path
        )
        assert "also sent 1 earlier report(s) that were waiting" in resent.stdout
        async with asyncio.timeout(TIMEOUT_S):
            while server.stats.messages < 2:
                await asyncio.sleep(0.05)
    with open_store(f"sqlite:///{db}") as store:
        history = store.load_history("alice", waiting.report.t.date(), datetime.now(UTC))
    assert [(r.kind, r.site, r.t) for r in history.reports] == [
        (ReportKind.NUMBNESS, "left_foot", waiting.report.t)
    ]  # stored once
    # It carries the id `twitchwatch log` gave it: the resend replaced it, never doubled it.
    assert waiting.report.id is not None and len(waiting.report.id) == 32
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT report_id FROM reports").fetchall()
    assert rows == [(waiting.report.id,)]


def test_wrong_words_are_one_line_with_the_known_values(tmp_path: Path) -> None:
    kind = run_log("weaknes", "--broker", "mqtt://127.0.0.1:1", "--user", "a", home=tmp_path)
    assert kind.returncode == 2
    assert kind.stderr.startswith("twitchwatch: unknown report kind 'weaknes': did you mean")
    assert "(known: weakness, atrophy, numbness, speech, swallowing, breathing, caffeine" in (
        kind.stderr
    )
    assert kind.stderr.count("\n") == 1
    site = run_log(
        "weakness", "--site", "rigth_hand", "--broker", "mqtt://h", "--user", "a", home=tmp_path
    )
    assert site.returncode == 2 and site.stderr.count("\n") == 1
    assert "unknown body site 'rigth_hand': did you mean 'right_hand'?" in site.stderr
    assert "left_calf" in site.stderr and "tongue" in site.stderr
    when = run_log(
        "sleep", "--at", "tomorrow 7:00", "--broker", "mqtt://h", "--user", "a", home=tmp_path
    )
    assert when.returncode == 2 and when.stderr.startswith("twitchwatch: --at 'tomorrow 7:00': say")
    missing = run_log("sleep", home=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("twitchwatch: --broker is needed (or broker = … in ")
    # Nothing wrong was stored.
    assert not (tmp_path / "data" / "twitchwatch" / "reports-outbox.db").exists()


def test_words_a_person_types() -> None:
    assert report_kind(" Wasting ") is ReportKind.ATROPHY
    assert report_kind("tingling") is ReportKind.NUMBNESS
    assert report_site("Right Hand") == "right_hand" and report_site("r-calf") == "right_calf"
    assert report_site("tongue") == "tongue"
    for bad in ("left_tongue", "hand", "elbow", ""):
        with pytest.raises(UnknownWordError):
            report_site(bad)


def test_person_config(tmp_path: Path) -> None:
    path = tmp_path / "person.toml"
    path.write_text('broker = "mqtt://h:1883"\nuser = "alice"\npassword = "s3cret"\n')
    config = load_person_config(path)
    url = config.broker_url(config.broker or "")
    assert (url.username, url.password, url.host) == ("alice", "s3cret", "h")
    # Credentials in the URL win over the file's.
    assert config.broker_url("mqtt://bob:pw@h").username == "bob"
    path.write_text('brokr = "mqtt://h"\n')
    with pytest.raises(PersonConfigError, match="unknown key 'brokr': did you mean 'broker'"):
        load_person_config(path)
    path.write_text('tz = "PST"\n')
    with pytest.raises(PersonConfigError, match="not an IANA time zone"):
        load_person_config(path)
    with pytest.raises(PersonConfigError, match="no such file"):
        load_person_config(tmp_path / "missing.toml")
    assert load_person_config(None).path.name == "person.toml"


def test_the_outbox_refuses_what_the_server_would(tmp_path: Path) -> None:
    with ReportOutbox(tmp_path / "o.db") as box:
        too_long = Report(datetime.now(UTC), ReportKind.STRESS, note="x" * 501)
        with pytest.raises(Exception, match="at most 500 characters"):
            box.add("alice", too_long)
        assert len(box) == 0
        box.remember_zone("alice", "Europe/Lisbon")
        assert box.known_zone("alice") == "Europe/Lisbon" and box.known_zone("bob") is None
