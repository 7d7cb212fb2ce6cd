"""``twitchwatch report``: one person's data as an HTML page (and PNG figures) for a doctor."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from twitchwatch.commands.options import day, positive_int

if TYPE_CHECKING:
    from server.report import ReportFiles

#: The database the report reads when neither --db nor this variable says otherwise.
DB_ENV = "TWITCHWATCH_DB"
DEFAULT_DB = "sqlite:///twitchwatch.db"


def register(commands: argparse._SubParsersAction) -> None:
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
        type=positive_int,
        default=None,
        help="days to cover (default: the rules' history_days, 90)",
    )
    report.add_argument(
        "--until",
        type=day,
        default=None,
        metavar="YYYY-MM-DD",
        help="last day to cover (default: the latest data)",
    )
    report.add_argument("--rules", type=Path, help="TOML file overriding rule thresholds")
    report.set_defaults(func=run)


async def run(args: argparse.Namespace) -> None:
    files = await asyncio.to_thread(write, args)
    print(f"wrote {files.html}")
    if files.figures:
        print(f"figures: {len(files.figures)} PNG files in {files.figures[0].parent}/")


def write(args: argparse.Namespace) -> ReportFiles:
    """Read the store, write the page and its figures (matplotlib and the store load only here)."""
    from server.report import DatabaseMissingError, write_report
    from server.rules import load_rule_config
    from server.store import open_store

    url = args.db or os.environ.get(DB_ENV) or DEFAULT_DB
    config = load_rule_config(args.rules)
    if url.startswith("sqlite:"):
        from server.store.sqlite import sqlite_path

        # Opening a missing SQLite file would create an empty database and blame the user name.
        if not sqlite_path(url).is_file():
            raise DatabaseMissingError(sqlite_path(url))
    with open_store(url, read_only=True) as store:
        return write_report(
            store, args.user, args.out, days=args.days, until=args.until, rule_config=config
        )
