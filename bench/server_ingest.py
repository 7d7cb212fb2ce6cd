"""Server ingest speed, rule evaluation time and memory, against a bare subscriber, in one run.

A Mosquitto started as the tests start it (tests/services.py) carries windows of 3 sites each
from ``--devices`` devices of ``--users`` users, published by a child process (so the publisher
neither shares this process's CPU time nor its memory). Two consumers take the same stream:

- the server (``server.service.Server``, SQLite in a temp dir): validate, store in one
  transaction per batch, ack after commit, publish DeviceAcks, re-evaluate the rules of every
  user touched; done when every window is stored and every user evaluated;
- a bare subscriber: ``MqttLink`` with paho's automatic acks that only counts messages, the
  floor any consumer in Python on this facade pays.

Each consumer is timed twice: on a live stream (end to end: first publish -> stored and
evaluated; the publisher may be the limit, and then both consumers show it) and draining a
backlog the broker queued while it was away (the consumer's own capacity; the target ratio
applies here). Then the rules for one user with 90 days x 16 sites (synthetic history from
tests/histories.py): ``rules.evaluate`` alone and the server's whole per-user evaluation (load
from the store, evaluate, advance, write). Last, peak RSS of a server process taking 1x and
4x the messages.

    .venv/bin/python bench/server_ingest.py [--quick] [--windows 20000] [--users 10] [--devices 2]

Targets (issue): >= 2,000 windows/s end to end; >= 0.5 of the bare subscriber's rate;
<= 50 ms to evaluate one user with 90 days x 16 sites; peak memory flat in the messages taken.
"""

from __future__ import annotations

import twitchwatch.one_core  # noqa: F401  (one BLAS thread, as the twitchwatch command runs)

# isort: split

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Row, machine, print_table  # noqa: E402
from server import rules  # noqa: E402
from server.evaluate import evaluate_user  # noqa: E402
from server.rules import load_rule_config  # noqa: E402
from server.service import Server  # noqa: E402
from server.store import Store, open_store  # noqa: E402
from server.store.sql import ts  # noqa: E402
from support.histories import HistoryBuilder  # noqa: E402
from support.services import MosquittoBroker  # noqa: E402
from twitchwatch.contract import SERVER_FILTERS, ReportKind, TopicKind  # noqa: E402
from twitchwatch.mqtt_link import BrokerUrl, MqttLink  # noqa: E402

SITES = ("left_calf", "right_calf", "right_hand")
POLL_S = 0.005

#: The publisher: connects, prints "ready", waits for a line on stdin, publishes windows
#: ``first`` .. ``first + n - 1`` of a stream of ``total`` (QoS 1, a bounded number awaiting
#: PUBACK; paced at ``rate`` windows/s unless 0), prints its timing as JSON.
_PUBLISHER = """
import asyncio, json, random, sys, time
from datetime import UTC, datetime, timedelta
from twitchwatch.contract import SiteWindow, WindowMessage
from twitchwatch.mqtt_link import BrokerUrl, MqttLink
url, first, n, total, users, devices, rate = sys.argv[1], *map(int, sys.argv[2:8])
sites = sys.argv[8].split(",")
n_dev = users * devices
# Window k of ``total``: every device's seq k // n_dev + 1, one minute each, ending before now.
base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=total // n_dev + 5)
rng = random.Random(1)
def window(k):
    d, seq = k % n_dev, k // n_dev + 1
    start = base + timedelta(minutes=seq - 1)
    return WindowMessage(f"user{d // devices}", f"dev{d}", seq, start, start + timedelta(minutes=1),
        {s: SiteWindow(rng.randrange(12), 0, 45.0, 10.0, 5.0, 60.0, "uV") for s in sites})
messages = [(w.topic, w.to_payload()) for w in map(window, range(first, first + n))]
async def main():
    async with MqttLink(BrokerUrl.parse(url), client_id="bench-publisher") as link:
        print("ready", flush=True)
        sys.stdin.readline()
        t0 = time.perf_counter()
        step = 100 if rate else 2000
        for i in range(0, n, step):
            if rate:  # paced: chunk i is due at t0 + i / rate
                await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            await asyncio.gather(*(link.publish_nowait(t, p) for t, p in messages[i:i + step]))
        print(json.dumps({"publish_s": time.perf_counter() - t0}), flush=True)
asyncio.run(main())
"""

