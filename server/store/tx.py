"""Everything the store does inside one transaction: windows, reports, devices, alerts, history.

A :class:`Tx` exists only between ``BEGIN`` and ``COMMIT`` (see :meth:`Store.transaction`), with
the rows of the users it will write already locked, so every method here may read and then write
without racing another server process.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from server.localdays import day_start, local_day
from server.model import AlertRecord, DaySite, History
from server.store import refusals as _refusals
from server.store import windows as _windows
from server.store.backend import Backend
from server.store.daily import rebuild_days
from server.store.refusals import RefusalsResult, RefusedWindow
from server.store.sql import from_ts, insert_rows, maybe_from_ts, maybe_ts, touch_user, ts
from server.store.windows import DeviceAckState, WindowsResult
from twitchwatch.contract import (
    DEFAULT_TZ,
    AlertEvent,
    AlertStatus,
    DeviceStatus,
    Profile,
    Report,
    ReportKind,
    Rule,
    Severity,
    WindowMessage,
    encode_json,
)

MAX_DETAIL_CHARS = 300


class Tx:
    """One open transaction. Built by :meth:`server.store.Store.transaction`, never directly."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend

    # --- users: the evaluation time, the dirty flag and the per-user lock ------------------------

    def lock_users(self, users: Sequence[str]) -> None:
        """Create missing user rows, then lock them all (sorted) until the transaction ends."""
        users = sorted(set(users))
        if users:
            insert_rows(
                self._db,
                "INSERT INTO users (user_id, dirty)",
                [(u, 0) for u in users],
                "ON CONFLICT (user_id) DO NOTHING",
            )
            self._db.lock_users(users)

    def user_state(self, user: str) -> tuple[datetime | None, bool]:
        """(latest event time, dirty) of a user; (None, False) for a user with no row."""
        rows = self._db.execute("SELECT latest_utc, dirty FROM users WHERE user_id = ?", (user,))
        if not rows:
            return None, False
        return maybe_from_ts(rows[0][0]), bool(rows[0][1])

    def evaluated_at(self, user: str) -> datetime | None:
        """The event time the rules last ran at for ``user`` (None: never)."""
        rows = self._db.execute("SELECT evaluated_utc FROM users WHERE user_id = ?", (user,))
        return maybe_from_ts(rows[0][0]) if rows else None

    def mark_evaluated(self, user: str, at: datetime | None = None) -> None:
        self._db.execute(
            "UPDATE users SET dirty = 0, evaluated_utc = COALESCE(?, evaluated_utc) WHERE user_id = ?",
            (maybe_ts(at), user),
        )

    def dirty_users(self) -> list[str]:
        rows = self._db.execute("SELECT user_id FROM users WHERE dirty = 1")
        return sorted(u for (u,) in rows)

    def users_with_data(self) -> list[str]:
        rows = self._db.execute("SELECT user_id FROM users WHERE latest_utc IS NOT NULL")
        return sorted(u for (u,) in rows)

    def users_with_open_alerts(self) -> list[str]:
        """Users with a pending or firing alert: the server's wall clock evaluates them."""
        rows = self._db.execute(
            "SELECT DISTINCT user_id FROM alerts WHERE status <> ?", (AlertStatus.RESOLVED.value,)
        )
        return sorted(u for (u,) in rows)

    # --- the profile: the person's zone ----------------------------------------------------------

    def profile_tz(self, user: str) -> str:
        """The zone of ``user``'s days (UTC until a profile sets one)."""
        rows = self._db.execute("SELECT tz FROM profiles WHERE user_id = ?", (user,))
        return rows[0][0] if rows else DEFAULT_TZ

    def set_profile(self, user: str, profile: Profile, received: datetime) -> bool:
        """Store ``user``'s profile; True if the zone changed (the user's row is locked).

        A new zone applies from now on: every evaluation, message and report after it uses the
        new zone's days and dates, while alerts and events already published keep theirs. The
        stored daily sums are re-cut into the new zone's days from the windows (which are all
        kept), so the rules' trailing windows never mix days of two zones: a mixed history
        would have a seam of 23 or 25 hours, or a day counted twice.
        """
        old = self.profile_tz(user)
        insert_rows(
            self._db,
            "INSERT INTO profiles (user_id, tz, updated_utc)",
            [(user, profile.tz, ts(received))],
            "ON CONFLICT (user_id) DO UPDATE SET tz = excluded.tz, updated_utc = excluded.updated_utc",
        )
        if old == profile.tz:
            return False
        rebuild_days(self._db, user, ZoneInfo(profile.tz))
        self._db.execute("UPDATE users SET dirty = 1 WHERE user_id = ?", (user,))
        return True

    # --- windows and devices (server/store/windows.py) --------------------------------------

    def add_windows(self, windows: Sequence[WindowMessage], received: datetime) -> WindowsResult:
        """Store windows exactly once; daily sums and device acks follow (see windows.py)."""
        users = sorted({w.user for w in windows})
        zones = {user: ZoneInfo(self.profile_tz(user)) for user in users}
        return _windows.add_windows(self._db, windows, received, zones)

    def refuse_windows(
        self, refused: Sequence[RefusedWindow], received: datetime
    ) -> RefusalsResult:
        """Record windows refused for good under their seqs; acks move past them."""
        return _refusals.refuse_windows(self._db, refused, received)

    def refused_windows(self, user: str) -> dict[str, int]:
        """``{reason: windows}`` refused for good from ``user``'s devices."""
        return _refusals.refused_counts(self._db, user)

    def set_status(self, user: str, status: DeviceStatus, received: datetime) -> None:
        """Record a device's online/offline state (a device is its user's own)."""
        _windows.set_status(self._db, user, status, received)

    def device_acks(self) -> list[DeviceAckState]:
        return _windows.device_acks(self._db)

    def device_acks_of(self, devices: Iterable[tuple[str, str]]) -> list[DeviceAckState]:
        return _windows.device_acks_of(self._db, devices)

    def recent_device_acks(self, since: datetime) -> list[tuple[DeviceAckState, datetime]]:
        """Acks of devices with a window received since ``since``, and when the latest was."""
        return _windows.recent_device_acks(self._db, since)

    # --- reports -------------------------------------------------------------------------------

    def add_report(self, user: str, report: Report, received: datetime) -> bool:
        """Store a report once (key: user, time, kind, site); True if it was new or corrected.

        A report with an ``id`` the user's stored report has is a correction: it replaces that
        report (the same one again changes nothing).
        """
        row = (user, ts(report.t), report.kind.value, report.site or "", report.value,
               report.note, ts(received), report.id)  # fmt: skip
        conflict = "DO NOTHING"
        if report.id is not None:
            stored = self._db.execute(
                "SELECT t_utc, kind, site, value, note FROM reports "
                "WHERE user_id = ? AND report_id = ?",
                (user, report.id),
            )
            if stored and tuple(stored[0]) == row[1:6]:
                return False
            self._db.execute(
                "DELETE FROM reports WHERE user_id = ? AND report_id = ?", (user, report.id)
            )
            conflict = ("DO UPDATE SET value = excluded.value, note = excluded.note, "
                        "received_utc = excluded.received_utc, report_id = excluded.report_id")  # fmt: skip
        rows = self._db.execute(
            "INSERT INTO reports (user_id, t_utc, kind, site, value, note, received_utc, "
            "report_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (user_id, t_utc, kind, site) {conflict} RETURNING user_id",
            row,
        )
        if rows:
            touch_user(self._db, user, report.t)
        return bool(rows)

    # --- history -------------------------------------------------------------------------------

    def load_history(self, user: str, since_day: date, until: datetime) -> History:
        """Daily sums from ``since_day`` to ``until``'s day, and reports in the same span.

        Days are the user's own (the zone of their profile), and so are the span's ends.
        """
        tz = self.profile_tz(user)
        zone = ZoneInfo(tz)
        days = [
            DaySite(date.fromisoformat(day), site, twitches, cramps, rest_s, active_s, gap_s, n)
            for day, site, twitches, cramps, rest_s, active_s, gap_s, n in self._db.execute(
                "SELECT day, site, twitches, cramps, rest_s, active_s, gap_s, windows "
                "FROM daily_site WHERE user_id = ? AND day >= ? AND day <= ?",
                (user, since_day.isoformat(), local_day(until, zone).isoformat()),
            )
        ]
        since = day_start(since_day, zone)
        reports = [
            Report(from_ts(t), ReportKind(kind), site or None, value, note)
            for t, kind, site, value, note in self._db.execute(
                "SELECT t_utc, kind, site, value, note FROM reports "
                "WHERE user_id = ? AND t_utc >= ? AND t_utc <= ?",
                (user, ts(since), ts(until)),
            )
        ]
        # Sorted here, not in SQL: PostgreSQL's collation may order '_' unlike SQLite.
        days.sort(key=lambda d: (d.day, d.site))
        reports.sort(key=lambda r: (r.t, r.kind.value, r.site or ""))
        return History(user, tuple(days), tuple(reports), tz)

    # --- alerts --------------------------------------------------------------------------------

    _ALERT_COLUMNS = (
        "user_id, rule, scope, severity, status, since_utc, pending_since_utc, "
        "last_notified_utc, acknowledged, version, message, evidence, context, stage, folded_into, "
        "resolved_by_person, asked_utc, no_data_utc"
    )

    def load_alerts(self, user: str) -> list[AlertRecord]:
        rows = self._db.execute(
            f"SELECT {self._ALERT_COLUMNS} FROM alerts WHERE user_id = ?", (user,)
        )
        return sorted((_alert(row) for row in rows), key=lambda a: (a.rule.value, a.scope))

    def load_alert(self, user: str, rule: Rule, scope: str) -> AlertRecord | None:
        rows = self._db.execute(
            f"SELECT {self._ALERT_COLUMNS} FROM alerts "
            "WHERE user_id = ? AND rule = ? AND scope = ?",
            (user, rule.value, scope),
        )
        return _alert(rows[0]) if rows else None

    def all_alerts(self) -> list[AlertRecord]:
        rows = self._db.execute(f"SELECT {self._ALERT_COLUMNS} FROM alerts")
        return sorted((_alert(r) for r in rows), key=lambda a: (a.user, a.rule.value, a.scope))

    def save_alert(self, record: AlertRecord) -> None:
        insert_rows(
            self._db,
            f"INSERT INTO alerts ({self._ALERT_COLUMNS})",
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

    def add_events(self, user: str, events: Sequence[AlertEvent]) -> list[AlertEvent]:
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
                self._db,
                "INSERT INTO alert_events (user_id, rule, scope, version, transition, t_utc, "
                "payload)",
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

    def alert_events(self, user: str, since: datetime, until: datetime) -> list[AlertEvent]:
        """Every transition recorded for ``user`` with since <= t <= until, oldest first."""
        rows = self._db.execute(
            "SELECT payload FROM alert_events WHERE user_id = ? AND t_utc >= ? AND t_utc <= ?",
            (user, ts(since), ts(until)),
        )
        events = [AlertEvent.from_payload(payload.encode()) for (payload,) in rows]
        # Sorted here, not in SQL (collations differ); version orders one alert's transitions.
        events.sort(key=lambda e: (e.t, e.alert.rule.value, e.alert.scope, e.alert.version))
        return events

    def unpublished_events(self) -> list[tuple[str, AlertEvent]]:
        rows = self._db.execute(
            "SELECT user_id, payload FROM alert_events WHERE published = 0 ORDER BY t_utc"
        )
        return [(user, AlertEvent.from_payload(payload.encode())) for user, payload in rows]

    def mark_published(self, user: str, events: Sequence[AlertEvent]) -> None:
        self._db.execute_many(
            "UPDATE alert_events SET published = 1 WHERE user_id = ? AND rule = ? AND scope = ? "
            "AND version = ? AND transition = ?",
            [
                (user, e.alert.rule.value, e.alert.scope, e.alert.version, e.transition.value)
                for e in events
            ],
        )

    # --- rejects -------------------------------------------------------------------------------

    def count_rejects(self, counts: Mapping[str, tuple[int, str]], now: datetime) -> None:
        """Add ``{reason: (n, last detail)}`` to the reject counters."""
        insert_rows(
            self._db,
            "INSERT INTO rejects (reason, count, last_detail, last_utc)",
            [
                (reason, n, detail[:MAX_DETAIL_CHARS], ts(now))
                for reason, (n, detail) in sorted(counts.items())
            ],
            "ON CONFLICT (reason) DO UPDATE SET count = rejects.count + excluded.count, "
            "last_detail = excluded.last_detail, last_utc = excluded.last_utc",
        )

    def rejects(self) -> dict[str, int]:
        return {reason: n for reason, n in self._db.execute("SELECT reason, count FROM rejects")}


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
