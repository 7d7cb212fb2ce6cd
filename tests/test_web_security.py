"""The web view's security without a browser: logins, sessions, CSRF, rate limits, and that a
person sees and touches nothing of another person's. Against a real server, store and Mosquitto.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from server.web import WebConfig, hash_password, verify_password
from server.web.accounts import Logins
from server.web.sessions import Sessions
from server.web.throttle import LoginThrottle
from support.services import MosquittoBroker, mosquitto_path, services_required
from support.web_client import browser, csrf_in, get, log_in, logged_in, post
from support.web_env import BOB_NOTE, BOB_SITE, DEVICE_ACCOUNT, PASSWORDS, WebEnv, web_env
from twitchwatch.errors import TwitchWatchError
from twitchwatch.mqtt_link import BrokerUrl, MqttLink

#: The async tests share one event loop with the module's server (started once: ~5 s).
in_module_loop = pytest.mark.asyncio(loop_scope="module")

#: Every page and download a person has; none may answer without a login.
PAGES = [
    "",
    "weeks",
    "alerts",
    "alerts/persistence/left_calf",
    "reports",
    "doctor",
    "doctor/report",
    "export/daily.csv",
    "export/reports.csv",
    "export/data.json",
    "profile",
]
FRAGMENTS = ["fragment/today", "fragment/alerts"]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def broker() -> AsyncIterator[MosquittoBroker]:
    if mosquitto_path() is None:
        if services_required():
            pytest.fail("needs Mosquitto (not on PATH)", pytrace=False)
        pytest.skip("needs Mosquitto (not on PATH)")
    with MosquittoBroker() as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(broker: MosquittoBroker, tmp_path_factory) -> AsyncIterator[WebEnv]:
    async with web_env(broker.url, tmp_path_factory.mktemp("web")) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def watch(broker: MosquittoBroker) -> AsyncIterator[MqttLink]:
    """Everything published on anyone's reports, acks and profile topics while a test runs."""
    link = MqttLink(
        BrokerUrl.parse(broker.url),
        client_id="watch",
        subscriptions=[
            ("twitchwatch/v1/+/reports", 1),
            ("twitchwatch/v1/+/acks", 1),
            ("twitchwatch/v1/+/profile", 1),
        ],
    )
    async with link:
        await asyncio.wait_for(link.subscribed.wait(), 5)
        yield link


def leaks_bob(body: str) -> bool:
    """Does a page of alice's show anything of bob's: his note, or his thigh sensor's data?

    The report form's site picker lists every site of the body (weakness may be felt where no
    sensor is worn), so it is left out; its "where you wear sensors" group must not have it.
    """
    picker = re.search(r"<select name=\"site\">.*?</select>", body, re.S)
    if picker is not None:
        own = re.search(r'label="Where you wear sensors">(.*?)</optgroup>', picker.group(0), re.S)
        if own is not None and BOB_SITE in own.group(1):
            return True
        body = body.replace(picker.group(0), "")
    return BOB_NOTE in body or BOB_SITE in body or BOB_SITE.replace("_", " ") in body


async def published(link: MqttLink, within_s: float = 0.5) -> list[str]:
    """The topics of everything ``link`` receives within ``within_s``."""
    topics: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within_s):
            async for message in link.messages():
                topics.append(message.topic)
    return topics


@in_module_loop
async def test_every_page_needs_a_login(env: WebEnv) -> None:
    async with browser() as session:
        for page in PAGES:
            status, body, answer = await get(session, env.url + page)
            assert (status, answer.headers.get("Location")) == (303, "/login"), page
            assert "alice" not in body and "calf" not in body
        for page in FRAGMENTS:
            status, body, _ = await get(session, env.url + page)
            assert status == 401 and "calf" not in body, page
        for action in ("reports", "alerts/persistence/left_calf/ack", "logout", "profile"):
            status, _, _ = await post(session, env.url + action, {"kind": "weakness"})
            assert status in (401, 403), action
        status, body, _ = await get(session, env.url + "static/style.css")
        assert status == 200 and "phone first" in body
        status, _, _ = await get(session, env.url + "favicon.ico")
        assert status == 404


