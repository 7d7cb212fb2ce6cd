"""The web view at work: a report sent from the page reaches the server and its alert shows at
once, an alert marked as seen, today's windows, the weeks, the doctor's report and the exports.
Against a real server, store and Mosquitto (one per test: each changes a person's data)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import re
import sqlite3
from pathlib import Path

from server.store import open_store
from server.web.charts import weeks_chart
from server.web.person_data import SiteWeeks
from support.services import MosquittoBroker
from support.web_client import csrf_in, get, logged_in, post
from support.web_env import web_env
from twitchwatch.contract import Profile, ReportKind, profile_topic
from twitchwatch.mqtt_link import BrokerUrl, MqttLink


async def test_a_report_from_the_page_raises_its_warning_at_once(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    async with web_env(mosquitto_broker.url, tmp_path) as env, logged_in(env.url, "alice") as alice:
        status, home, _ = await get(alice, env.url)
        assert status == 200 and "Reported weakness or wasting" not in home
        # The site picker offers her sensors first, and sites without one (the right hand).
        assert '<optgroup label="Where you wear sensors">' in home
        assert '<option value="right_hand">right hand</option>' in home
        form = {"csrf": csrf_in(home), "kind": "weakness", "site": "right_hand", "note": "jar"}
        status, _, answer = await post(alice, env.url + "reports", form)
        assert (status, answer.headers["Location"]) == (303, "/")
        status, home, _ = await get(alice, env.url)
        assert "Sent: weakness at the right hand" in home
        assert "has not stored it yet" not in home  # stored and evaluated before the redirect
        assert "Reported weakness or wasting" in home and "Please consult a doctor." in home
        # What the report raised is said at once, as a warning, above the alert itself.
        assert (
            '<p class="flash flash-warning" role="status">Reported weakness or wasting: '
            "Please consult a doctor. The alert is below.</p>"
        ) in home
        status, reports, _ = await get(alice, env.url + "reports")
        assert "Weakness</strong> at the right hand" in reports and "<q>jar</q>" in reports
        assert env.server.stats.stored >= 1
        # After seeing a doctor, the person closes the symptom's alert (the ack's "resolved").
        _, page, _ = await get(alice, env.url + "alerts/weakness/cervical")
        assert 'value="resolved">Resolved after seeing a doctor</button>' in page
        form = {"csrf": csrf_in(page), "action": "resolved"}
        status, _, _ = await post(alice, env.url + "alerts/weakness/cervical/ack", form)
        _, page, _ = await get(alice, env.url + "alerts/weakness/cervical")
        assert "marked as resolved after seeing a doctor" in page
        assert "Resolved since" in page and 'value="resolved"' not in page


async def test_urgent_advice_is_shown_the_moment_it_is_reported(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    async with web_env(mosquitto_broker.url, tmp_path) as env, logged_in(env.url, "alice") as alice:
        _, home, _ = await get(alice, env.url)
        form = {"csrf": csrf_in(home), "kind": ReportKind.BREATHING.value}
        await post(alice, env.url + "reports", form)
        _, home, _ = await get(alice, env.url)
        assert '<p class="flash flash-urgent" role="status">Difficulty breathing reported' in home
        assert "call your local emergency number" in home
        assert "Seek medical attention promptly." in home
        # A form the server would refuse is not sent, and says why.
        await post(
            alice, env.url + "reports", {"csrf": csrf_in(home), "kind": "sleep", "value": "many"}
        )
        _, home, _ = await get(alice, env.url)
        assert "Not sent: how much: &#39;many&#39; is not a number" in home
        await post(
            alice, env.url + "reports", {"csrf": csrf_in(home), "kind": "sleep", "site": "elbow"}
        )
        _, home, _ = await get(alice, env.url)
        assert "Not sent: where: &#39;elbow&#39; is not a body site" in home
        await post(
            alice,
            env.url + "reports",
            {"csrf": csrf_in(home), "kind": "sleep", "when": "2099-01-01T07:00"},
        )
        _, home, _ = await get(alice, env.url)
        assert "Not sent: when:" in home and "is in the future" in home


async def test_marking_an_alert_as_seen(mosquitto_broker: MosquittoBroker, tmp_path: Path) -> None:
    async with web_env(mosquitto_broker.url, tmp_path) as env, logged_in(env.url, "alice") as alice:
        _, page, _ = await get(alice, env.url + "alerts/spread/all")
        assert "Twitching spreading to other muscle groups" in page and "marked as seen" not in page
        form = {"csrf": csrf_in(page), "action": "seen"}
        status, _, answer = await post(alice, env.url + "alerts/spread/all/ack?back=/", form)
        assert (status, answer.headers["Location"]) == (303, "/")
        _, page, _ = await get(alice, env.url + "alerts/spread/all")
        assert "marked as seen: no reminders unless it changes" in page
        assert "· marked as seen" in page  # and its history says so, quietly:
        assert "acknowledged <small>(recorded, not notified)</small>" in page
        # Spread follows the measurements: it cannot be closed by hand, and no button offers it.
        assert 'value="resolved"' not in page
        status, body, _ = await post(
            alice, env.url + "alerts/spread/all/ack", {"csrf": csrf_in(page), "action": "resolved"}
        )
        assert status == 400 and "follows the measurements" in body
        # The refreshed alerts fragment sends its forms back to the home page, not to itself.
        _, fragment, _ = await get(alice, env.url + "fragment/alerts")
        assert "/ack?back=/" in fragment and "back=/fragment" not in fragment
        # A back link to another site is not followed.
        _, page, _ = await get(alice, env.url + "alerts")
        form = {"csrf": csrf_in(page), "action": "seen"}
        _, _, answer = await post(
            alice, env.url + "alerts/persistence/left_calf/ack?back=//evil.example/", form
        )
        assert answer.headers["Location"] == "/alerts"


async def test_today_weeks_and_what_a_doctor_gets(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    async with web_env(mosquitto_broker.url, tmp_path) as env, logged_in(env.url, "alice") as alice:
        _, today, _ = await get(alice, env.url + "fragment/today")
        assert "<h3>left calf</h3>" in today and "<h3>right forearm</h3>" in today
        assert "per min" in today and "<svg" in today
        _, weeks, _ = await get(alice, env.url + "weeks")
        assert "<h2>left calf</h2>" in weeks and "<h2>right forearm</h2>" in weeks
        # The calf sensor's five days in a drawer and two barely worn: no data, not zero.
        assert "5 days without data" not in weeks and "7 days without data" in weeks
        assert weeks.count('class="bar nodata"') >= 7 and "Cramps: 4" in weeks
        _, report, answer = await get(alice, env.url + "doctor/report")
        assert answer.content_type == "text/html" and "TwitchWatch report: alice" in report
        assert report.count("data:image/png;base64,") >= 4
        _, report, answer = await get(
            alice, env.url + "doctor/report?since=2000-01-01&until=2000-01-31&download=1"
        )
        assert answer.status == 404 and "Nothing was recorded" in report
        _, _, answer = await get(alice, env.url + "doctor/report?download=1")
        assert answer.headers["Content-Disposition"].startswith(
            'attachment; filename="twitchwatch-report-alice-'
        )
        _, _, answer = await get(alice, env.url + "export/daily.csv?since=2026-13-01")
        assert answer.status == 400

        _, daily, answer = await get(alice, env.url + "export/daily.csv")
        assert answer.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(daily)))
        calf = [r for r in rows if r["site"] == "left_calf"]
        assert {"day", "twitches", "rest_s", "observed", "rate_per_min"} <= set(rows[0])
        unobserved = [r for r in calf if r["observed"] == "False"]
        assert unobserved and all(r["rate_per_min"] == "" for r in unobserved)  # no data: empty
        assert all(float(r["rate_per_min"]) >= 0 for r in calf if r["observed"] == "True")
        _, reports, _ = await get(alice, env.url + "export/reports.csv")
        kinds = {r["kind"] for r in csv.DictReader(io.StringIO(reports))}
        assert {"caffeine", "exercise", "sleep"} <= kinds
        _, doc, _ = await get(alice, env.url + "export/data.json")
        data = json.loads(doc)
        assert data["user"] == "alice" and len(data["daily"]) == len(rows)
        assert len(data["reports"]) == len(list(csv.DictReader(io.StringIO(reports))))


def test_charts_tell_no_data_from_zero() -> None:
    from datetime import date, timedelta

    days = tuple(date(2026, 11, 28) + timedelta(days=i) for i in range(5))
    site = SiteWeeks(
        "left_calf", "left calf", (None, 0.0, 0.5, 2.0, None), (False,) * 5, (0,) * 5, 3, 2, 0.5
    )
    chart = weeks_chart(site, days, threshold=0.2)
    kinds = [bar.kind for bar in chart.bars]
    assert kinds == ["nodata", "zero", "rate", "rate", "nodata"]
    nodata, zero, low, high = chart.bars[0], chart.bars[1], chart.bars[2], chart.bars[3]
    assert nodata.h == chart.plot_h and "no data" in nodata.title
    assert 0 < zero.h < 2 and zero.y + zero.h == chart.plot_h and "no twitches" in zero.title
    assert high.h == chart.plot_h and low.h == chart.plot_h / 4
    assert [t.label for t in chart.ticks] == ["Dec"] and chart.ticks[0].x == 3 * 4.0
    assert chart.threshold_y == chart.plot_h * (1 - 0.2 / 2.0)


async def test_the_profile_sets_the_zone_and_the_name(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    async with web_env(mosquitto_broker.url, tmp_path) as env, logged_in(env.url, "alice") as alice:
        _, page, _ = await get(alice, env.url + "profile")
        assert '<option value="UTC" selected>' in page and 'value="Europe/Berlin"' in page
        assert '<a class="who" href="/profile"' in page and ">alice</a>" in page
        form = {"csrf": csrf_in(page), "tz": "Europe/Berlin", "name": "Alice <A.>"}
        status, _, answer = await post(alice, env.url + "profile", form)
        assert (status, answer.headers["Location"]) == (303, "/profile")
        _, page, _ = await get(alice, env.url + "profile")
        assert "Saved: dates and days now follow Europe/Berlin." in page
        assert '<option value="Europe/Berlin" selected>' in page
        assert ">Alice &lt;A.&gt;</a>" in page  # greeted by name, escaped
        # The server took it: its days and dates follow the zone (the report page says so).
        with open_store(f"sqlite:///{env.db}") as store:
            assert store.profile_tz("alice") == "Europe/Berlin"
            assert store.profile_tz("bob") == "UTC"  # bob's is his own
        # The retained profile on the broker carries both.
        async with MqttLink(
            BrokerUrl.parse(mosquitto_broker.url),
            client_id="reader",
            subscriptions=[(profile_topic("alice"), 1)],
        ) as reader:
            async with asyncio.timeout(5):
                retained = await anext(reader.messages())
        assert Profile.from_payload(retained.payload) == Profile("Europe/Berlin", "Alice <A.>")
        # A zone that is not one is refused with its reason, and nothing changes.
        _, page, _ = await get(alice, env.url + "profile")
        await post(alice, env.url + "profile", {"csrf": csrf_in(page), "tz": "PST"})
        _, page, _ = await get(alice, env.url + "profile")
        assert "Not saved: time zone:" in page and '<option value="Europe/Berlin" selected>' in page


async def test_a_form_sent_again_replaces_its_report_rather_than_doubling_it(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    """The answer to a report was lost and the person presses again (or the browser resends):
    the form's id makes the second send replace the first, though "now" has moved on."""
    async with web_env(mosquitto_broker.url, tmp_path) as env, logged_in(env.url, "alice") as alice:
        _, home, _ = await get(alice, env.url)
        [report_id] = re.findall(r'name="report_id" value="([0-9a-f]{32})"', home)
        form = {"csrf": csrf_in(home), "report_id": report_id, "kind": "caffeine", "note": "tea"}
        for note in ("tea", "tea, strong"):
            status, _, _ = await post(alice, env.url + "reports", form | {"note": note})
            assert status == 303
            await asyncio.sleep(1.1)  # another second: without the id, another report
        _, again, _ = await get(alice, env.url)
        assert re.findall(r'name="report_id" value="([0-9a-f]{32})"', again) != [report_id]
    with contextlib.closing(sqlite3.connect(env.db)) as conn:
        rows = conn.execute(  # the seeded history has reports of its own, none with a note "tea"
            "SELECT kind, note, report_id FROM reports WHERE note LIKE 'tea%'"
        ).fetchall()
    assert rows == [("caffeine", "tea, strong", report_id)]
