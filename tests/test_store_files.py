"""The server's SQLite file: created private, its log truncated, and read by the report without
write access or the write lock."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from server.rules import load_rule_config
from server.store import open_store
from tests.report_history import store_story, story
from twitchwatch import cli


def test_a_new_database_and_its_log_are_private(tmp_path: Path) -> None:
    path = tmp_path / "tw.db"
    with open_store(f"sqlite:///{path}"):
        for name in ("tw.db", "tw.db-wal", "tw.db-shm"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_the_report_reads_while_the_server_holds_the_write_lock(tmp_path: Path, capsys) -> None:
    """The report opens the database read-only: it needs no write access and does not take the
    server's write lock (before, it did, and gave up after 5 s with "database is locked")."""
    path = tmp_path / "tw.db"
    url = f"sqlite:///{path}"
    scenario, config = story(), load_rule_config(None)
    with open_store(url) as store:
        store_story(store, scenario, config)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a server in the middle of a long commit
    before = path.read_bytes()
    try:
        out = tmp_path / "r.html"
        argv = ["report", "--user", scenario.user, "--out", str(out), "--db", url]
        # Before: BEGIN IMMEDIATE waited 5 s for the lock, then "database is locked", exit 1.
        assert cli.main(argv) == 0, capsys.readouterr().err
        assert out.is_file()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert path.read_bytes() == before