@in_module_loop
async def test_wrong_passwords_and_accounts_that_are_not_people_cannot_log_in(
    env: WebEnv,
) -> None:
    async with browser() as session:
        wrong = await log_in(session, env.url, "alice", "not-her-password")
        assert wrong.status == 401
        device = await log_in(session, env.url, *DEVICE_ACCOUNT)
        assert device.status == 401  # in passwd, but not a person
        nobody = await log_in(session, env.url, "mallory", "whatever")
        assert nobody.status == 401
        status, _, answer = await get(session, env.url)
        assert (status, answer.headers["Location"]) == (303, "/login")
    env.view.throttle = LoginThrottle()  # the failures above count against this address


@in_module_loop
async def test_another_persons_urls_and_ids_are_refused_with_nothing_leaked(
    env: WebEnv, watch: MqttLink
) -> None:
    async with logged_in(env.url, "alice") as alice:
        # bob has an urgent swallowing alert; alice has none: its URL is not found for her.
        status, body, _ = await get(alice, env.url + "alerts/red_flag/swallowing")
        assert status == 404 and "No such alert." in body
        assert not leaks_bob(body) and "Difficulty swallowing" not in body
        for bad in (
            "alerts/nonsense/x",
            "alerts/red_flag/..",
            "u/bob",
            "bob/alerts",
            "alerts/spread",
        ):
            status, body, _ = await get(alice, env.url + bad)
            assert status == 404, bad
        page = await get(alice, env.url + "alerts")
        token = csrf_in(page[1])
        status, body, _ = await post(
            alice, env.url + "alerts/red_flag/swallowing/ack", {"csrf": token, "action": "seen"}
        )
        assert status == 404
        # A user named in the query or the form changes nothing: the session decides whose.
        for page_url in (
            "?user=bob",
            "weeks?user=bob",
            "reports?user=bob",
            "alerts?user=bob",
            "export/data.json?user=bob",
            "export/daily.csv?user=bob",
            "export/reports.csv?user=bob",
            "doctor/report?user=bob",
            "fragment/today?user=bob",
        ):
            status, body, _ = await get(alice, env.url + page_url)
            assert status == 200, page_url
            assert not leaks_bob(body), page_url
        status, body, _ = await get(alice, env.url + "export/data.json")
        assert '"user": "alice"' in body
        assert await published(watch) == []  # the refused ack went nowhere
    async with logged_in(env.url, "bob") as bob:
        status, body, _ = await get(bob, env.url + "reports")
        assert BOB_NOTE in body  # bob's own page does show it: the checks above can fail


@in_module_loop
async def test_forms_without_a_valid_csrf_token_are_refused(env: WebEnv, watch: MqttLink) -> None:
    form = {"kind": "caffeine", "value": "2"}
    async with logged_in(env.url, "alice") as alice, logged_in(env.url, "bob") as bob:
        _, bob_page, _ = await get(bob, env.url)
        bobs_token = csrf_in(bob_page)
        _, page, _ = await get(alice, env.url)
        token = csrf_in(page)
        for sent in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": bobs_token}):
            status, body, _ = await post(alice, env.url + "reports", {**form, **sent})
            assert status == 403 and "reload the page" in body, sent
        # The right token from another site's page (a cross-site form post) is refused too.
        status, _, _ = await post(
            alice,
            env.url + "reports",
            {**form, "csrf": token},
            headers={"Origin": "https://evil.example"},
        )
        assert status == 403
        status, _, _ = await post(alice, env.url + "logout", {"csrf": "forged"})
        assert status == 403
        forged_profile = {"csrf": bobs_token, "tz": "Asia/Tokyo", "name": "mallory"}
        status, _, _ = await post(alice, env.url + "profile", forged_profile)
        assert status == 403
        assert await published(watch) == []
    # The login form's token must match its cookie (a login CSRF would log a victim in as us).
    async with browser() as session:
        status, _, _ = await post(
            session,
            env.url + "login",
            {"csrf": "forged", "username": "alice", "password": PASSWORDS["alice"]},
        )
        assert status == 403


