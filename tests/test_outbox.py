"""The durable outbox on real SQLite files: numbering survives reopening and failures, acks delete,
a lost file never reuses a number, and a file of another device is refused."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.errors import OutboxError
from edge.outbox import Outbox
from twitchwatch.contract import PayloadError, SiteWindow, WindowMessage

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
SITES = {
    "left_calf": SiteWindow(4, 0, 50.0, 6.5, 3.5, 118.25, "uV"),
    "right_thumb": SiteWindow(0, 0, 0.0, 0.0, 60.0, None, "uV"),
}


def window(i: int) -> tuple[datetime, datetime, dict[str, SiteWindow]]:
    start = T0 + timedelta(minutes=i)
    return start, start + timedelta(minutes=1), SITES


def test_seq_is_stored_with_the_window_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "outbox.db"  # the folder is made
    with Outbox(path, "alice", "kitchen-pi") as outbox:
        assert (outbox.next_seq, outbox.acked_seq, len(outbox)) == (1, 0, 0)
        first = outbox.add(*window(0))
        assert [outbox.add(*window(i)).seq for i in (1, 2)] == [2, 3]
        assert first == WindowMessage("alice", "kitchen-pi", 1, *window(0))
    with Outbox(path, "alice", "kitchen-pi") as outbox:
        assert [m.seq for m in outbox.pending()] == [1, 2, 3]
        assert outbox.pending()[0] == first  # the payload reads back as it was stored
        assert outbox.add(*window(3)).seq == 4
        assert outbox.last_end_utc == T0 + timedelta(minutes=4)
        assert [m.seq for m in outbox.pending(2, after=1)] == [2, 3]
        assert outbox.message(4) is not None and outbox.message(9) is None
    # Durability settings are the file's and the connection's: WAL, synchronous=FULL.
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    with Outbox(path, "alice", "kitchen-pi") as outbox:
        assert outbox._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_acks_delete_up_to_the_seq_and_numbers_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    with Outbox(path, "alice", "kitchen-pi") as outbox:
        outbox.mark_synced()
        for i in range(5):
            outbox.add(*window(i))
        assert outbox.acked(3) == 3
        assert [m.seq for m in outbox.pending()] == [4, 5]
        assert outbox.acked(2) == 0  # an older ack changes nothing
        assert outbox.acked(5) == 2 and len(outbox) == 0
    with Outbox(path, "alice", "kitchen-pi") as outbox:
        assert outbox.acked_seq == 5
        assert outbox.add(*window(5)).seq == 6  # an empty outbox still knows its next number


def test_a_lost_outbox_renumbers_after_the_servers_ack(tmp_path: Path) -> None:
    """The file was replaced: the server holds seqs 1-40 from the old one and would ignore ours."""
    with Outbox(tmp_path / "new.db", "alice", "kitchen-pi") as outbox:
        for i in range(3):
            outbox.add(*window(i))
        assert not outbox.synced
        # Heard before it ever sent (the publisher waits for this): move everything past 40.
        assert outbox.acked(40) == 0
        assert [m.seq for m in outbox.pending()] == [41, 42, 43]
        assert [(m.start, m.sites) for m in outbox.pending()] == [window(i)[::2] for i in range(3)]
        assert outbox.synced and outbox.next_seq == 44 and outbox.acked_seq == 40
        assert outbox.acked(41) == 1  # from now on acks are ordinary
        # An ack beyond anything this file numbered, later on: the same move.
        assert outbox.fast_forward(100) == 2
        assert [m.seq for m in outbox.pending()] == [101, 102]
        assert outbox.add(*window(3)).seq == 103
        assert outbox.fast_forward(50) == 0  # behind us: nothing to do


def test_a_fresh_outbox_without_a_server_ack_keeps_its_numbers(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db", "alice", "kitchen-pi") as outbox:
        outbox.add(*window(0))
        assert outbox.fast_forward(0) == 0  # the server has nothing from this device
        assert outbox.synced and [m.seq for m in outbox.pending()] == [1]


def test_a_file_of_another_user_or_device_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    Outbox(path, "alice", "kitchen-pi").close()
    for user, device in (("bob", "kitchen-pi"), ("alice", "bedroom-pi")):
        with pytest.raises(OutboxError, match="belongs to user 'alice' device 'kitchen-pi'"):
            Outbox(path, user, device)


def test_unusable_paths_and_files_are_one_line_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(OutboxError, match="cannot open it") as caught:
        Outbox(blocker / "outbox.db", "alice", "kitchen-pi")
    assert "\n" not in str(caught.value)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database, just text " * 200)
    # Not SQLite at all: a wrong path more likely than a damaged outbox, so not moved aside.
    with pytest.raises(OutboxError, match=r"cannot open it: not a SQLite database"):
        Outbox(garbage, "alice", "kitchen-pi")
    assert garbage.read_bytes().startswith(b"this is not a database")


def test_a_failed_add_loses_nothing_stored_and_no_number(tmp_path: Path) -> None:
    """A full disk, made real by capping the database size: the failing window rolls back."""
    path = tmp_path / "outbox.db"
    outbox = Outbox(path, "alice", "kitchen-pi")
    for i in range(3):
        outbox.add(*window(i))
    pages = outbox._db.execute("PRAGMA page_count").fetchone()[0]
    outbox._db.execute(f"PRAGMA max_page_count = {pages}")
    stored = 3
    with pytest.raises(OutboxError, match=r"cannot store a window.*full"):
        for i in range(3, 500):
            outbox.add(*window(i))
            stored += 1
    assert stored >= 3
    assert [m.seq for m in outbox.pending()] == list(range(1, stored + 1))
    outbox.close()
    with Outbox(path, "alice", "kitchen-pi") as reopened:  # space again: numbering carries on
        assert len(reopened) == stored
        assert reopened.add(*window(stored)).seq == stored + 1
        assert reopened.last_end_utc == window(stored)[1]


def test_a_window_the_server_would_refuse_is_not_stored(tmp_path: Path) -> None:
    bad = {"left_calf": SiteWindow(1, 0, 50.0, 20.0, 20.0, 1.0, "uV")}  # 90 s in a 60 s window
    with Outbox(tmp_path / "o.db", "alice", "kitchen-pi") as outbox:
        with pytest.raises(PayloadError, match="exceed the 60 s window"):
            outbox.add(T0, T0 + timedelta(minutes=1), bad)
        assert len(outbox) == 0 and outbox.add(*window(0)).seq == 1
