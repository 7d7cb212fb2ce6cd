"""The order of the server's time-sliced evaluations: reporters first, then longest waiting."""

from __future__ import annotations

from server.evaluation_queue import EvaluationQueue


def test_reporters_go_first_and_the_rest_keep_their_place() -> None:
    queue = EvaluationQueue()
    queue.add(["cleo", "abel", "bea"])
    queue.add(["abel", "dan"], reported=["dan"])  # abel keeps his place; dan reported
    assert queue.in_order() == ["dan", "cleo", "abel", "bea"]
    queue.add(["bea"], reported=["bea"])  # waiting, then reports: moves ahead
    assert queue.in_order() == ["dan", "bea", "cleo", "abel"]
    queue.add(["bea"])  # more windows do not move her back
    assert queue.in_order()[:2] == ["dan", "bea"]
    queue.done("dan")
    queue.done("cleo")
    assert queue.in_order() == ["bea", "abel"] and len(queue) == 2 and "abel" in queue
    queue.add(["cleo"])  # evaluated, then new data: to the back
    assert list(queue) == ["bea", "abel", "cleo"]
    for user in queue.in_order():
        queue.done(user)
    assert not queue and len(queue) == 0