@in_module_loop
async def test_session_cookie_flags_and_headers(env: WebEnv) -> None:
    async with browser() as session:
        answer = await log_in(session, env.url, "alice")
        cookie = next(v for v in answer.headers.getall("Set-Cookie") if v.startswith("tw_session="))
        flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite", "path", "max-age"} <= flags
        assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
        assert "secure" not in flags  # plain HTTP on loopback: a Secure cookie would be dropped
        status, body, page = await get(session, env.url)
        assert status == 200
        csp = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Cache-Control"] == "no-store"
        status, body, report = await get(session, env.url + "doctor/report")
        assert status == 200 and "<script" not in body
        assert report.headers["Content-Security-Policy"].startswith("default-src 'none'")


@in_module_loop
async def test_a_secure_cookie_when_the_tls_proxy_says_https(broker, tmp_path) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}

    async def attempt(env: WebEnv, password: str) -> aiohttp.ClientResponse:
        async with browser(behind_tls=env.url) as session:
            async with session.get(env.url + "login", headers=headers) as page:
                token = csrf_in(await page.text())
            form = {"csrf": token, "username": "alice", "password": password}
            async with session.post(
                env.url + "login", data=form, headers=headers, allow_redirects=False
            ) as answer:
                return answer

    async with web_env(broker.url, tmp_path, trusted_proxy="127.0.0.1") as env:
        answer = await attempt(env, PASSWORDS["alice"])
        assert answer.status == 303
        cookie = next(v for v in answer.headers.getall("Set-Cookie") if v.startswith("tw_session="))
        assert "secure" in cookie.lower()
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
        # The proxy's word for the client's address is what the rate limit counts.
        assert (await attempt(env, "wrong")).status == 401
        assert env.view.throttle._failures.get(("address", "203.0.113.7"))


@in_module_loop
async def test_login_attempts_are_rate_limited(env: WebEnv) -> None:
    env.view.throttle = LoginThrottle()
    try:
        async with browser() as session:
            for _ in range(5):
                assert (await log_in(session, env.url, "bob", "guess")).status == 401
            # Locked now, even with the right password: guessing on gets nowhere.
            locked = await log_in(session, env.url, "bob")
            assert locked.status == 429
            # Another account from the same address is not locked yet...
            assert (await log_in(session, env.url, "alice")).status == 303
        # ...until the address itself has failed too often.
        async with browser() as session:
            for i in range(15):
                await log_in(session, env.url, f"nobody{i}", "guess")
            assert (await log_in(session, env.url, "alice")).status == 429
    finally:
        env.view.throttle = LoginThrottle()


