"""Scale: many devices through one Mosquitto into two `twitchwatch server` processes sharing the
load ($share/…) over one PostgreSQL database.

What runs, all real and all on this machine:

- Mosquitto started as the tests start it (support/services.py) with the deployed file's limits
  (deploy/mosquitto/mosquitto.conf: queued messages, message size, autosave);
- a fresh PostgreSQL database (support/services.py);
- ``--servers`` (2) ``twitchwatch server --share scale`` processes, each its own client id;
- ``--devices`` simulated edge devices in ``devices / --per-process`` OS processes
  (bench/scale_devices.py), ``--per-link`` devices per MQTT connection: each sends one window of
  its sites every 60 s / ``--pace`` at QoS 1 and listens to its retained ack;
- a person's app in this process: ``--reports`` reports of slurred speech, each from another
  user, spread over the run, and a subscriber to every user's alert events.

It prints windows/s (stored, against what the devices offered), window-to-ack latency (publish
to the retained ack that covers it, p50/p99), report-to-alert latency (publish to the urgent
alert's firing event, p50/p99), each server's messages and peak memory (VmHWM), and checks with
SQL that every window was stored exactly once (rows, site rows, twitches in the daily sums).

    nice -n 10 .venv/bin/python bench/scale.py --devices 1000 --pace 1 --minutes 3
    nice -n 10 .venv/bin/python bench/scale.py --devices 1000 --pace 60 --minutes 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.report import Row, machine, print_table  # noqa: E402
from support.services import MosquittoBroker, PostgresDatabase  # noqa: E402
from twitchwatch.contract import (  # noqa: E402
    AlertEvent,
    DeviceAck,
    Report,
    ReportKind,
    Rule,
    TopicKind,
    Transition,
    device_topic,
    parse_topic,
    reports_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, MqttLink  # noqa: E402

DEPLOYED_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
#: The deployed broker's limits that decide how it carries load (its accounts, TLS and listeners
#: are left out: the bench's broker listens on a free loopback port without accounts).
LIMITS = ("max_queued_messages", "message_size_limit", "autosave_interval")
DEVICES_CHILD = ROOT / "bench" / "scale_devices.py"
SHARE_GROUP = "scale"
READY_TIMEOUT_S = 60.0


def deployed_limits() -> str:
    lines = [ln.strip() for ln in DEPLOYED_CONF.read_text().splitlines()]
    return "\n".join(ln for ln in lines if ln.split(" ", 1)[0] in LIMITS)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


class ServerProcess:
    """One `twitchwatch server` of the share group, in its own process."""

    def __init__(self, index: int, broker_url: str, db_url: str, log_dir: Path) -> None:
        self.name = f"scale-server-{index}"
        self.args = [
            sys.executable, "-m", "twitchwatch", "server", "--broker", broker_url,
            "--db", db_url, "--client-id", self.name, "--share", SHARE_GROUP,
        ]  # fmt: skip
        self.db_url = db_url
        self.log = log_dir / f"{self.name}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.peak_kb = 0
        self.stopped_line = ""

    async def start(self) -> None:
        with self.log.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                *self.args, stdout=asyncio.subprocess.PIPE, stderr=err, cwd=ROOT
            )
        assert self.proc.stdout is not None
        async with asyncio.timeout(READY_TIMEOUT_S):
            while b"twitchwatch server:" not in (line := await self.proc.stdout.readline()):
                if not line:
                    raise RuntimeError(f"{self.name} did not start: {self.log.read_text()[-800:]}")

    def log_summary(self) -> str:
        """How many lines it logged (warnings and worse), and the last of them."""
        lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        return f"{self.name}: {len(lines)} log lines" + "".join(f"\n  {ln}" for ln in lines[-3:])

    def sample(self) -> None:
        assert self.proc is not None
        self.peak_kb = max(self.peak_kb, status_kb(self.proc.pid, "VmHWM"))

    async def stop(self) -> dict[str, int]:
        """SIGTERM; its counters from the line it prints when it stops (killed after a minute)."""
        assert self.proc is not None and self.proc.stdout is not None
        if self.proc.returncode is not None:
            return {}
        self.sample()
        self.proc.send_signal(signal.SIGTERM)
        try:
            out = (await asyncio.wait_for(self.proc.stdout.read(), 60)).decode()
        except TimeoutError:
            self.proc.kill()
            out = ""
        await self.proc.wait()
        self.stopped_line = next((ln for ln in out.splitlines() if ln.startswith("stopped:")), "")
        counts: dict[str, int] = {}
        for part in self.stopped_line.replace(";", ",").removeprefix("stopped:").split(","):
            if (words := part.split()) and words[0].isdigit():
                counts[" ".join(words[1:])] = int(words[0])
        return counts


class DeviceProcess:
    """``count`` simulated devices in one child process (bench/scale_devices.py)."""

    def __init__(self, args: argparse.Namespace, url: str, first: int, count: int) -> None:
        self.argv = [
            sys.executable, str(DEVICES_CHILD), "--url", url, "--first", str(first),
            "--count", str(count), "--total", str(args.devices), "--per-link", str(args.per_link),
            "--windows", str(args.windows_per_device), "--period", str(args.period),
            "--window-s", str(args.window_s), "--base", args.base,
            "--drain-timeout", str(args.drain_timeout),
        ]  # fmt: skip
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), READY_TIMEOUT_S)
        if line.strip() != b"ready":
            raise RuntimeError(f"a device process did not start: {line!r}")

    def go(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")

    async def result(self) -> dict:
        assert self.proc is not None
        out, _ = await self.proc.communicate()
        if self.proc.returncode != 0:
            raise RuntimeError(f"a device process failed ({self.proc.returncode})")
        return json.loads(out.decode().strip().splitlines()[-1])

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


class Person:
    """Reports slurred speech for one user after another and times each urgent alert."""

    def __init__(self, url: str) -> None:
        self.link = MqttLink(
            BrokerUrl.parse(url),
            client_id="scale-person",
            subscriptions=[("twitchwatch/v1/+/alerts/events", 1)],
            receive_maximum=1000,
        )
        self.sent: dict[str, float] = {}
        self.latencies_ms: list[float] = []

    async def report(self, user: str) -> None:
        self.sent[user] = asyncio.get_running_loop().time()
        speech = Report(datetime.now(UTC), ReportKind.SPEECH, note="scale bench")
        await self.link.publish(reports_topic(user), speech.to_payload())

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        async for message in self.link.messages_across_reconnects():
            event = AlertEvent.from_payload(message.payload)
            user = parse_topic(message.topic).user
            if (
                event.transition is Transition.FIRING
                and event.alert.rule is Rule.RED_FLAG
                and (sent := self.sent.pop(user, None)) is not None
            ):
                self.latencies_ms.append((loop.time() - sent) * 1000)


async def unheard_acks(url: str, behind: dict[str, int], db_url: str) -> str:
    """For devices that never heard the ack of their last window: the ack they heard, the
    database's acked seq, and the ack the broker holds retained (one line per kind of case)."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT device_id, acked_seq FROM devices WHERE device_id = ANY(%s)",
            ([f"{user_of(d)}/{d}" for d in behind],),  # the store keys devices as user/device
        ).fetchall()
    stored = {key.split("/", 1)[1]: seq for key, seq in rows}
    retained: dict[str, int] = {}
    topics = [(device_topic(user_of(d), d, TopicKind.ACK), 0) for d in behind]
    link = MqttLink(BrokerUrl.parse(url), client_id="scale-ack-check", subscriptions=topics)
    async with link:
        await link.subscribed.wait()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3.0):
                async for message in link.messages():
                    device = message.topic.split("/")[-2]
                    retained[device] = DeviceAck.from_payload(message.payload, device=device).seq
    cases: dict[tuple[int, int | None, int | None], int] = {}
    for device, heard in behind.items():
        key = (heard, stored.get(device), retained.get(device))
        cases[key] = cases.get(key, 0) + 1
    return f"{len(behind)} devices never heard their last ack; heard / database / retained: " + (
        ", ".join(f"{h}/{d}/{r} x{n}" for (h, d, r), n in sorted(cases.items(), key=str))
    )