#: A server in its own process, printing its memory each time it has taken (stored and
#: evaluated) as many messages as the next checkpoint says.
_SERVER_CHILD = """
import asyncio, json, sys
from server.service import Server
def status_kb(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))
url, db, checkpoints = sys.argv[1], sys.argv[2], map(int, sys.argv[3].split(","))
async def main():
    server, stop = Server(url, db, client_id="bench-memory"), asyncio.Event()
    task = asyncio.create_task(server.run(stop))
    await server.ready.wait()
    print(json.dumps({"rss_kb": status_kb("VmRSS")}), flush=True)
    for n in checkpoints:
        while server.stats.messages < n or server.pending_evaluations:
            await asyncio.sleep(0.01)
        print(json.dumps({"rss_kb": status_kb("VmRSS"), "peak_kb": status_kb("VmHWM"),
                          "stored": server.stats.stored}), flush=True)
    stop.set()
    await task
asyncio.run(main())
"""


@dataclass(frozen=True)
class Run:
    """One consumer on one stream."""

    wall_s: float
    cpu_s: (
        float  # this process: the consumer and its paho thread (not the broker, not the publisher)
    )
    n: int

    @property
    def rate(self) -> float:
        return self.n / self.wall_s


class Publisher:
    """The publisher child: started and connected up front, so ``go()`` starts the clock cleanly."""

    def __init__(
        self,
        url: str,
        n: int,
        users: int,
        devices: int,
        rate: int = 0,
        first: int = 0,
        total: int | None = None,
    ) -> None:
        numbers = (first, n, total or n, users, devices, rate)
        args = [url, *map(str, numbers), ",".join(SITES)]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _PUBLISHER, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        assert self.proc.stdout is not None and self.proc.stdin is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the publisher did not start")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def wait(self) -> float:
        """Seconds the publisher took to have every window acknowledged by the broker."""
        out, _ = self.proc.communicate(timeout=600)
        if self.proc.returncode != 0:
            raise RuntimeError(f"the publisher failed ({self.proc.returncode})")
        return float(json.loads(out.strip().splitlines()[-1])["publish_s"])


#: The bare subscriber gives up (and the bench fails loudly) if the stream stalls this long.
RECEIVE_TIMEOUT_S = 300.0


async def wait_until(done: Callable[[], bool]) -> None:
    while not done():
        await asyncio.sleep(POLL_S)


async def run_server(
    broker: MosquittoBroker, args: argparse.Namespace, db: Path, backlog: bool
) -> Run:
    """The server on a live stream, or draining a backlog queued for its session."""
    n = args.windows
    server, stop = Server(broker.url, f"sqlite:///{db}", client_id=db.stem), asyncio.Event()
    if backlog:  # a first run creates the session; the broker queues what comes meanwhile
        task = asyncio.create_task(server.run(stop))
        await server.ready.wait()
        stop.set()
        await task
        publisher = Publisher(broker.url, n, args.users, args.devices)
        publisher.go()
        await asyncio.to_thread(publisher.wait)
        server, stop = Server(broker.url, f"sqlite:///{db}", client_id=db.stem), asyncio.Event()
    else:
        publisher = Publisher(broker.url, n, args.users, args.devices)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    task = asyncio.create_task(server.run(stop))
    if not backlog:
        await server.ready.wait()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        publisher.go()
    await wait_until(lambda: server.stats.messages >= n and not server.pending_evaluations)
    run = Run(time.perf_counter() - wall0, time.process_time() - cpu0, n)
    stop.set()
    await task
    if not backlog:
        await asyncio.to_thread(publisher.wait)
    if server.stats.stored != n:
        raise RuntimeError(f"stored {server.stats.stored} of {n}: {server.stats}")
    return run


async def run_bare(
    broker: MosquittoBroker, args: argparse.Namespace, name: str, backlog: bool
) -> Run:
    """Count the same stream with paho's automatic acks, nothing else."""
    n, received = args.windows, 0

    def link() -> MqttLink:
        return MqttLink(
            BrokerUrl.parse(broker.url),
            client_id=name,
            subscriptions=[(SERVER_FILTERS[TopicKind.WINDOWS], 1)],
            session_expiry_s=3600,
            receive_maximum=200,
        )

    if backlog:
        async with link():
            pass
        publisher = Publisher(broker.url, n, args.users, args.devices)
        publisher.go()
        await asyncio.to_thread(publisher.wait)
    else:
        publisher = Publisher(broker.url, n, args.users, args.devices)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    async with link() as bare:
        if not backlog:
            await bare.subscribed.wait()  # else the first windows pass before the SUBACK
            cpu0, wall0 = time.process_time(), time.perf_counter()
            publisher.go()
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):  # a lost window must fail, not hang
            async for _ in bare.messages_across_reconnects():
                received += 1
                if received == n:
                    break
        run = Run(time.perf_counter() - wall0, time.process_time() - cpu0, n)
    if not backlog:
        await asyncio.to_thread(publisher.wait)
    return run


