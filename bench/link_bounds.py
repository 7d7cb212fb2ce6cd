"""What one MQTT link holds in memory when the broker sends faster than its consumer takes, and
when someone publishes a 100 MB message: with the link's bounds (issue 15) and without them.

Each case runs in a child process of its own (a clean peak RSS, VmHWM), against a Mosquitto
started as the tests start it (support/services.py; no message size limit, a queue of 100,000):

- flood: ``--messages`` messages of ``--size`` bytes wait at the broker for a persistent session
  (QoS 1), then the consumer connects and takes them one by one, pausing 0.5 s every 500 (a
  commit). It acknowledges on receipt, as the link does by default (``alerts``, the edge), which
  Receive Maximum cannot bound. "bounded": the default ReceiveLimits (paho stops reading the
  socket once 1,000 messages wait); "unbounded": limits too large to bind, as the link was
  before. Printed: messages received in order, the most that waited in the link at once, peak
  RSS, seconds.
- oversized: ``mosquitto_pub`` (another process, so its memory is not counted) publishes a 100 MB
  payload, then a small one, to a subscribing link. "bounded": Maximum Packet Size 256 KB on
  CONNECT (the broker never sends the big one); "unbounded": MQTT's largest (256 MB).

    .venv/bin/python bench/link_bounds.py [--messages 20000] [--size 2000]

Targets: every message received, in order; in the bounded cases the peak waiting stays at the
limit and the peak RSS does not grow with the flood or the payload.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Row, machine, print_table  # noqa: E402
from support.services import MosquittoBroker  # noqa: E402
from twitchwatch.mqtt_link import BrokerUrl, MqttLink, ReceiveLimits  # noqa: E402
from twitchwatch.mqtt_link.flow import MQTT_PACKET_LIMIT  # noqa: E402

UNBOUNDED = ReceiveLimits(messages=10**9, bytes=10**12, packet_bytes=MQTT_PACKET_LIMIT)
BIG = 100 * 1024 * 1024


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def flood(url: BrokerUrl, n: int, size: int, limits: ReceiveLimits) -> dict[str, float]:
    subscription = [("flood/#", 1)]
    consumer_args = dict(
        client_id="bench-consumer",
        subscriptions=subscription,
        session_expiry_s=600,
        receive_limits=limits,
    )
    async with MqttLink(url, **consumer_args) as consumer:  # the session and its subscription
        await consumer.subscribed.wait()
    async with MqttLink(url, client_id="bench-flooder") as flooder:
        body = b"x" * (size - 8)
        for start in range(0, n, 1000):
            await asyncio.gather(
                *(
                    flooder.publish_nowait("flood/a", b"%08d" % i + body)
                    for i in range(start, min(n, start + 1000))
                )
            )
    base_kb = status_kb("VmRSS")
    started = time.monotonic()
    expected, in_order = 0, True
    async with MqttLink(url, **consumer_args) as consumer:
        async with asyncio.timeout(600):
            async for message in consumer.messages_across_reconnects():
                in_order &= int(message.payload[:8]) == expected
                expected += 1
                if expected % 500 == 0:
                    await asyncio.sleep(0.5)  # a slow commit: ~1,000 messages/s
                if expected == n:
                    break
        peak = consumer.receive_window.peak_messages
    return {
        "received": expected,
        "in_order": in_order,
        "peak_waiting": peak,
        "rss_before_mb": base_kb / 1024,
        "peak_rss_mb": status_kb("VmHWM") / 1024,
        "seconds": time.monotonic() - started,
    }


def publish_elsewhere(url: BrokerUrl, payload: Path) -> None:
    """``mosquitto_pub`` in its own process: its memory is not the subscriber's."""
    base = ["mosquitto_pub", "-h", url.host, "-p", str(url.port), "-t", "big/a", "-q", "1"]
    subprocess.run([*base, "-f", str(payload)], check=True, timeout=300)
    subprocess.run([*base, "-m", "small"], check=True, timeout=60)