def user_of(device: str) -> str:
    """bench/scale_devices.py's naming: device pi00042 belongs to user u00042."""
    return "u" + device.removeprefix("pi")


def stored_once(db_url: str) -> tuple[int, int, int, int]:
    """(window rows, distinct (device, seq), site rows, twitches in the daily sums)."""
    with psycopg.connect(db_url) as conn:
        rows, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT (device_id, seq)) FROM windows"
        ).fetchone()
        (sites,) = conn.execute("SELECT COUNT(*) FROM window_sites").fetchone()
        (daily,) = conn.execute("SELECT COALESCE(SUM(twitches), 0) FROM daily_site").fetchone()
    return rows, distinct, sites, int(daily)


async def run(args: argparse.Namespace, tmp: Path) -> list[Row]:
    offered = args.devices / args.period
    print(
        f"{args.devices:,} devices, a window each every {args.period:g} s ({args.pace:g}x), "
        f"{args.windows_per_device} windows each: {offered:,.1f} windows/s offered; "
        f"{args.servers} servers in share group {SHARE_GROUP!r}, PostgreSQL",
        flush=True,
    )
    with MosquittoBroker(deployed_limits()) as broker, PostgresDatabase() as pg:
        servers = [ServerProcess(i + 1, broker.url, pg.url, tmp) for i in range(args.servers)]
        chunks = range(0, args.devices, args.per_process)
        devices = [
            DeviceProcess(args, broker.url, first, min(args.per_process, args.devices - first))
            for first in chunks
        ]
        try:
            results, person, counts = await drive(args, servers, devices, broker.url)
        finally:  # whatever happened, no process of ours outlives the bench
            await asyncio.gather(*(d.kill() for d in devices))
            for server in servers:
                if server.proc is not None:
                    await server.stop()
        rows, distinct, site_rows, daily = stored_once(pg.url)
        drops = broker_drops(broker.log_path)
    table = figures(args, results, person, servers, counts, (rows, distinct, site_rows, daily))
    return [*table, Row("broker: clients it dropped messages for", drops or "none")]


