"""`twitchwatch demo`: the shortened story through the whole chain, headless, and Ctrl-C.

The quick story is the demo's six weeks with 5-minute daily recordings (and the one rule override
that needs); everything else is the real chain: simulator physiology, detector, windows, outbox,
publisher, broker, server, rules, alerts, a subscriber, and today over the Bumble link.
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twitchwatch.contract import Rule, Severity, Transition
from twitchwatch.demo.run import DemoOptions, run_demo
from twitchwatch.demo.story import short_calf_then_hand
from twitchwatch.demo.summary import summary_lines

pytestmark = pytest.mark.slow


async def test_quick_story_raises_the_story_s_alerts_in_order(tmp_path: Path) -> None:
    story = short_calf_then_hand()
    out = io.StringIO()
    report = tmp_path / "report.html"
    result = await run_demo(DemoOptions(story, live_s=8.0, plain=True, out=out, report=report))

    raised = [(e.alert.rule, e.alert.scope) for e in result.raised]
    assert result.missing(story.expected) == [], raised
    # Exactly the story's alerts, each raised once, in its order: the benign calf's advisory
    # (with its post-exercise context), then the spread warning, then weakness in the hand.
    assert raised == [(want.rule, want.scope) for want in story.expected]
    first = result.raised[0].alert
    assert first.severity is Severity.ADVISORY
    assert any("exercise" in factor for factor in first.context)
    assert [e.alert.severity for e in result.raised[1:]] == [Severity.WARNING, Severity.WARNING]
    assert all(e.alert.severity is not Severity.URGENT for e in result.screen.events)
    # Alerts arrive on the days they concern, while the past is replayed: spread fires two
    # weeks after the hand started (day 25), weakness on the day it was reported (day 40).
    day_of = {e.alert.rule: (e.t.date() - story.day_date(0)).days for e in result.raised}
    assert 21 <= day_of[Rule.PERSISTENCE] <= 24
    assert 38 <= day_of[Rule.SPREAD] <= 40
    assert day_of[Rule.WEAKNESS] == 40
    pending = [e for e in result.screen.events if e.transition is Transition.PENDING]
    assert {e.alert.rule for e in pending} <= {Rule.PERSISTENCE, Rule.SPREAD}

    # The detector counted what the simulator made, within a few percent, on every worn day.
    simulated = sum(sum(d.simulated_twitches.values()) for d in result.days)
    detected = sum(sum(d.detected_twitches.values()) for d in result.days)
    assert simulated > 1000
    assert abs(detected - simulated) / simulated < 0.03
    assert sum(1 for d in result.days if d.windows) == 39  # three days unworn: no data sent

    # Today streamed live over Bluetooth from every sensor, Polar included.
    assert result.live_windows >= 1
    today = story.today_date
    for site in story.sites:
        assert result.screen.site_day(site, today).rest_s > 0, site
    assert result.screen.problems == []

    text = out.getvalue()
    assert text.count("\nday ") + text.startswith("day ") == len(story.days)
    assert "ALERT" in text and "weakness/cervical" in text
    assert result.report is not None and result.report.html == report
    assert 'id="alerts"' in report.read_text()
    summary = "\n".join(summary_lines(story, result))
    assert "These are the alerts the story implies" in summary


def test_ctrl_c_stops_the_demo_cleanly(tmp_path: Path) -> None:
    """SIGINT mid-replay: exit code 130 within seconds, no traceback, no process left behind."""
    demo = subprocess.Popen(
        [sys.executable, "-m", "twitchwatch", "demo", "--quick", "--plain", "--no-report"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the replay is under way
            line = demo.stdout.readline()
            if line.startswith("day  3/"):
                break
        else:
            pytest.fail("the demo never reached day 3")
        children = _children(demo.pid)
        assert children, "the demo should run a broker or workers"
        demo.send_signal(signal.SIGINT)
        stopped = time.monotonic()
        _, err = demo.communicate(timeout=20)
        took = time.monotonic() - stopped
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 130, err
    assert "Traceback" not in err, err
    assert took < 10
    deadline = time.monotonic() + 5  # children reparented to init exit and are reaped
    while (left := _alive(children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == {}


def _alive(pids: list[int]) -> dict[int, str]:
    alive = {}
    for pid in pids:
        try:
            alive[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    return alive


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(p) for p in out.stdout.split()]
