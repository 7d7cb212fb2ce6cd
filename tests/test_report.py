"""`twitchwatch report`: a stored ten-week story rendered from SQLite and PostgreSQL.

The story (tests/report_history.py) goes in through the real Store API: hourly windows, reports,
and the alerts of the pure replay. The checks read the page as a browser would (sections,
embedded PNGs) and compare its numbers with the database itself.
"""

from __future__ import annotations

import base64
import re
import sqlite3
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from server.report import ReportData, figures_dir, load_report_data, write_report
from server.report.chart_parts import day_centres
from server.report.rate_charts import rate_heatmap, rate_lines
from server.rules import RuleConfig, load_rule_config
from server.store import Store, open_store
from support.histories import Scenario, red_flag_only
from tests.report_history import SCRIPT_NOTE, store_story, story
from twitchwatch import cli
from twitchwatch.contract import AlertStatus, Rule

SECTIONS = ("summary", "rates", "regions", "cramps", "symptoms", "alerts", "worn", "method")
FIGURES = {
    "rates_heatmap.png",
    "rates_by_site.png",
    "regions.png",
    "cramps.png",
    "symptoms.png",
    "worn.png",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
USER = "ada"
#: Days of story() the left calf sensor spent in a drawer (unworn) or barely on (too little rest).
CALF_UNWORN = range(22, 27)
CALF_BARELY_WORN = range(40, 42)


@dataclass(frozen=True)
class Rendered:
    scenario: Scenario
    db_url: str
    html: str
    figures: dict[str, bytes]  # as written beside the page
    data: ReportData


@pytest.fixture(scope="module")
def config() -> RuleConfig:
    return load_rule_config(None)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return story(USER)


def render(store: Store, scenario: Scenario, config: RuleConfig, out: Path) -> Rendered:
    store_story(store, scenario, config)
    files = write_report(store, scenario.user, out, rule_config=config)
    data = load_report_data(store, scenario.user, config)
    return Rendered(
        scenario,
        store.url,
        files.html.read_text(encoding="utf-8"),
        {p.name: p.read_bytes() for p in files.figures},
        data,
    )


@pytest.fixture(scope="module")
def sqlite_report(
    tmp_path_factory: pytest.TempPathFactory, scenario: Scenario, config: RuleConfig
) -> Rendered:
    folder = tmp_path_factory.mktemp("report")
    with open_store(f"sqlite:///{folder / 'tw.db'}") as store:
        return render(store, scenario, config, folder / "report.html")


class _Page(HTMLParser):
    """Section ids, embedded images and script tags of a page, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.scripts = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self.sections.append(values.get("id") or "")
        elif tag == "img":
            self.images.append(values.get("src") or "")
        elif tag == "script":
            self.scripts += 1
        elif tag in ("link", "a") and (values.get("href") or "").startswith("http"):
            self.links.append(values["href"] or "")


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def png_dimensions(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def summary_value(html: str, label: str) -> str:
    match = re.search(rf"<dt>{label}</dt><dd>([^<]*)</dd>", html)
    assert match, f"no {label!r} in the summary"
    return match.group(1)


# --- the page ------------------------------------------------------------------------------------


def test_every_section_is_there_once_in_order(sqlite_report: Rendered) -> None:
    page = parse(sqlite_report.html)
    assert page.sections == list(SECTIONS)
    assert page.scripts == 0 and page.links == []  # opens offline, runs nothing
    assert "TwitchWatch is not a diagnostic device: it reports what sensors measured" in (
        sqlite_report.html
    )


def test_embedded_images_are_the_png_files_beside_the_page(sqlite_report: Rendered) -> None:
    embedded = []
    for src in parse(sqlite_report.html).images:
        assert src.startswith("data:image/png;base64,")
        embedded.append(base64.b64decode(src.removeprefix("data:image/png;base64,")))
    assert set(sqlite_report.figures) == FIGURES
    assert embedded == list(sqlite_report.figures.values())  # same bytes, page order
    for png in embedded:
        width, height = png_dimensions(png)
        assert 900 <= width <= 1200 and 200 <= height <= 1600, (width, height)
        assert b"Software" not in png and b"matplotlib" not in png  # deterministic bytes


def test_the_note_with_markup_is_shown_as_text(sqlite_report: Rendered) -> None:
    html = sqlite_report.html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a second coffee" in html
    assert SCRIPT_NOTE in [r.note for r in sqlite_report.data.reports]


def test_summary_numbers_are_the_databases(sqlite_report: Rendered, tmp_path: Path) -> None:
    path = sqlite_report.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        twitches, cramps, rest_s = db.execute(
            "SELECT SUM(twitches), SUM(cramps), SUM(rest_s) FROM daily_site WHERE user_id = ?",
            (USER,),
        ).fetchone()
        (days_worn,) = db.execute(
            "SELECT COUNT(DISTINCT day) FROM daily_site "
            "WHERE user_id = ? AND rest_s + active_s > 0",
            (USER,),
        ).fetchone()
        first, last = db.execute(
            "SELECT MIN(day), MAX(day) FROM daily_site WHERE user_id = ?", (USER,)
        ).fetchone()
    html = sqlite_report.html
    assert twitches > 10_000 and cramps == 9
    assert summary_value(html, "Twitches counted").startswith(f"{twitches:,} ")
    assert summary_value(html, "Cramps counted") == f"{cramps:,}"
    assert summary_value(html, "Observed rest") == f"{rest_s / 3600:.1f} h in total"
    n_days = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    assert summary_value(html, "Days worn") == f"{days_worn} of {n_days} days"
    assert summary_value(html, "Period").startswith(f"{first} to {last}")


def test_current_alerts_carry_their_level_and_advice(sqlite_report: Rendered) -> None:
    summary = sqlite_report.html.split('<section id="rates">')[0]
    states = {(a.rule, a.scope): a for a in sqlite_report.data.alerts}
    # The story ends with twitching in two regions and weakness reported in the hand's region.
    assert states[(Rule.SPREAD, "all")].state is AlertStatus.FIRING
    assert states[(Rule.WEAKNESS, "cervical")].state is AlertStatus.FIRING
    assert '<span class="sev sev-warning">warning</span> <strong>spread</strong>' in summary
    assert "Please consult a doctor." in summary
    assert "Consider mentioning it to a doctor at your next visit." in summary  # persistence
    events = sqlite_report.data.events
    assert [e.transition.value for e in events if e.alert.rule is Rule.SPREAD][:2] == [
        "pending",
        "firing",
    ]


# --- no data is not zero -------------------------------------------------------------------------


def test_unworn_and_barely_worn_days_are_no_data_not_zero(sqlite_report: Rendered) -> None:
    data = sqlite_report.data
    calf = data.sites.index("left_calf")
    start = data.days.index(sqlite_report.scenario.start)
    no_data = [start + i for i in (*CALF_UNWORN, *CALF_BARELY_WORN)]
    rate = data.rate_per_min
    assert np.isnan(rate[calf, no_data]).all()
    assert not data.worn[calf, [start + i for i in CALF_UNWORN]].any()
    assert data.worn[calf, [start + i for i in CALF_BARELY_WORN]].all()  # worn, too little rest
    # The tongue never twitched: its observed days are real zeros, not gaps.
    tongue = data.sites.index("tongue")
    assert (rate[tongue] < data.config.observation.active_rate_per_min).all()

    heatmap = rate_heatmap(data).axes[0].images[0]
    cells = heatmap.get_array()
    assert cells.mask[calf, no_data].all()  # left transparent over the hatching...
    assert heatmap.get_cmap().get_bad()[3] == 0.0
    assert not cells.mask[tongue].any()  # ...while a quiet observed day has a colour
    assert cells[tongue].max() < 0.1

    calf_panel = rate_lines(data).axes[calf]
    (points,) = [c for c in calf_panel.collections if isinstance(c, PathCollection)]
    x_plotted = points.get_offsets()[:, 0]
    missing = day_centres([data.days[i] for i in no_data])
    assert not np.isin(missing, x_plotted).any()
    assert len(x_plotted) == int(np.isfinite(rate[calf]).sum())


def test_reports_without_sensor_data_still_make_a_page(tmp_path: Path, config: RuleConfig) -> None:
    scenario = red_flag_only()  # one swallowing report, no sensor ever worn
    with open_store(f"sqlite:///{tmp_path / 'tw.db'}") as store:
        store_story(store, scenario, config)
        files = write_report(store, scenario.user, tmp_path / "r.html", rule_config=config)
    html = files.html.read_text(encoding="utf-8")
    assert parse(html).sections == list(SECTIONS)
    assert [p.name for p in files.figures] == ["symptoms.png"]
    assert summary_value(html, "Days worn") == "0 of 1 day"
    alerts = html.split('<section id="alerts">')[1]
    assert '<span class="sev sev-urgent">urgent</span>' in alerts
    assert "Seek medical attention promptly." in alerts


# --- earlier periods -----------------------------------------------------------------------------


def test_until_shows_the_alerts_as_they_were_then(
    tmp_path: Path, scenario: Scenario, config: RuleConfig
) -> None:
    day = scenario.day(35)  # before the right hand's twitching became established
    with open_store(f"sqlite:///{tmp_path / 'tw.db'}") as store:
        store_story(store, scenario, config)
        data = load_report_data(store, USER, config, days=14, until=day)
    assert data.days == tuple(day - timedelta(days=13 - i) for i in range(14))
    rules = {(a.rule, a.scope): a.state for a in data.alerts}
    assert rules[(Rule.PERSISTENCE, "left_calf")] is AlertStatus.FIRING
    assert (Rule.SPREAD, "all") not in rules and (Rule.WEAKNESS, "cervical") not in rules
    assert all(day - timedelta(days=13) <= e.t.date() <= day for e in data.events)
    assert all(r.t.date() <= day for r in data.reports)


# --- the command line ----------------------------------------------------------------------------


def twitchwatch(argv: list[str]) -> int:
    """``twitchwatch ARGV`` in-process, through the real command line."""
    return cli.main(argv)


@pytest.fixture
def cli_db(
    tmp_path: Path, scenario: Scenario, config: RuleConfig, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    with open_store(url) as store:
        store_story(store, scenario, config)
    monkeypatch.setenv("TWITCHWATCH_DB", url)  # --db's default
    yield url


def one_line_error(
    capsys: pytest.CaptureFixture[str], run: Callable[[], int], code: int = 2
) -> str:
    assert run() == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("twitchwatch: "), err
    return err


def test_cli_writes_the_page_and_says_where(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "visit.html"
    assert twitchwatch(["report", "--user", USER, "--out", str(out), "--days", "30"]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and str(figures_dir(out)) in printed
    assert {p.name for p in figures_dir(out).iterdir()} == FIGURES
    assert summary_value(out.read_text(encoding="utf-8"), "Days worn") == "30 of 30 days"


def test_cli_unknown_user_is_one_line(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bob.html"
    err = one_line_error(
        capsys, lambda: twitchwatch(["report", "--user", "bob", "--out", str(out)])
    )
    assert err == (
        f"twitchwatch: no data for user 'bob' in {cli_db}: has the server received any windows?\n"
    )
    assert not out.exists()


def test_cli_missing_database_and_unwritable_out_are_one_line(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.db"
    out = str(tmp_path / "r.html")
    argv = ["report", "--user", USER, "--out", out, "--db", f"sqlite:///{missing}"]
    assert str(missing) in one_line_error(capsys, lambda: twitchwatch(argv))
    assert not missing.exists()  # not created empty
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    argv = ["report", "--user", USER, "--out", str(blocker / "r.html")]
    assert "cannot write" in one_line_error(capsys, lambda: twitchwatch(argv))
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    argv = ["report", "--user", USER, "--out", out, "--db", f"sqlite:///{garbage}"]
    assert str(garbage) in one_line_error(capsys, lambda: twitchwatch(argv), code=1)


# --- PostgreSQL ----------------------------------------------------------------------------------


def test_postgres_renders_the_same_report(
    postgres_url: str,
    tmp_path: Path,
    scenario: Scenario,
    config: RuleConfig,
    sqlite_report: Rendered,
) -> None:
    with open_store(postgres_url) as store:
        rendered = render(store, scenario, config, tmp_path / "report.html")
    assert rendered.figures == sqlite_report.figures  # byte for byte
    assert rendered.html.replace(rendered.db_url, "DB") == sqlite_report.html.replace(
        sqlite_report.db_url, "DB"
    )
