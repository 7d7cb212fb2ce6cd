"""What a view does during a run: show the first figures, update, say the final figures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edge.views.figures import Snapshot


class Reporter:
    """A view that shows nothing; the live and log views override what they show."""

    @contextmanager
    def showing(self, first: Snapshot) -> Iterator[None]:
        yield

    def update(self, snapshot: Snapshot) -> None: ...

    def final(self, snapshot: Snapshot, record: Path | None) -> None: ...
