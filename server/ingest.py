"""Received MQTT messages -> validated contract objects -> one store transaction per batch.

Nothing a client sends can raise out of here: every message becomes an outcome. A message that
breaks the contract (bad JSON, NaN, an unknown site, a payload naming another device than its
topic…) is REJECTED, counted under its ``problem`` code in the store's ``rejects`` table and
logged (one line at WARNING for the first few of each code, then at DEBUG), and the caller acks
it like any other: redelivering it could never make it valid. A refused window that still names
its seq is also recorded under that seq as refused for good, so the device's ack passes it (the
ack means "dealt with", see ``twitchwatch/contract/windows.py``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from server.evaluate import AlertChanges, answer_alert
from server.store import (
    DeviceAckState,
    Outcome,
    RefusedWindow,
    Store,
    StoreDataError,
    Tx,
    WindowsResult,
)
from twitchwatch.contract import (
    AlertAck,
    ContractError,
    DeviceStatus,
    PayloadError,
    Profile,
    Report,
    TopicKind,
    WindowMessage,
    parse_topic,
    window_seq,
)
from twitchwatch.mqtt_link import Message

log = logging.getLogger(__name__)

#: Rejections of one problem code logged at WARNING before the rest go to DEBUG.
WARN_FIRST = 5


@dataclass(frozen=True, slots=True)
class ReportIn:
    user: str
    report: Report


@dataclass(frozen=True, slots=True)
class StatusIn:
    user: str
    status: DeviceStatus


@dataclass(frozen=True, slots=True)
class AlertAckIn:
    user: str
    ack: AlertAck


@dataclass(frozen=True, slots=True)
class ProfileIn:
    user: str
    profile: Profile


@dataclass(frozen=True, slots=True)
class Rejected:
    problem: str  # a short code: the contract's PayloadError.problem, or the store's reason
    detail: str  # one line for the log and the rejects table


Item = WindowMessage | RefusedWindow | ReportIn | StatusIn | AlertAckIn | ProfileIn | Rejected


def parse(topic: str, payload: bytes, now: datetime) -> Item:
    """One received message as a validated contract object, or why it was rejected."""
    try:
        where = parse_topic(topic)
        device = where.device or ""  # set for every device topic
        match where.kind:
            case TopicKind.WINDOWS:
                try:
                    return WindowMessage.from_payload(
                        payload, user=where.user, device=device, now=now
                    )
                except PayloadError as exc:
                    seq = window_seq(payload, user=where.user, device=device)
                    if seq is None:
                        raise
                    return RefusedWindow(where.user, device, seq, exc.problem, str(exc))
            case TopicKind.REPORTS:
                return ReportIn(where.user, Report.from_payload(payload, now=now))
            case TopicKind.STATUS:
                return StatusIn(where.user, DeviceStatus.from_payload(payload, device=device))
            case TopicKind.ALERT_ACKS:
                return AlertAckIn(where.user, AlertAck.from_payload(payload))
            case TopicKind.PROFILE:
                if not payload:  # the retained profile was removed: nothing to store
                    return Rejected("empty_profile", f"{topic}: empty (a removed profile)")
                return ProfileIn(where.user, Profile.from_payload(payload))
        return Rejected("unexpected_topic", f"{topic}: not a topic the server consumes")
    except (ContractError, PayloadError) as exc:
        return Rejected(exc.problem, str(exc))
    except Exception as exc:
        # A payload the validation did not foresee (a bug there, e.g. a list where a string was
        # expected). Raising would leave the message unacked, redelivered and raising forever,
        # wedging the server on one hostile message: reject it, with the traceback in the log.
        log.error("validation failed unexpectedly on %s", topic, exc_info=True)
        return Rejected("unparseable", f"{topic}: {type(exc).__name__}: {exc}")


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one batch did; the caller acks every message, then publishes acks and alerts."""

    outcomes: tuple[Outcome, ...]  # one per message, in order
    acks: tuple[DeviceAckState, ...]  # retained DeviceAcks to publish
    dirty_users: frozenset[str]  # users whose data changed: evaluate them
    alert_changes: tuple[AlertChanges, ...] = ()  # from alert acknowledgements
    rejected: Counter[str] = field(default_factory=Counter)
    replayed_sites: int = 0


@dataclass(slots=True)
class _Tally:
    """What one batch transaction has found so far."""

    outcomes: list[Outcome]
    rejects: list[Rejected] = field(default_factory=list)
    dirty: set[str] = field(default_factory=set)
    changes: list[AlertChanges] = field(default_factory=list)