async def throughput_rows(args: argparse.Namespace, tmp: Path) -> list[Row]:
    rows: list[Row] = []
    n = args.windows
    print(f"{n:,} windows of {len(SITES)} sites, {args.users} users x {args.devices} devices:")
    with MosquittoBroker() as broker:
        for backlog in (False, True):
            mode = "backlog" if backlog else "live"
            bare = await run_bare(broker, args, f"bare-{mode}", backlog)
            server = await run_server(broker, args, tmp / f"server-{mode}.db", backlog)
            for name, r in (("bare subscriber", bare), ("server", server)):
                print(
                    f"  {mode:<7} {name:<16} {r.rate:>8,.0f} windows/s  wall {r.wall_s:6.2f} s  "
                    f"CPU {r.cpu_s:6.2f} s ({r.cpu_s / r.n * 1e6:,.0f} µs per window)"
                )
            ratio = server.rate / bare.rate
            if backlog:
                rows += [
                    Row("server, draining a backlog", f"{server.rate:,.0f}/s", ">= 2,000/s", server.rate >= 2000),
                    Row("bare subscriber, draining a backlog", f"{bare.rate:,.0f}/s"),
                    Row("server / bare, backlog (capacity)", f"{ratio:.2f}", ">= 0.5", ratio >= 0.5),
                ]  # fmt: skip
            else:
                rows += [
                    Row("server, live stream end to end", f"{server.rate:,.0f}/s", ">= 2,000/s", server.rate >= 2000),
                    Row("bare subscriber, live stream", f"{bare.rate:,.0f}/s"),
                    Row("server / bare, live stream", f"{ratio:.2f}", ">= 0.5", ratio >= 0.5),
                ]  # fmt: skip
    return rows


def synthetic_user(days: int = 90) -> HistoryBuilder:
    """16 sites for ``days`` days: both sides of 8 places, a few twitching, reports now and then."""
    places = ("calf", "thigh", "shin", "foot", "hand", "thumb", "forearm", "upper_arm")
    b = HistoryBuilder(days, user="bench", seed=11)
    for k, place in enumerate(places):
        for side in ("left", "right"):
            b.wear(f"{side}_{place}", rate_per_min=1.2 if k % 3 == 0 else 0.05)
    for day in range(0, days, 4):
        b.report(day, ReportKind.CAFFEINE, value=3)
    b.report(days - 10, ReportKind.WEAKNESS, site="left_hand")
    return b


def load_into(store: Store, builder: HistoryBuilder) -> datetime:
    """Put a synthetic history into the store as its daily sums; the evaluation time."""
    scenario = builder.build()
    with store.transaction(users=[scenario.user]) as tx:
        store.backend.execute_many(
            "INSERT INTO daily_site (user_id, site, day, twitches, cramps, rest_s, active_s, "
            "gap_s, windows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(scenario.user, d.site, d.day.isoformat(), d.twitches, d.cramps, d.rest_s,
              d.active_s, d.gap_s, d.windows) for d in scenario.days],
        )  # fmt: skip
        for report in scenario.reports:
            tx.add_report(scenario.user, report, report.t)
    as_of = scenario.as_of(scenario.n_days - 1)
    store.backend.execute(
        "UPDATE users SET latest_utc = ? WHERE user_id = ?", (ts(as_of), scenario.user)
    )
    return as_of


def evaluation_rows(repeats: int, tmp: Path) -> list[Row]:
    config = load_rule_config(None)
    builder = synthetic_user()
    scenario = builder.build()
    as_of = scenario.as_of(scenario.n_days - 1)
    history = scenario.history(as_of)
    print(f"\nrules for one user, {len({d.site for d in history.days})} sites x {scenario.n_days} days "
          f"({len(history.days)} day rows, {len(history.reports)} reports), {repeats} repeats:")  # fmt: skip
    pure = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        findings = rules.evaluate(history, as_of, config)
        pure.append(time.perf_counter() - t0)
    print(f"  rules.evaluate: {len(findings)} findings, median {statistics.median(pure) * 1e3:.1f} ms, "
          f"max {max(pure) * 1e3:.1f} ms")  # fmt: skip
    whole = []
    with open_store(f"sqlite:///{tmp / 'rules.db'}") as store:
        load_into(store, builder)
        for _ in range(repeats):
            with store.transaction():
                store.backend.execute("UPDATE users SET dirty = 1")
            t0 = time.perf_counter()
            change = evaluate_user(store, scenario.user, config)
            whole.append(time.perf_counter() - t0)
            if len(whole) == 1:
                print(f"  first evaluation (catches up day by day over the whole history): "
                      f"{whole[0] * 1e3:.0f} ms, {len(change.states)} alerts changed, "
                      f"{len(change.events)} events")  # fmt: skip
    whole = whole[1:] or whole  # the steady state: one evaluation step per new data
    print(f"  evaluate_user (load + rules + lifecycle + write): median "
          f"{statistics.median(whole) * 1e3:.1f} ms, max {max(whole) * 1e3:.1f} ms")  # fmt: skip
    return [
        Row("rules.evaluate, 90 d x 16 sites (median)", f"{statistics.median(pure) * 1e3:.1f} ms",
            "<= 50 ms", statistics.median(pure) <= 0.05),
        Row("whole evaluation of the user (median)", f"{statistics.median(whole) * 1e3:.1f} ms",
            "<= 50 ms", statistics.median(whole) <= 0.05),
    ]  # fmt: skip


