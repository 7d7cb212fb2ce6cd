"""The ack settling bookkeeping of servers sharing the load (server/ack_settle.py)."""

from server.ack_settle import AckSettling

ALICE, BOB = ("alice", "calf-01"), ("bob", "hand-02")


def test_a_device_settles_once_after_its_latest_publish() -> None:
    settling = AckSettling(settle_s=5.0)
    assert settling.next_in(0.0) is None and settling.due(100.0) == []
    settling.published([ALICE, BOB], now=0.0)
    settling.published([ALICE], now=3.0)  # a later ack pushes the settling back
    assert settling.next_in(1.0) == 4.0
    assert settling.due(5.0) == [BOB]
    assert settling.due(7.9) == []
    assert settling.due(8.0) == [ALICE]
    assert len(settling) == 0 and settling.due(1000.0) == []  # once: no endless republishing
