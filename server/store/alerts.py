"""Alerts and their transitions as stored: the ``alerts`` and ``alert_events`` tables.

Functions of an open transaction's backend (see :class:`server.store.Tx`), with the rows of the
users they write already locked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from server.model import AlertRecord
from server.store.backend import Backend
from server.store.sql import from_ts, insert_rows, maybe_from_ts, maybe_ts, ts
from twitchwatch.contract import AlertEvent, AlertStatus, Rule, Severity, encode_json

_ALERT_COLUMNS = (
    "user_id, rule, scope, severity, status, since_utc, pending_since_utc, "
    "last_notified_utc, acknowledged, version, message, evidence, context, stage, folded_into, "
    "resolved_by_person, asked_utc, no_data_utc"
)


def load_alerts(db: Backend, user: str) -> list[AlertRecord]:
    rows = db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE user_id = ?", (user,))
    return sorted((_alert(row) for row in rows), key=lambda a: (a.rule.value, a.scope))


def load_alert(db: Backend, user: str, rule: Rule, scope: str) -> AlertRecord | None:
    rows = db.execute(
        f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE user_id = ? AND rule = ? AND scope = ?",
        (user, rule.value, scope),
    )
    return _alert(rows[0]) if rows else None


def all_alerts(db: Backend) -> list[AlertRecord]:
    rows = db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts")
    return sorted((_alert(r) for r in rows), key=lambda a: (a.user, a.rule.value, a.scope))


def open_alert_users(db: Backend) -> list[tuple[str, datetime | None]]:
    """Users with a pending or firing alert, and when a server last stored their data."""
    rows = db.execute(
        "SELECT a.user_id, MAX(u.stored_utc) FROM alerts a LEFT JOIN users u "
        "ON u.user_id = a.user_id WHERE a.status <> ? GROUP BY a.user_id",
        (AlertStatus.RESOLVED.value,),
    )
    return sorted((user, maybe_from_ts(stored)) for user, stored in rows)


def save_alert(db: Backend, record: AlertRecord) -> None:
    insert_rows(
        db,
        f"INSERT INTO alerts ({_ALERT_COLUMNS})",
        [
            (
                record.user,
                record.rule.value,
                record.scope,
                record.severity.value,
                record.status.value,
                ts(record.since),
                maybe_ts(record.pending_since),
                maybe_ts(record.last_notified),
                int(record.acknowledged),
                record.version,
                record.message,
                encode_json(dict(record.evidence)).decode(),
                encode_json(list(record.context)).decode(),
                record.stage,
                record.folded_into,
                int(record.resolved_by_person),
                maybe_ts(record.asked),
                maybe_ts(record.no_data_noticed),
            )
        ],
        "ON CONFLICT (user_id, rule, scope) DO UPDATE SET severity = excluded.severity, "
        "status = excluded.status, since_utc = excluded.since_utc, "
        "pending_since_utc = excluded.pending_since_utc, "
        "last_notified_utc = excluded.last_notified_utc, "
        "acknowledged = excluded.acknowledged, version = excluded.version, "
        "message = excluded.message, evidence = excluded.evidence, context = excluded.context, "
        "stage = excluded.stage, folded_into = excluded.folded_into, "
        "resolved_by_person = excluded.resolved_by_person, asked_utc = excluded.asked_utc, "
        "no_data_utc = excluded.no_data_utc",
    )


def add_events(db: Backend, user: str, events: Sequence[AlertEvent]) -> list[AlertEvent]:
    """Record transitions once each; the ones that were new (to publish)."""
    rows = [
        (
            user,
            e.alert.rule.value,
            e.alert.scope,
            e.alert.version,
            e.transition.value,
            ts(e.t),
            e.to_payload().decode(),
        )
        for e in events
    ]
    added = {
        (rule, scope, version, transition)
        for rule, scope, version, transition in insert_rows(
            db,
            "INSERT INTO alert_events (user_id, rule, scope, version, transition, t_utc, payload)",
            rows,
            "ON CONFLICT (user_id, rule, scope, version, transition) DO NOTHING "
            "RETURNING rule, scope, version, transition",
        )
    }
    return [
        e
        for e in events
        if (e.alert.rule.value, e.alert.scope, e.alert.version, e.transition.value) in added
    ]


def alert_events(db: Backend, user: str, since: datetime, until: datetime) -> list[AlertEvent]:
    """Every transition recorded for ``user`` with since <= t <= until, oldest first."""
    rows = db.execute(
        "SELECT payload FROM alert_events WHERE user_id = ? AND t_utc >= ? AND t_utc <= ?",
        (user, ts(since), ts(until)),
    )
    events = [AlertEvent.from_payload(payload.encode()) for (payload,) in rows]
    # Sorted here, not in SQL (collations differ); version orders one alert's transitions.
    events.sort(key=lambda e: (e.t, e.alert.rule.value, e.alert.scope, e.alert.version))
    return events


def unpublished_events(db: Backend) -> list[tuple[str, AlertEvent]]:
    rows = db.execute(
        "SELECT user_id, payload FROM alert_events WHERE published = 0 ORDER BY t_utc"
    )
    return [(user, AlertEvent.from_payload(payload.encode())) for user, payload in rows]


def mark_published(db: Backend, user: str, events: Sequence[AlertEvent]) -> None:
    db.execute_many(
        "UPDATE alert_events SET published = 1 WHERE user_id = ? AND rule = ? AND scope = ? "
        "AND version = ? AND transition = ?",
        [
            (user, e.alert.rule.value, e.alert.scope, e.alert.version, e.transition.value)
            for e in events
        ],
    )


def _alert(row: Sequence[Any]) -> AlertRecord:
    (
        user,
        rule,
        scope,
        severity,
        status,
        since,
        pending_since,
        last_notified,
        acknowledged,
        version,
        message,
        evidence,
        context,
        stage,
        folded_into,
        resolved_by_person,
        asked,
        no_data,
    ) = row
    return AlertRecord(
        user=user,
        rule=Rule(rule),
        scope=scope,
        severity=Severity(severity),
        status=AlertStatus(status),
        since=from_ts(since),
        pending_since=maybe_from_ts(pending_since),
        last_notified=maybe_from_ts(last_notified),
        acknowledged=bool(acknowledged),
        version=int(version),
        message=message,
        evidence=json.loads(evidence),
        context=tuple(json.loads(context)),
        stage=int(stage),
        folded_into=folded_into,
        resolved_by_person=bool(resolved_by_person),
        asked=maybe_from_ts(asked),
        no_data_noticed=maybe_from_ts(no_data),
    )