def test_throttle_windows_slide() -> None:
    now = [0.0]
    throttle = LoginThrottle(per_account=3, per_address=5, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        throttle.failed("alice", "10.0.0.1")
        now[0] += 1
    wait = throttle.retry_after("alice", "10.0.0.2")
    assert wait is not None and 56 < wait <= 58
    assert throttle.retry_after("bob", "10.0.0.2") is None
    now[0] = 61
    assert throttle.retry_after("alice", "10.0.0.2") is None  # the oldest left the window
    throttle.failed("alice", "10.0.0.1")
    throttle.succeeded("alice")
    assert throttle.retry_after("alice", "10.0.0.9") is None


@in_module_loop
async def test_logout_ends_the_session(env: WebEnv) -> None:
    async with logged_in(env.url, "alice") as alice:
        token = next(c.value for c in alice.cookie_jar if c.key == "tw_session")
        _, page, _ = await get(alice, env.url)
        status, _, answer = await post(alice, env.url + "logout", {"csrf": csrf_in(page)})
        assert (status, answer.headers["Location"]) == (303, "/login")
        status, _, answer = await get(alice, env.url)
        assert (status, answer.headers["Location"]) == (303, "/login")
    # The old cookie, replayed by someone who kept it, is worth nothing.
    async with browser() as thief:
        thief.cookie_jar.update_cookies({"tw_session": token})
        status, _, answer = await get(thief, env.url + "reports")
        assert (status, answer.headers["Location"]) == (303, "/login")


@in_module_loop
async def test_a_persons_note_is_escaped_everywhere(env: WebEnv) -> None:
    async with logged_in(env.url, "alice") as alice:
        status, body, _ = await get(alice, env.url + "reports")
        assert status == 200
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a second coffee" in body
        status, body, _ = await get(alice, env.url + "export/reports.csv")
        assert "<script>alert(1)</script> & a second coffee" in body  # a download, not a page


def test_sessions_expire() -> None:
    now = [0.0]
    sessions = Sessions(idle_s=10, max_age_s=30, clock=lambda: now[0])
    token, session = sessions.create("alice")
    assert sessions.get(token) is session and sessions.get("forged") is None
    now[0] = 9
    assert sessions.get(token) is session
    now[0] = 25  # idle for 16 s
    assert sessions.get(token) is None
    token, _ = sessions.create("alice")
    for t in (8, 16, 24, 31):
        now[0] = 25 + t
        found = sessions.get(token)
    assert found is None  # used every 8 s, but older than 30 s


def test_mosquitto_hashes_verify(tmp_path: Path) -> None:
    """Hashes written by the real mosquitto_passwd ($7$ PBKDF2 and $6$ SHA-512) and by us."""
    tool = subprocess.run(["which", "mosquitto_passwd"], capture_output=True, text=True).stdout
    if not tool.strip():
        if services_required():
            pytest.fail("needs mosquitto_passwd", pytrace=False)
        pytest.skip("needs mosquitto_passwd")
    path = tmp_path / "passwd"
    path.touch()
    subprocess.run(["mosquitto_passwd", "-b", str(path), "alice", "pbkdf2 pw"], check=True)
    subprocess.run(
        ["mosquitto_passwd", "-H", "sha512", "-b", str(path), "bob", "sha pw"], check=True
    )
    hashes = dict(line.split(":", 1) for line in path.read_text().split())
    assert hashes["alice"].startswith("$7$") and hashes["bob"].startswith("$6$")
    assert verify_password("pbkdf2 pw", hashes["alice"])
    assert not verify_password("pbkdf2 pW", hashes["alice"])
    assert verify_password("sha pw", hashes["bob"]) and not verify_password("", hashes["bob"])
    ours = hash_password("ünïcode pw")
    assert verify_password("ünïcode pw", ours) and not verify_password("unicode pw", ours)
    for broken in ("", "$7$", "$7$x$y$z", "$9$a$b", "$7$0$AAAA$AAAA", "plain", None):
        assert not verify_password("", broken)
    (tmp_path / "people").write_text("# people\nalice alice\n")
    logins = Logins(tmp_path)
    assert logins.check("alice", "pbkdf2 pw") == "alice"
    assert logins.check("bob", "sha pw") is None  # in passwd, not a person
    # A rotated password counts at once: the files are read again when they change.
    subprocess.run(["mosquitto_passwd", "-b", str(path), "alice", "new pw"], check=True)
    assert logins.check("alice", "new pw") == "alice"
    assert logins.check("alice", "pbkdf2 pw") is None


def test_plain_http_stays_on_loopback(tmp_path: Path) -> None:
    broker = BrokerUrl.parse("mqtt://127.0.0.1:1883")
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert WebConfig(host, 8080, tmp_path, broker).host == host
    with pytest.raises(TwitchWatchError, match="plain HTTP beyond this computer"):
        WebConfig("0.0.0.0", 8080, tmp_path, broker)
    with pytest.raises(TwitchWatchError, match="plain HTTP beyond this computer"):
        WebConfig("my-pi.local", 8080, tmp_path, broker)
    assert WebConfig("0.0.0.0", 8080, tmp_path, broker, insecure=True).insecure
    assert WebConfig("192.168.1.5", 8080, tmp_path, broker, trusted_proxy="192.168.1.2")
    with pytest.raises(TwitchWatchError, match="the proxy's IP address"):
        WebConfig("127.0.0.1", 8080, tmp_path, broker, trusted_proxy="proxy.local")


def test_the_command_line_refuses_it_too(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "twitchwatch", "server", "--broker", "mqtt://127.0.0.1:1"),
            *("--db", f"sqlite:///{tmp_path}/x.db", "--http", "0.0.0.0:8080"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("twitchwatch: --http 0.0.0.0:8080: plain HTTP beyond")
    assert done.stderr.count("\n") == 1