def memory_rows(n: int, users: int, devices: int, rate: int, tmp: Path) -> list[Row]:
    """Peak RSS of one server process after it took ``n`` windows, then ``4 n`` in all."""
    # Paced below the server's capacity: Mosquitto 2.0.11 sends past the Receive Maximum
    # (eclipse-mosquitto/mosquitto#2301), so a server that falls behind a faster stream holds
    # the excess in its receive queue, which would measure the broker, not the server.
    print(f"\nserver process memory, after {n:,} and {4 * n:,} windows at {rate:,}/s:")
    with MosquittoBroker() as broker:
        child = subprocess.Popen(
            [sys.executable, "-c", _SERVER_CHILD, broker.url, f"sqlite:///{tmp / 'memory.db'}",
             f"{n},{4 * n}"],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        assert child.stdout is not None
        ready = json.loads(child.stdout.readline())
        docs = []
        for first, size in ((0, n), (n, 3 * n)):
            publisher = Publisher(broker.url, size, users, devices, rate, first, total=4 * n)
            publisher.go()
            publisher.wait()
            docs.append(json.loads(child.stdout.readline()))
        child.communicate(timeout=60)
    if docs[-1]["stored"] != 4 * n:
        raise RuntimeError(f"the server stored {docs[-1]['stored']} of {4 * n} windows")
    print(f"  ready: RSS {ready['rss_kb'] / 1024:.0f} MB")
    for size, doc in zip((n, 4 * n), docs, strict=True):
        print(f"  after {size:>7,} windows: RSS {doc['rss_kb'] / 1024:.0f} MB, "
              f"peak {doc['peak_kb'] / 1024:.0f} MB")  # fmt: skip
    growth = docs[1]["peak_kb"] / docs[0]["peak_kb"]
    return [
        Row(f"server peak RSS, {n:,} windows", f"{docs[0]['peak_kb'] / 1024:.0f} MB"),
        Row(
            f"peak RSS {4 * n:,} / {n:,} windows", f"{growth:.2f}", "<= 1.10 (flat)", growth <= 1.10
        ),
    ]


def mosquitto_version() -> str:
    help_text = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout
    return help_text.split("\n")[0].strip()


async def main_async(args: argparse.Namespace) -> None:
    print(machine(mosquitto_version()))
    with tempfile.TemporaryDirectory(prefix="server_ingest_") as tmp_dir:
        tmp = Path(tmp_dir)
        rows = await throughput_rows(args, tmp)
        rows += await asyncio.to_thread(evaluation_rows, args.repeats, tmp)
        rows += await asyncio.to_thread(
            memory_rows, args.memory_windows, args.users, args.devices, args.memory_rate, tmp
        )
    print_table(rows, value_width=14)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--windows", type=int, help="windows per throughput run (20,000; 1,000 with --quick)")
    add("--users", type=int, default=10)
    add("--devices", type=int, default=2, help="devices per user")
    add("--memory-windows", type=int, help="the 1x of the memory figure (10,000; 500 with --quick)")
    add("--memory-rate", type=int, default=1500, help="windows/s fed to the memory runs")
    add("--repeats", type=int, default=20, help="repeats of the rule evaluation timing")
    add("--quick", action="store_true", help="small numbers: a smoke run, not a measurement")
    args = parser.parse_args()
    args.windows = args.windows or (1_000 if args.quick else 20_000)
    args.memory_windows = args.memory_windows or (500 if args.quick else 10_000)
    if args.quick:
        args.repeats = min(args.repeats, 3)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
