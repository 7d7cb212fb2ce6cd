"""``twitchwatch report``: one person's stored data as a page to take to a doctor.

    with open_store("sqlite:///twitchwatch.db") as store:
        files = write_report(store, "alice", Path("report.html"))
    files.html, files.figures        # report.html, report_figures/*.png

The page is one self-contained HTML file (figures embedded, no script, no network) that prints
on A4; the same figures are written as PNG files beside it. It states what was measured and the
advice levels of the alerts, never a diagnosis.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from server.errors import DatabaseMissingError, NoDataError, ReportError, ReportWriteError
from server.report.data import ReportData, load_report_data
from server.report.html import render_html
from server.rules import RuleConfig, load_rule_config
from server.store import Store

__all__ = [
    "DatabaseMissingError",
    "NoDataError",
    "ReportData",
    "ReportError",
    "ReportFiles",
    "ReportWriteError",
    "figures_dir",
    "load_report_data",
    "write_report",
]


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where a report went."""

    html: Path
    figures: tuple[Path, ...]  # in page order, in figures_dir(html)


def figures_dir(html: Path) -> Path:
    """``report.html`` -> ``report_figures``, beside it."""
    return html.with_name(f"{html.stem}_figures")


def write_report(
    store: Store,
    user: str,
    out_path: Path,
    *,
    days: int | None = None,
    until: date | None = None,
    rule_config: RuleConfig | None = None,
) -> ReportFiles:
    """Write ``user``'s report to ``out_path`` and its figures to :func:`figures_dir`.

    ``days`` days up to ``until`` (default: ``[history_days]`` days up to the latest stored
    data), judged with ``rule_config`` (default: the rule defaults, as the server's).

    Raises
    ------
    NoDataError
        Nothing stored for ``user`` (in the period).
    ReportWriteError
        ``out_path`` or the figures folder cannot be written.
    StoreError
        The database cannot be read.
    """
    config = rule_config or load_rule_config(None)
    data = load_report_data(store, user, config, days=days, until=until)
    folder = figures_dir(out_path)
    with _writing(out_path):  # before the figures are drawn: a bad --out fails at once
        folder.mkdir(parents=True, exist_ok=True)
    from server.report.figures import render_figures  # matplotlib: only to draw a report

    figures = render_figures(data)
    page = render_html(data, figures)
    written = []
    with _writing(out_path):
        for name, png in figures.items():
            path = folder / name
            path.write_bytes(png)
            written.append(path)
        out_path.write_text(page, encoding="utf-8")
    return ReportFiles(out_path, tuple(written))


@contextmanager
def _writing(out_path: Path) -> Iterator[None]:
    """OSError -> ReportWriteError naming the file that could not be written."""
    try:
        yield
    except OSError as exc:
        where = Path(exc.filename) if exc.filename else out_path
        raise ReportWriteError(where, exc.strerror or str(exc)) from exc
