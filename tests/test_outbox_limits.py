"""The outbox at its limits, on real SQLite files: private files, a write-ahead log that stays
small, a cap on what waits, and a damaged file moved aside with what it still held."""

from __future__ import annotations

import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.outbox import Outbox
from edge.outbox.files import WAL_LIMIT_BYTES
from twitchwatch.contract import SiteWindow

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
#: Sixteen limb sites: payloads of a few KB, so pages fill quickly.
SITES = {
    f"{side}_{place}": SiteWindow(4, 0, 50.0, 6.5, 3.5, 118.25, "uV")
    for side in ("left", "right")
    for place in ("calf", "thumb", "hand", "forearm", "upper_arm", "thigh", "shin", "foot")
}


def window(i: int) -> tuple[datetime, datetime, dict[str, SiteWindow]]:
    start = T0 + timedelta(minutes=i)
    return start, start + timedelta(minutes=1), SITES


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_outbox_and_its_log_are_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "outbox.db"
    with Outbox(path, "alice", "pi") as outbox:
        outbox.add(*window(0))
        assert mode(path) == 0o600 and mode(path.parent) == 0o700
        assert mode(path.with_name("outbox.db-wal")) == 0o600
        assert mode(path.with_name("outbox.db-shm")) == 0o600
    older = tmp_path / "older.db"  # made 0644 by an earlier version
    Outbox(older, "alice", "pi").close()
    older.chmod(0o644)
    Outbox(older, "alice", "pi").close()
    assert mode(older) == 0o600


def test_the_write_ahead_log_stays_small_after_a_big_transaction(tmp_path: Path) -> None:
    """A lost outbox renumbers everything waiting in one transaction (fast_forward): its log
    once reached the size of the whole outbox and stayed there until the file was closed."""
    path = tmp_path / "outbox.db"
    with Outbox(path, "alice", "pi") as outbox:
        for i in range(800):
            outbox.add(*window(i))
        assert path.stat().st_size > WAL_LIMIT_BYTES  # the rewrite is bigger than the limit
        outbox.fast_forward(100_000)
        outbox.add(*window(800))
        assert path.with_name("outbox.db-wal").stat().st_size <= WAL_LIMIT_BYTES
        assert len(outbox) == 801 and outbox.pending(1)[0].seq == 100_001


def test_a_full_outbox_drops_its_oldest_window_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING),
        Outbox(tmp_path / "outbox.db", "alice", "pi", max_windows=10) as outbox,
    ):
        for i in range(13):
            outbox.add(*window(i))
        assert [m.seq for m in outbox.pending()] == list(range(4, 14))
        assert outbox.dropped == 3 and outbox.next_seq == 14
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(warnings) == 1 and "holds 9 of at most 10 windows" in warnings[0].getMessage()
    assert len(errors) == 3
    assert (
        "is full (10 windows waiting for the server's ack): dropped the oldest, seq 1" in errors[0]
    )
    with Outbox(tmp_path / "outbox.db", "alice", "pi", max_windows=10) as reopened:
        assert reopened.dropped == 3  # kept with the file


def test_a_zero_filled_outbox_is_moved_aside_and_numbering_asks_the_server(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.db"
    path.write_bytes(bytes(8192))  # what a power cut can leave on some file systems
    with caplog.at_level(logging.ERROR), Outbox(path, "alice", "pi") as outbox:
        assert outbox.recovered is not None and outbox.recovered.windows == []
        assert not outbox.synced  # the server's retained ack says where numbering stands
        assert outbox.add(*window(0)).seq == 1
    aside = list(tmp_path.glob("outbox.db.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == bytes(8192)  # kept, not deleted
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert line.startswith(f"outbox {path} was damaged (file is not a database): moved to ")
    assert line.endswith("0 windows recovered, sent as before")


def test_a_damaged_page_loses_only_the_windows_on_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.db"
    with Outbox(path, "alice", "pi") as outbox:
        for i in range(300):
            outbox.add(*window(i))
        outbox.mark_synced()  # the server's ack moved on from 0
        outbox.acked(20)
        page_size = outbox._db.execute("PRAGMA page_size").fetchone()[0]
        pages = outbox._db.execute("PRAGMA page_count").fetchone()[0]
    with path.open("r+b") as f:  # closed: every window is in the main file now
        f.seek(page_size * (pages // 2))
        f.write(b"\xa5" * page_size)  # one leaf page in the middle of the windows
    with caplog.at_level(logging.ERROR), Outbox(path, "alice", "pi") as outbox:
        salvage = outbox.recovered
        assert salvage is not None and salvage.unreadable > 0
        kept = [m.seq for m in outbox.pending()]
        assert 200 < len(kept) < 280 and len(kept) + salvage.unreadable == 280
        assert kept[0] == 21 and kept[-1] == 300  # both ends read back, under their numbers
        assert (outbox.acked_seq, outbox.next_seq, outbox.synced) == (20, 301, True)
        assert outbox.add(*window(300)).seq == 301
    assert f"windows recovered, {salvage.unreadable} unreadable" in caplog.text


def test_the_views_say_how_many_windows_a_full_outbox_dropped() -> None:
    from edge.publisher import BrokerState
    from edge.views import UplinkFigures
    from edge.views.text import uplink_text

    figures = UplinkFigures("mqtt://broker:1883", BrokerState.CONNECTED, pending=10, dropped=3)
    assert uplink_text(figures).endswith(
        "10 waiting in the outbox, 3 dropped unsent (the outbox was full))"
    )
