"""Reads beyond what the rules need, for what a person sees (the web view): inside
:meth:`Store.reading`, a read-only transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.store.sql import from_ts, ts
from server.store.tx import Tx
from twitchwatch.contract import Report, ReportKind


@dataclass(frozen=True, slots=True)
class TodayRow:
    """One window of one site, as stored."""

    site: str
    start: datetime
    end: datetime
    twitches: int
    cramps: int
    rest_s: float
    active_s: float
    gap_s: float


class ReadTx(Tx):
    """A :class:`Tx` begun read-only (writing in it fails): the reads of Tx and these."""

    def window_sites(self, user: str, since: datetime, until: datetime) -> list[TodayRow]:
        """Every stored window of ``user``'s sites with since <= start < until, by time."""
        rows = self._db.execute(
            "SELECT site, start_utc, end_utc, twitches, cramps, rest_s, active_s, gap_s "
            "FROM window_sites WHERE user_id = ? AND start_utc >= ? AND start_utc < ?",
            (user, ts(since), ts(until)),
        )
        found = [
            TodayRow(site, from_ts(start), from_ts(end), int(tw), int(cr), rest, active, gap)
            for site, start, end, tw, cr, rest, active, gap in rows
        ]
        found.sort(key=lambda r: (r.start, r.site))  # in Python: collations differ
        return found

    def sites(self, user: str) -> list[str]:
        """Every site ``user`` has ever sent windows for."""
        rows = self._db.execute("SELECT DISTINCT site FROM daily_site WHERE user_id = ?", (user,))
        return sorted(site for (site,) in rows)

    def has_report(self, user: str, report: Report) -> bool:
        """Is this report stored (its key: user, time, kind, site)?"""
        rows = self._db.execute(
            "SELECT 1 FROM reports WHERE user_id = ? AND t_utc = ? AND kind = ? AND site = ?",
            (user, ts(report.t), report.kind.value, report.site or ""),
        )
        return bool(rows)

    def reports_between(self, user: str, since: datetime, until: datetime) -> list[Report]:
        """``user``'s reports with since <= t <= until, oldest first."""
        rows = self._db.execute(
            "SELECT t_utc, kind, site, value, note FROM reports "
            "WHERE user_id = ? AND t_utc >= ? AND t_utc <= ?",
            (user, ts(since), ts(until)),
        )
        reports = [
            Report(from_ts(t), ReportKind(kind), site or None, value, note)
            for t, kind, site, value, note in rows
        ]
        reports.sort(key=lambda r: (r.t, r.kind.value, r.site or ""))
        return reports
