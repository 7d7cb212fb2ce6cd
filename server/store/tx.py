"""Everything the store does inside one transaction: windows, reports, devices, alerts, history.

A :class:`Tx` exists only between ``BEGIN`` and ``COMMIT`` (see :meth:`Store.transaction`), with
the rows of the users it will write already locked, so every method here may read and then write
without racing another server process. The bigger tables' work lives in modules of its own
(``windows.py``, ``refusals.py``, ``alerts.py``), which Tx calls with its backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from server.localdays import day_start, local_day
from server.model import AlertRecord, DaySite, History
from server.store import alerts as _alerts
from server.store import refusals as _refusals
from server.store import windows as _windows
from server.store.backend import Backend
from server.store.daily import rebuild_days
from server.store.refusals import RefusalsResult, RefusedWindow
from server.store.sql import (
    from_ts,
    insert_rows,
    mark_stored,
    maybe_from_ts,
    maybe_ts,
    touch_user,
    ts,
)
from server.store.windows import DeviceAckState, WindowsResult
from twitchwatch.contract import (
    DEFAULT_TZ,
    AlertEvent,
    DeviceStatus,
    Profile,
    Report,
    ReportKind,
    Rule,
    WindowMessage,
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

    def open_alert_users(self) -> list[tuple[str, datetime | None]]:
        """Users with a pending or firing alert (the server's wall clock evaluates them), and
        when a server last stored their data."""
        return _alerts.open_alert_users(self._db)

    def mark_stored(self, users: Sequence[str], at: datetime) -> None:
        """``users``' data was stored at ``at``, by the storing server's wall clock."""
        mark_stored(self._db, users, at)

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

    # --- alerts and their transitions (server/store/alerts.py) -------------------------------

    def load_alerts(self, user: str) -> list[AlertRecord]:
        return _alerts.load_alerts(self._db, user)

    def load_alert(self, user: str, rule: Rule, scope: str) -> AlertRecord | None:
        return _alerts.load_alert(self._db, user, rule, scope)

    def all_alerts(self) -> list[AlertRecord]:
        return _alerts.all_alerts(self._db)

    def save_alert(self, record: AlertRecord) -> None:
        _alerts.save_alert(self._db, record)

    def add_events(self, user: str, events: Sequence[AlertEvent]) -> list[AlertEvent]:
        """Record transitions once each; the ones that were new (to publish)."""
        return _alerts.add_events(self._db, user, events)

    def alert_events(self, user: str, since: datetime, until: datetime) -> list[AlertEvent]:
        """Every transition recorded for ``user`` with since <= t <= until, oldest first."""
        return _alerts.alert_events(self._db, user, since, until)

    def unpublished_events(self) -> list[tuple[str, AlertEvent]]:
        return _alerts.unpublished_events(self._db)

    def mark_published(self, user: str, events: Sequence[AlertEvent]) -> None:
        _alerts.mark_published(self._db, user, events)

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