def broker_drops(log: Path) -> str:
    """The clients Mosquitto logged "Outgoing messages are being dropped for" (QoS 0 to a client
    that does not keep up, or a full queue), with how often."""
    marker = "Outgoing messages are being dropped for client "
    found: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if marker in line:
            client = line.split(marker, 1)[1].rstrip(".")
            found[client] = found.get(client, 0) + 1
    return ", ".join(f"{c} x{n}" for c, n in sorted(found.items()))


async def drive(
    args: argparse.Namespace, servers: list[ServerProcess], devices: list[DeviceProcess], url: str
) -> tuple[list[dict], Person, list[dict[str, int]]]:
    """Start the servers and the devices, send, and stop the servers once everything is acked."""
    for server in servers:  # one at a time: the first creates the schema
        await server.start()
    await asyncio.gather(*(d.start() for d in devices))
    person = Person(url)
    async with person.link:
        await person.link.subscribed.wait()
        watcher = asyncio.create_task(person.watch())
        go = asyncio.get_running_loop().time()
        for d in devices:
            d.go()
        results_task = asyncio.gather(*(d.result() for d in devices))
        span = args.windows_per_device * args.period
        for i in range(args.reports):
            await asyncio.sleep(max(0.0, go + (i + 0.5) * span / args.reports - time.monotonic()))
            await person.report(f"u{i * args.devices // args.reports:05d}")
            for server in servers:
                server.sample()
        while not results_task.done():
            for server in servers:
                server.sample()
            await asyncio.wait({results_task}, timeout=0.5)
        results = results_task.result()
        behind = {d: s for r in results for d, s in r["behind"].items()}
        if behind:  # while the servers still run: what the database and the broker say
            print(await unheard_acks(url, behind, servers[0].db_url), flush=True)
        with contextlib.suppress(TimeoutError):  # a missing alert is a figure, not a crash
            async with asyncio.timeout(args.drain_timeout):
                while person.sent:
                    await asyncio.sleep(0.1)
        watcher.cancel()
    counts = [await server.stop() for server in servers]
    for server in servers:
        print(server.log_summary(), flush=True)
    return results, person, counts


