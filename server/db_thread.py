"""The server's store calls, on one dedicated thread, retried with backoff while it is unavailable.

A PostgreSQL round trip or a rule evaluation then never stalls the event loop, where paho's
callbacks deliver messages and PUBACKs, and a SQLite connection is only ever used by that one
thread at a time. A transient database error is retried until it passes or stop is requested:
meanwhile nothing is acknowledged to the broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from server.service_options import ServerOptions, ServerStats
from server.store import StoreUnavailable

log = logging.getLogger("server.service")  # one logger for the server's lines, as before
T = TypeVar("T")


class StopRequested(Exception):
    """Stop was requested while waiting for the database."""


class DatabaseThread:
    """Runs store calls on ``pool`` (one thread); counts retries in ``stats.db_retries``."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        stop: asyncio.Event,
        options: ServerOptions,
        stats: ServerStats,
    ) -> None:
        self._pool = pool
        self._stop = stop
        self._options = options
        self._stats = stats

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the database thread; transient failures retried with backoff.

        StopRequested if stop is set while waiting to retry.
        """
        loop = asyncio.get_running_loop()
        delay = self._options.retry_min_s
        while True:
            try:
                return await loop.run_in_executor(self._pool, fn, *args)
            except StoreUnavailable as exc:
                self._stats.db_retries += 1
                log.warning(
                    "%s; retrying in %.1f s (nothing is acknowledged meanwhile)", exc, delay
                )
                try:
                    async with asyncio.timeout(delay):
                        await self._stop.wait()
                    raise StopRequested from exc
                except TimeoutError:
                    delay = min(delay * 2, self._options.retry_max_s)
