"""The web view's speed, as a person on the same machine would feel it, in one run.

A Mosquitto started as the tests start it, the server on a temporary SQLite store holding two
people's last 90 days (support/person_story.py, support/web_env.py), and the web view on a free
loopback port. Timed through a real HTTP client (aiohttp, with cookies and CSRF tokens, as
support/web_client.py logs in):

- a login (the password checked against a Mosquitto $7$ hash);
- each page and download, ``--repeat`` times in a row: median and 95th percentile;
- ten people opening their home page at the same moment;
- a weakness report from the page until the redirect, by which time the server has stored and
  evaluated it, and the page then shows the warning (the browser test's "within seconds");
- ``twitchwatch log caffeine`` as a person runs it: a new process that connects, publishes and
  waits for the broker's acknowledgement.

    .venv/bin/python bench/web_view.py [--repeat 20]
"""

from __future__ import annotations

import twitchwatch.one_core  # noqa: F401  (one BLAS thread, as the twitchwatch command runs)

# isort: split

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Row, machine, print_table  # noqa: E402
from support.services import MosquittoBroker  # noqa: E402
from support.web_client import browser, csrf_in, get, log_in, logged_in, post  # noqa: E402
from support.web_env import web_env  # noqa: E402

PAGES = [
    ("home: today, alerts, report form", ""),
    ("weeks: 90 days x 2 sites", "weeks"),
    ("alerts with their history", "alerts"),
    ("reports", "reports"),
    ("today's windows (the 15 s refresh)", "fragment/today"),
    ("daily rates as CSV", "export/daily.csv"),
    ("everything as JSON", "export/data.json"),
]
PAGE_TARGET_MS = 300.0
REPORT_TARGET_S = 3.0


def ms(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


async def timed(coro_factory, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await coro_factory()
        times.append(time.perf_counter() - start)
    return times


async def run(repeat: int) -> list[Row]:
    rows: list[Row] = []
    with MosquittoBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        async with web_env(broker.url, Path(tmp)) as env:
            url = env.url

            async def one_login() -> None:
                async with browser() as session:
                    answer = await log_in(session, url, "alice")
                    assert answer.status == 303

            login = await timed(one_login, 5)
            rows.append(Row("login page + login (median of 5)", f"{ms(login)[0]:.0f} ms"))
            async with logged_in(url, "alice") as alice:
                for name, path in PAGES:

                    async def fetch(path: str = path) -> None:
                        status, _, _ = await get(alice, url + path)
                        assert status == 200, (path, status)

                    median, p95 = ms(await timed(fetch, repeat))
                    rows.append(
                        Row(
                            f"{name}: median/p95",
                            f"{median:.0f} / {p95:.0f} ms",
                            f"<= {PAGE_TARGET_MS:.0f} ms",
                            median <= PAGE_TARGET_MS,
                        )
                    )

                async def report_page() -> None:
                    status, _, _ = await get(alice, url + "doctor/report")
                    assert status == 200

                median, p95 = ms(await timed(report_page, 3))
                rows.append(Row("doctor's report, figures drawn (median of 3)", f"{median:.0f} ms"))

                sessions = [logged_in(url, "alice") for _ in range(10)]
                opened = [await s.__aenter__() for s in sessions]
                start = time.perf_counter()
                await asyncio.gather(*(get(s, url) for s in opened))
                together = time.perf_counter() - start
                for s in sessions:
                    await s.__aexit__(None, None, None)
                rows.append(Row("10 home pages at once: all answered", f"{together * 1000:.0f} ms"))

                _, home, _ = await get(alice, url)
                form = {"csrf": csrf_in(home), "kind": "weakness", "site": "right_hand"}
                start = time.perf_counter()
                status, _, _ = await post(alice, url + "reports", form)
                stored = time.perf_counter() - start
                _, home, _ = await get(alice, url)
                shown = time.perf_counter() - start
                assert status == 303 and "Reported weakness or wasting" in home
                rows.append(
                    Row(
                        "weakness report -> stored and evaluated",
                        f"{stored:.2f} s",
                        f"<= {REPORT_TARGET_S:g} s",
                        stored <= REPORT_TARGET_S,
                    )
                )
                rows.append(Row("weakness report -> warning on the page", f"{shown:.2f} s"))

            home = Path(tmp) / "home"
            env_vars = {**os.environ, "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)}
            command = [sys.executable, "-m", "twitchwatch", "log", "caffeine", "--value", "2"]
            command += ["--broker", broker.url, "--user", "alice"]
            times = []
            for _ in range(3):
                start = time.perf_counter()
                await asyncio.to_thread(
                    subprocess.run, command, check=True, capture_output=True, env=env_vars
                )
                times.append(time.perf_counter() - start)
            rows.append(
                Row(
                    "twitchwatch log, new process to PUBACK",
                    f"{statistics.median(times):.2f} s",
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="requests per page")
    args = parser.parse_args()
    import aiohttp

    print(machine(f"aiohttp {aiohttp.__version__}"))
    print_table(asyncio.run(run(args.repeat)), value_width=16)


if __name__ == "__main__":
    main()