class Ingest:
    """Parses and stores batches of received messages; counts and logs what it rejects.

    Use from one thread (the server's database thread).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.rejected: Counter[str] = Counter()  # since start, by problem code

    def batch(self, messages: Sequence[Message], now: datetime | None = None) -> BatchOutcome:
        """Validate and store ``messages`` in one transaction (StoreUnavailable: nothing kept).

        Should the database refuse a value that validation let through (PostgreSQL takes no
        NUL character in text, which JSON allows), the batch is redone one message per
        transaction and that message alone is rejected, as ``db_refused``.
        """
        now = now or datetime.now(UTC)
        items = [parse(m.topic, m.payload, now) for m in messages]
        try:
            return self._store(items, now)
        except StoreDataError as exc:
            log.warning("the database refused a batch (%s); storing it one by one", exc)
        parts = []
        for item in items:
            try:
                parts.append(self._store([item], now))
            except StoreDataError as exc:
                parts.append(self._store([Rejected("db_refused", str(exc))], now))
        return BatchOutcome(
            outcomes=tuple(o for p in parts for o in p.outcomes),
            acks=tuple({(a.user, a.device): a for p in parts for a in p.acks}.values()),
            dirty_users=frozenset().union(*(p.dirty_users for p in parts)),
            alert_changes=tuple(c for p in parts for c in p.alert_changes),
            rejected=sum((p.rejected for p in parts), Counter()),
            replayed_sites=sum(p.replayed_sites for p in parts),
        )

    def _store(self, items: Sequence[Item], now: datetime) -> BatchOutcome:
        tally = _Tally([Outcome.REJECTED] * len(items))
        tally.rejects += [item for item in items if isinstance(item, Rejected)]
        users = {item.user for item in items if not isinstance(item, Rejected)}
        with self.store.transaction(users=users) as tx:
            refused_acks = self._refuse_windows(tx, items, now, tally)
            windows = self._add_windows(tx, items, now, tally)
            for i, item in enumerate(items):
                if isinstance(item, ReportIn | StatusIn | AlertAckIn | ProfileIn):
                    tally.outcomes[i] = self._add_other(tx, item, now, tally)
            counted = Counter(r.problem for r in tally.rejects)
            if counted:
                last = {r.problem: r.detail for r in tally.rejects}
                tx.count_rejects({p: (n, last[p]) for p, n in counted.items()}, now)
        for (
            reject
        ) in tally.rejects:  # after the commit: a rolled-back batch is logged when it lands
            self._log(reject)
        # The later ack of a device wins: windows were walked after the refusals.
        acks = {(a.user, a.device): a for a in (*refused_acks, *windows.acks)}
        return BatchOutcome(
            outcomes=tuple(tally.outcomes),
            acks=tuple(acks.values()),
            dirty_users=frozenset(tally.dirty),
            alert_changes=tuple(tally.changes),
            rejected=counted,
            replayed_sites=windows.replayed_sites,
        )

    def _refuse_windows(
        self, tx: Tx, items: Sequence[Item], now: datetime, tally: _Tally
    ) -> tuple[DeviceAckState, ...]:
        """Windows refused for good, recorded under their seqs (the ack passes them)."""
        refused = [(i, item) for i, item in enumerate(items) if isinstance(item, RefusedWindow)]
        if not refused:
            return ()
        result = tx.refuse_windows([r for _, r in refused], now)
        for (i, r), outcome in zip(refused, result.outcomes, strict=True):
            tally.outcomes[i] = outcome
            # Counted per message; the person's count is per seq (refused_windows).
            tally.rejects.append(Rejected(r.reason, f"{r.detail} (seq {r.seq}, refused)"))
        return result.acks

    def _add_windows(
        self, tx: Tx, items: Sequence[Item], now: datetime, tally: _Tally
    ) -> WindowsResult:
        """Every window of the batch in one go (a few multi-row statements)."""
        windows = [(i, item) for i, item in enumerate(items) if isinstance(item, WindowMessage)]
        result = tx.add_windows([w for _, w in windows], now)
        tally.dirty |= result.changed_users
        for k, ((i, _), outcome) in enumerate(zip(windows, result.outcomes, strict=True)):
            tally.outcomes[i] = outcome
            if outcome is Outcome.REJECTED:
                tally.rejects.append(Rejected(*result.problems[k]))
        return result

    def _add_other(
        self,
        tx: Tx,
        item: ReportIn | StatusIn | AlertAckIn | ProfileIn,
        now: datetime,
        tally: _Tally,
    ) -> Outcome:
        """A report, a device status, an alert acknowledgement or a profile."""
        match item:
            case ReportIn(user, report):
                if not tx.add_report(user, report, now):
                    return Outcome.DUPLICATE
                tally.dirty.add(user)
                return Outcome.STORED
            case StatusIn(user, status):
                tx.set_status(user, status, now)  # a device is its user's own
                return Outcome.STORED
            case AlertAckIn(user, ack):
                where = f"{ack.action.value} for {ack.rule.value}/{ack.scope}"
                try:
                    change = answer_alert(tx, user, ack.rule, ack.scope, ack.action, now)
                except ValueError as exc:  # "resolved" for an alert that follows measurements
                    tally.rejects.append(Rejected("not_resolvable", f"{where}: {exc}"))
                    return Outcome.REJECTED
                if change is None:
                    detail = f"{where}: {user} has no such alert"
                    tally.rejects.append(Rejected("unknown_alert", detail))
                    return Outcome.REJECTED
                if not change.events:
                    return Outcome.DUPLICATE  # acknowledged (or resolved) before
                tally.changes.append(change)
                return Outcome.STORED
            case ProfileIn(user, profile):
                # A new zone re-cuts the user's days: evaluate them again.
                if tx.set_profile(user, profile, now):
                    tally.dirty.add(user)
                    return Outcome.STORED
                return Outcome.DUPLICATE  # the retained profile again, at a reconnect
        raise AssertionError(f"unroutable {item!r}")

    def _log(self, reject: Rejected) -> None:
        self.rejected[reject.problem] += 1
        n = self.rejected[reject.problem]
        level = logging.WARNING if n <= WARN_FIRST else logging.DEBUG
        quiet = " (further ones at DEBUG)" if n == WARN_FIRST else ""
        log.log(level, "rejected [%s]: %s%s", reject.problem, reject.detail, quiet)
