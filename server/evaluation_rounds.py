"""When the server evaluates the rules: slices between batches, and the wall-clock tick.

Evaluation is time-sliced: a round evaluates users for at most ``evaluate_slice_s``, reporters
first (server/evaluation_queue.py), then goes back to the intake, so a thousand users sending
windows never hold up the acks for seconds; while no message waits, slices follow each other.

Beside that, the wall clock: every ``tick_s`` (an hour), and once at start, every user with an
open alert is evaluated at the server's time, so reminders go out and an alert whose sensor
stopped sending says so even when no data arrives. A user whose data was stored within the
last tick period, by any server, waits for a later tick (server/tick_deferral.py).

A mixin of :class:`server.service.Server`, which owns the store, the queue and the database
thread; kept apart so the service module stays about its loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from server.db_thread import StopRequested
from server.evaluate import AlertChanges, evaluate_user
from server.evaluation_queue import EvaluationQueue
from server.rules import RuleConfig
from server.service_options import ServerOptions, ServerStats
from server.store import Store
from server.tick_deferral import tick_due


class EvaluationRounds:
    """Evaluation for the server; the attributes below are the server's."""

    options: ServerOptions
    stats: ServerStats
    rule_config: RuleConfig
    clock: Callable[[], datetime]
    _store: Store | None
    _dirty: EvaluationQueue
    _last_evaluation: float
    _db: Callable[..., Awaitable[Any]]
    _publish_changes: Callable[[AlertChanges], None]

    async def _evaluate(self, force: bool) -> None:
        """A slice of evaluations (``evaluate_slice_s``): when the stream pauses, or every
        ``evaluate_every_s`` under load; the users left wait for the next slice, in order."""
        now = time.monotonic()
        if not self._dirty or (
            not force and now - self._last_evaluation < self.options.evaluate_every_s
        ):
            return
        assert self._store is not None
        deadline = now + self.options.evaluate_slice_s
        for user in self._dirty.in_order():
            change = await self._db(evaluate_user, self._store, user, self.rule_config)
            self._dirty.done(user)
            self.stats.evaluations += 1
            self._publish_changes(change)
            if time.monotonic() >= deadline:
                break
        self._last_evaluation = time.monotonic()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.options.tick_s)
            try:
                await self._tick()
            except StopRequested:
                return

    async def _tick(self) -> None:
        """Evaluate every user with an open alert at the wall clock's time (see evaluate_user),
        except those whose data is still arriving (see tick_due)."""
        assert self._store is not None
        open_alerts = await self._db(self._store.open_alert_users)
        period = timedelta(seconds=self.options.tick_s)
        users, deferred = tick_due(open_alerts, self.clock(), period)
        self.stats.ticks += 1
        self.stats.deferred += len(deferred)
        for user in users:
            change = await self._db(
                evaluate_user, self._store, user, self.rule_config, self.clock()
            )
            self.stats.evaluations += 1
            self._publish_changes(change)
