"""`twitchwatch demo --web`: the story, then the person's web view with a demo login that keeps
running until Ctrl-C, which still ends everything cleanly (exit 130, no traceback, no child)."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from support.web_client import browser, csrf_in, get, log_in
from tests.test_demo import _alive, _children
from twitchwatch.mqtt_link import BrokerUrl, MqttLink, MqttLinkError

pytestmark = pytest.mark.slow

LOGIN = re.compile(
    r"web view: (http://127\.0\.0\.1:\d+/)  \(user (\S+), password (\S+); shown only now\)\. "
    r"Their broker: (\S+)"
)


async def _read_until(demo: asyncio.subprocess.Process, marker: str, within_s: float) -> str:
    assert demo.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(within_s):
            while line := (await demo.stdout.readline()).decode():
                lines.append(line)
                if marker in line:
                    return "".join(lines)
    except TimeoutError:
        pass
    pytest.fail(f"{marker!r} not printed within {within_s:g} s: {''.join(lines)[-2000:]}")


async def test_demo_web_serves_the_story_until_ctrl_c(tmp_path: Path) -> None:
    demo = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "twitchwatch", "demo", "--quick", "--plain", "--no-report"),
        *("--seconds", "4", "--web", "--web-port", "0"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        head = await _read_until(demo, "web view:", 60)
        login = LOGIN.search(head)
        assert login, head
        url, user, password, broker = login.groups()
        tail = await _read_until(demo, "Ctrl-C ends the demo", 180)
        assert f"log in as {user} with password {password}" in tail
        async with browser() as session:
            assert (await log_in(session, url, user, "wrong")).status == 401
            assert (await log_in(session, url, user, password)).status == 303
            _, weeks, _ = await get(session, url + "weeks")
            _, alerts, _ = await get(session, url + "alerts")
            _, today, _ = await get(session, url + "fragment/today")
            _, home, _ = await get(session, url)
            assert csrf_in(home)
        # The six weeks, the story's alerts and the live day.
        for site in ("left calf", "right hand", "right calf"):
            assert f"<h2>{site}</h2>" in weeks and f"<h3>{site}</h3>" in today
        for title in (
            "Persistent twitching",
            "Twitching spreading to other muscle groups",
            "Reported weakness",
        ):
            assert title in alerts
        # The broker line works as printed (with the demo login on Mosquitto, whose password
        # file has the account; anonymous on the built-in broker).
        async with MqttLink(BrokerUrl.parse(broker), client_id="demo-person-login") as link:
            assert link.connected.is_set()
        if f"{user}:{password}@" in broker:  # Mosquitto checks it: a wrong one is refused
            wrong = BrokerUrl.parse(broker.replace(password, "wrong"))
            with pytest.raises(MqttLinkError, match="refused"):
                async with MqttLink(wrong, client_id="demo-wrong-login"):
                    pass
        children = _children(demo.pid)
        demo.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):
            _, err = await demo.communicate()
    finally:
        if demo.returncode is None:
            demo.kill()
            await demo.wait()
    assert demo.returncode == 130, err
    assert b"Traceback" not in err, err
    deadline = time.monotonic() + 5
    while (left := _alive(children)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert left == {}
