"""`twitchwatch server --http`: the web view starts with the server, in its process, and stops
with it."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

from support.services import MosquittoBroker
from support.web_client import browser, get, log_in
from support.web_env import PASSWORDS, write_accounts


async def test_the_server_serves_the_web_view(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    await asyncio.to_thread(write_accounts, tmp_path / "accounts", PASSWORDS)
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "twitchwatch", "server", "--broker", mosquitto_broker.url),
        *("--db", f"sqlite:///{tmp_path / 'tw.db'}", "--http", "127.0.0.1:0"),
        *("--http-accounts", str(tmp_path / "accounts")),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        async with asyncio.timeout(30):
            while "web view:" not in (line := (await server.stdout.readline()).decode()):
                assert line, "the server ended before its web view started"
        url = re.search(r"web view: (http://127\.0\.0\.1:\d+/)", line)
        assert url, line
        async with browser() as session:
            assert (await log_in(session, url.group(1), "alice")).status == 303
            status, page, _ = await get(session, url.group(1) + "weeks")
            assert status == 200 and "Nothing has been recorded yet." in page
        server.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            out, err = await server.communicate()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    assert server.returncode == 0, err
    assert b"Traceback" not in err and b"stopped:" in out