async def oversized(url: BrokerUrl, limits: ReceiveLimits, payload: Path) -> dict[str, float]:
    base_kb = status_kb("VmRSS")
    async with MqttLink(
        url, client_id="bench-server", subscriptions=[("big/#", 1)], receive_limits=limits
    ) as server:
        await server.subscribed.wait()
        await asyncio.to_thread(publish_elsewhere, url, payload)
        got = []
        async with asyncio.timeout(120):
            async for message in server.messages():
                got.append(len(message.payload))
                if message.payload == b"small":
                    break
    return {
        "received_sizes": got,
        "rss_before_mb": base_kb / 1024,
        "peak_rss_mb": status_kb("VmHWM") / 1024,
    }


def child(case: str, bounded: bool, url: str, n: int, size: int, payload: Path) -> None:
    limits = ReceiveLimits() if bounded else UNBOUNDED
    broker = BrokerUrl.parse(url)
    result = asyncio.run(
        flood(broker, n, size, limits) if case == "flood" else oversized(broker, limits, payload)
    )
    print(json.dumps(result), flush=True)


def run_case(case: str, bounded: bool, url: str, n: int, size: int, payload: Path) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        case,
        "--url",
        url,
        "--messages",
        str(n),
        "--size",
        str(size),
        "--payload",
        str(payload),
    ]
    if bounded:
        command.append("--bounded")
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{case} ({'bounded' if bounded else 'unbounded'}) failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=2_000)
    parser.add_argument("--child", choices=["flood", "oversized"])
    parser.add_argument("--bounded", action="store_true")
    parser.add_argument("--url")
    parser.add_argument("--payload", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.bounded, args.url, args.messages, args.size, args.payload)
        return

    print(machine("Mosquitto as support/services.py starts it"))
    folder = tempfile.TemporaryDirectory()
    payload = Path(folder.name) / "big"
    payload.write_bytes(b"x" * BIG)  # here, not in the child whose memory is measured
    rows: list[Row] = []
    limit = ReceiveLimits().messages
    for bounded in (True, False):
        label = "bounded" if bounded else "unbounded"
        with MosquittoBroker() as broker:  # a fresh broker: no session left from the other case
            doc = run_case("flood", bounded, broker.url, args.messages, args.size, payload)
        print(f"flood {label}: {json.dumps(doc)}")
        complete = doc["received"] == args.messages and doc["in_order"]
        rows += [
            Row(
                f"flood {label}: received in order",
                f"{doc['received']:,}",
                f"{args.messages:,}",
                complete,
            ),
            Row(
                f"flood {label}: most waiting in the link",
                f"{doc['peak_waiting']:,}",
                f"<= {limit + 1:,}" if bounded else "",
                doc["peak_waiting"] <= limit + 1 if bounded else None,
            ),
            Row(f"flood {label}: peak RSS", f"{doc['peak_rss_mb']:.0f} MB"),
            Row(
                f"flood {label}: RSS growth", f"{doc['peak_rss_mb'] - doc['rss_before_mb']:.0f} MB"
            ),
            Row(f"flood {label}: seconds", f"{doc['seconds']:.1f}"),
        ]
    for bounded in (True, False):
        label = "bounded" if bounded else "unbounded"
        with MosquittoBroker() as broker:
            doc = run_case("oversized", bounded, broker.url, args.messages, args.size, payload)
        print(f"oversized {label}: {json.dumps(doc)}")
        withheld = BIG not in doc["received_sizes"]
        rows += [
            Row(
                f"100 MB payload {label}: delivered",
                "no" if withheld else "yes",
                "no" if bounded else "",
                withheld if bounded else None,
            ),
            Row(
                f"100 MB payload {label}: RSS growth",
                f"{doc['peak_rss_mb'] - doc['rss_before_mb']:.0f} MB",
            ),
        ]
    folder.cleanup()
    print_table(rows)


if __name__ == "__main__":
    main()
