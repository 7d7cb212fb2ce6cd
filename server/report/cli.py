"""``twitchwatch report``: the handler that twitchwatch/cli.py calls (its options are there).

Errors leave as :class:`~twitchwatch.contract.TwitchWatchError` subclasses; twitchwatch/cli.py
prints them as one line and exits 2.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from server.report import ReportFiles

#: The database the report reads when neither --db nor this variable says otherwise.
DB_ENV = "TWITCHWATCH_DB"
DEFAULT_DB = "sqlite:///twitchwatch.db"


def run_report(args: argparse.Namespace) -> ReportFiles:
    """Read the store, write the page and its figures; twitchwatch/cli.py says where they went."""
    from server.report import DatabaseMissingError, write_report
    from server.rules import load_rule_config
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
    return files
