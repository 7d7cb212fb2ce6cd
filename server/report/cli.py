"""``twitchwatch report``: the argparse wiring and the handler that twitchwatch/cli.py calls.

Errors leave as :class:`~twitchwatch.contract.TwitchWatchError` subclasses; twitchwatch/cli.py
prints them as one line and exits 2.
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

#: The database the report reads when neither --db nor this variable says otherwise.
DB_ENV = "TWITCHWATCH_DB"
DEFAULT_DB = "sqlite:///twitchwatch.db"


def add_report_command(commands: argparse._SubParsersAction) -> None:
    """Add ``report`` to the ``twitchwatch`` sub-commands."""
    report = commands.add_parser(
        "report",
        help="write one person's data as an HTML page (and PNG figures) to take to a doctor",
    )
    report.add_argument("--user", required=True, help="whose data (the <user> topic level)")
    report.add_argument(
        "--out", type=Path, required=True, help="HTML file to write; figures go in <name>_figures/"
    )
    report.add_argument(
        "--db",
        help=f"the server's database (default: ${DB_ENV}, else {DEFAULT_DB})",
    )
    report.add_argument(
        "--days",
        type=_positive_int,
        default=None,
        help="days to cover (default: the rules' history_days, 90)",
    )
    report.add_argument(
        "--until",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="last day to cover (default: the latest data)",
    )
    report.add_argument("--rules", type=Path, help="TOML file overriding rule thresholds")
    report.set_defaults(func=run_report)


async def run_report(args: argparse.Namespace) -> None:
    """Read the store, write the page and its figures, say where they went."""
    from server.report import DatabaseMissingError, write_report
    from server.rules_config import load_rule_config
    from server.store import open_store

    url = args.db or os.environ.get(DB_ENV) or DEFAULT_DB
    config = load_rule_config(args.rules)
    if urlsplit(url).scheme == "sqlite":
        from server.store.sqlite import sqlite_path

        # Opening a missing SQLite file would create an empty database and blame the user name.
        if not sqlite_path(url).is_file():
            raise DatabaseMissingError(sqlite_path(url))
    with open_store(url) as store:
        files = write_report(
            store, args.user, args.out, days=args.days, until=args.until, rule_config=config
        )
    folder = files.figures[0].parent if files.figures else None
    print(f"wrote {files.html}")  # noqa: T201  (a CLI handler: twitchwatch/cli.py's job)
    if folder is not None:
        print(f"figures: {len(files.figures)} PNG files in {folder}/")  # noqa: T201


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None