def figures(
    args: argparse.Namespace,
    results: list[dict],
    person: Person,
    servers: list[ServerProcess],
    counts: list[dict[str, int]],
    stored: tuple[int, int, int, int],
) -> list[Row]:
    rows, distinct, site_rows, daily = stored
    offered = args.devices / args.period
    published = sum(r["published"] for r in results)
    latencies = [ms for r in results for ms in r["latencies_ms"]]
    first = min(r["first_publish"] for r in results)
    last_ack = max(r["last_ack"] for r in results)
    stored_rate = rows / (last_ack - first) if last_ack > first else math.nan
    twitches = sum(r["twitches"] for r in results)
    sent_sites = sum(r["site_rows"] for r in results)
    once = rows == distinct == published and site_rows == sent_sites and daily == twitches
    p99_ack = percentile(latencies, 99)
    table = [
        Row("devices / processes / MQTT links", f"{args.devices} / {len(results)} / "
            f"{sum(r['links'] for r in results)}"),
        Row("windows offered", f"{offered:,.1f}/s"),
        Row("windows stored", f"{stored_rate:,.1f}/s"),
        Row("stored / offered (same run)", f"{stored_rate / offered:.2f}", ">= 0.95",
            stored_rate / offered >= 0.95),
        Row("window-to-ack p50", f"{percentile(latencies, 50):,.0f} ms"),
        Row("window-to-ack p99", f"{p99_ack:,.0f} ms", "<= 5,000 ms", p99_ack <= 5000),
        Row("windows acked / published", f"{len(latencies):,} / {published:,}", "all",
            len(latencies) == published),
        Row("report-to-alert p50", f"{percentile(person.latencies_ms, 50):,.0f} ms"),
        Row("report-to-alert p99", f"{percentile(person.latencies_ms, 99):,.0f} ms",
            "<= 5,000 ms", percentile(person.latencies_ms, 99) <= 5000),
        Row("urgent alerts / reports", f"{len(person.latencies_ms)} / {args.reports}", "all",
            len(person.latencies_ms) == args.reports),
    ]  # fmt: skip
    for server, count in zip(servers, counts, strict=True):
        table += [
            Row(f"{server.name}: messages, stored", f"{count.get('messages', 0):,}, "
                f"{count.get('stored', 0):,}"),
            Row(f"{server.name}: peak RSS", f"{server.peak_kb / 1024:,.0f} MB"),
        ]  # fmt: skip
    table += [
        Row("stored exactly once (SQL)", f"{rows:,} rows, {distinct:,} distinct", "= published",
            once),
        Row("device schedule, latest publish", f"{max(r['late_max_s'] for r in results):.2f} s"),
        Row("PUBACK failures", str(sum(r["puback_failures"] for r in results)), "0",
            sum(r["puback_failures"] for r in results) == 0),
    ]  # fmt: skip
    return table


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument(
        "--pace", type=float, default=1.0, help="1: a window a minute per device; 60: one a second"
    )
    parser.add_argument("--minutes", type=float, default=2.0, help="how long the devices send")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--per-process", type=int, default=250, help="devices per OS process")
    parser.add_argument("--per-link", type=int, default=25, help="devices per MQTT connection")
    parser.add_argument("--reports", type=int, default=20, help="speech reports (alert probes)")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    args.window_s = 60.0
    args.period = args.window_s / args.pace
    args.windows_per_device = max(1, round(args.minutes * 60 / args.period))
    # The devices' data ends before now whatever the pace: the server refuses future windows.
    data_s = args.windows_per_device * args.window_s
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(seconds=data_s + 120)
    args.base = base.isoformat()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(machine(f"Mosquitto limits: {deployed_limits().replace(chr(10), ', ')}"), flush=True)
    with tempfile.TemporaryDirectory(prefix="twitchwatch-scale-") as tmp:
        rows = asyncio.run(run(args, Path(tmp)))
    print_table(rows)
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
