"""The simulated devices of bench/scale.py: one OS process, many edge devices, a few MQTT links.

bench/scale.py starts one of these per ``--per-process`` devices; nobody runs it by hand. Each
device is what an edge agent sends: one window of its sites every ``--period`` seconds (the
window's own length is ``--window-s``: a 60x pace sends a minute of data every second), QoS 1,
seq 1, 2, 3…, and it listens to its retained ack. ``--per-link`` devices share one MQTT
connection, so 1,000 devices are a few dozen connections and a few processes, not a thousand
paho threads.

Protocol: prints ``ready`` once every link is connected and subscribed; reads one line (go);
publishes on the schedule; waits until every device's ack covers its last window (or
``--drain-timeout``); prints one JSON line: each window's publish-to-ack latency (ms), the
times (system-wide monotonic clock, as the parent's) of the first publish, the last publish and
the last ack, how late the schedule ran, and what was sent.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import random
import sys
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twitchwatch.contract import (
    DeviceAck,
    SiteWindow,
    TopicKind,
    WindowMessage,
    device_topic,
    parse_topic,
)
from twitchwatch.mqtt_link import BrokerUrl, MqttLink


def user_of(d: int) -> str:
    return f"u{d:05d}"


def device_of(d: int) -> str:
    return f"pi{d:05d}"


def window(d: int, seq: int, base: datetime, window_s: float, rng: random.Random) -> WindowMessage:
    """Device ``d``'s window ``seq``: a calf on every device, the other calf on every second."""
    start = base + timedelta(seconds=(seq - 1) * window_s)
    sites = ("left_calf", "right_calf") if d % 2 == 0 else ("left_calf",)
    rest = window_s * 0.75
    return WindowMessage(
        user_of(d),
        device_of(d),
        seq,
        start,
        start + timedelta(seconds=window_s),
        {
            s: SiteWindow(rng.randrange(4), 0, rest, window_s * 0.2, window_s * 0.05, 70.0, "uV")
            for s in sites
        },
    )


class Devices:
    """The devices of this process: what each sent, and when its ack covered it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.ids = range(args.first, args.first + args.count)
        self.sent: dict[str, deque[tuple[int, float]]] = {device_of(d): deque() for d in self.ids}
        self.acked: dict[str, int] = dict.fromkeys(self.sent, 0)
        self.latencies_ms: list[int] = []
        self.last_ack = 0.0
        self.all_acked = asyncio.Event()
        self.done = 0  # devices whose last window is acked
        self.twitches = 0
        self.site_rows = 0
        self.puback_failures = 0

    def on_ack(self, device: str, seq: int, now: float) -> None:
        before = self.acked[device]
        if seq <= before:
            return
        self.acked[device] = seq
        if before < self.args.windows <= seq:
            self.done += 1  # counted once per device: no scan of them all per ack
        pending = self.sent[device]
        while pending and pending[0][0] <= seq:
            _, at = pending.popleft()
            self.latencies_ms.append(round((now - at) * 1000))
            self.last_ack = now
        if self.done == len(self.acked):
            self.all_acked.set()

    def on_puback(self, future: asyncio.Future[None]) -> None:
        if future.cancelled() or future.exception() is not None:
            self.puback_failures += 1


async def take_acks(link: MqttLink, devices: Devices) -> None:
    loop = asyncio.get_running_loop()
    async for message in link.messages_across_reconnects():
        where = parse_topic(message.topic)
        if where.kind is TopicKind.ACK and where.device in devices.acked and message.payload:
            seq = DeviceAck.from_payload(message.payload, device=where.device).seq
            devices.on_ack(where.device, seq, loop.time())


async def run(args: argparse.Namespace) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    devices = Devices(args)
    base = datetime.fromisoformat(args.base)
    ids = list(devices.ids)
    groups = [ids[i : i + args.per_link] for i in range(0, len(ids), args.per_link)]
    links = [
        MqttLink(
            BrokerUrl.parse(args.url),
            client_id=f"scale-devices-{group[0]}",
            subscriptions=[
                (device_topic(user_of(d), device_of(d), TopicKind.ACK), 1) for d in group
            ],
            receive_maximum=1000,
        )
        for group in groups
    ]
    for link in links:
        link.start()
    for link in links:
        await link.wait_connected(30.0)
        await asyncio.wait_for(link.subscribed.wait(), 30.0)
    readers = [asyncio.create_task(take_acks(link, devices)) for link in links]
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)

    t0 = loop.time()
    link_of = {d: links[i // args.per_link] for i, d in enumerate(ids)}
    rngs = {d: random.Random(d) for d in ids}
    # Every device at its own phase of the period, spread over all devices of the run.
    schedule = [(t0 + args.period * d / args.total, d, 1) for d in ids]
    heapq.heapify(schedule)
    late_max = 0.0
    first_publish = last_publish = 0.0
    while schedule:
        due, d, seq = heapq.heappop(schedule)
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        now = loop.time()
        late_max = max(late_max, now - due)
        first_publish = first_publish or now
        last_publish = now
        w = window(d, seq, base, args.window_s, rngs[d])
        devices.sent[w.device].append((seq, now))
        devices.twitches += sum(s.twitches for s in w.sites.values())
        devices.site_rows += len(w.sites)
        link_of[d].publish_nowait(w.topic, w.to_payload()).add_done_callback(devices.on_puback)
        if seq < args.windows:
            heapq.heappush(schedule, (due + args.period, d, seq + 1))
    try:
        async with asyncio.timeout(args.drain_timeout):
            await devices.all_acked.wait()
    except TimeoutError:
        pass
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    await asyncio.gather(*(link.close() for link in links))
    return {
        "devices": len(ids),
        "links": len(links),
        "published": len(ids) * args.windows,
        "acked": len(devices.latencies_ms),
        "latencies_ms": devices.latencies_ms,
        "first_publish": first_publish,
        "last_publish": last_publish,
        "last_ack": devices.last_ack,
        "late_max_s": late_max,
        "twitches": devices.twitches,
        "site_rows": devices.site_rows,
        "puback_failures": devices.puback_failures,
        # Devices whose ack never covered their last window: the ack each last heard.
        "behind": {d: s for d, s in devices.acked.items() if s < args.windows},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--first", type=int, required=True, help="index of the first device")
    parser.add_argument("--count", type=int, required=True, help="devices in this process")
    parser.add_argument("--total", type=int, required=True, help="devices in the whole run")
    parser.add_argument("--per-link", type=int, default=25)
    parser.add_argument("--windows", type=int, required=True, help="windows per device")
    parser.add_argument("--period", type=float, required=True, help="seconds between windows")
    parser.add_argument("--window-s", type=float, default=60.0)
    parser.add_argument("--base", required=True, help="start of every device's first window")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
