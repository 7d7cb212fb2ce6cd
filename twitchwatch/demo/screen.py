"""What a subscriber sees, as data: per-site counts from the windows topic, alerts from the alerts
topic, and where the story is. The views (twitchwatch/demo/view.py) only draw this.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from twitchwatch.contract import (
    AlertEvent,
    AlertState,
    TopicKind,
    Transition,
    TwitchWatchError,
    WindowMessage,
    parse_topic,
)
from twitchwatch.mqtt_link import Message


@dataclass
class SiteDay:
    """One site's share of one UTC day, summed over the windows a subscriber received."""

    twitches: int = 0
    cramps: int = 0
    rest_s: float = 0.0

    @property
    def per_min(self) -> float | None:
        return self.twitches / (self.rest_s / 60.0) if self.rest_s >= 60.0 else None


@dataclass
class Progress:
    phase: str = "starting"  # starting, history, connecting, live, finishing, done
    day: int = 0  # past days published so far
    days: int = 0
    day_date: date | None = None
    caption: str = ""
    live_s: float = 0.0
    live_total_s: float = 0.0


@dataclass
class Screen:
    """The subscriber's picture, updated from MQTT messages (and the runner's progress)."""

    user: str
    sites: list[str]
    drivers: dict[str, str]
    broker: str = ""
    progress: Progress = field(default_factory=Progress)
    days: dict[tuple[str, date], SiteDay] = field(default_factory=lambda: defaultdict(SiteDay))
    alerts: dict[tuple[str, str], AlertState] = field(default_factory=dict)
    events: list[AlertEvent] = field(default_factory=list)
    windows_seen: int = 0
    problems: list[str] = field(default_factory=list)
    failure: BaseException | None = None  # the subscriber died: waiting on it would hang
    _seen_events: set[tuple[str, str, str, str]] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def handle(self, message: Message) -> AlertEvent | None:
        """Take one message; returns the alert event it carried, if it is a new one."""
        try:
            topic = parse_topic(message.topic)
            if topic.kind is TopicKind.WINDOWS:
                self._window(
                    WindowMessage.from_payload(
                        message.payload, user=topic.user, device=topic.device or ""
                    )
                )
            elif topic.kind is TopicKind.ALERT_EVENTS:
                return self._event(AlertEvent.from_payload(message.payload))
            elif topic.kind is TopicKind.ALERT and message.payload:
                state = AlertState.from_payload(message.payload)
                self.alerts[(state.rule.value, state.scope)] = state
        except TwitchWatchError as exc:  # a payload or topic outside the contract
            self.problems.append(f"{message.topic}: {exc}")
        finally:
            self._changed.set()
        return None

    def _window(self, window: WindowMessage) -> None:
        day = window.start.date()
        for site, share in window.sites.items():
            totals = self.days[(site, day)]
            totals.twitches += share.twitches
            totals.cramps += share.cramps
            totals.rest_s += share.rest_s
        self.windows_seen += 1

    def _event(self, event: AlertEvent) -> AlertEvent | None:
        key = (event.alert.rule.value, event.alert.scope, event.transition.value, str(event.t))
        if key in self._seen_events:  # QoS 1 may deliver twice
            return None
        self._seen_events.add(key)
        self.events.append(event)
        return event

    def site_day(self, site: str, day: date) -> SiteDay:
        return self.days.get((site, day)) or SiteDay()

    def firing(self) -> list[AlertEvent]:
        """Events that raised an alert (firing or escalated), in arrival order."""
        raised = (Transition.FIRING, Transition.ESCALATED)
        return [e for e in self.events if e.transition in raised]

    def fail(self, exc: BaseException) -> None:
        self.failure = exc
        self._changed.set()

    async def wait_windows(self, count: int, timeout_s: float) -> bool:
        """Wait until ``count`` windows have been seen; False on timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                while self.windows_seen < count:
                    if self.failure is not None:
                        raise self.failure
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True
