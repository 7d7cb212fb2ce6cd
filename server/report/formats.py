"""How values read in the report: times in the person's zone, counts, scopes, report values.

Functions that return HTML escape what they return; the others return plain text that the page
escapes where it uses it (the figures use it as it is).
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from server import wording
from server.report.data import ReportData
from twitchwatch.contract import Region, Report, ReportKind, region_of

#: How a report's free number reads, per kind (the contract leaves the unit to the kind).
_VALUE_FORMATS: dict[ReportKind, str] = {
    ReportKind.CAFFEINE: "{:g} cups",
    ReportKind.SLEEP: "{:g} h",
    ReportKind.STRESS: "{:g}/10",
    ReportKind.EXERCISE: "{:g} h",
    ReportKind.ALCOHOL: "{:g} drinks",
}


def region_label(region: Region) -> str:
    """``"Lumbosacral: lower back and legs"``: the criteria's name, then lay words."""
    return f"{region.value.capitalize()}: {wording.region_name(region).removeprefix('the ')}"


def scope_name(scope: str) -> str:
    """A site scope in words ("left calf"); regions, symptoms and "all" as they are."""
    return wording.site_name(scope) if region_of(scope) is not None else scope


def report_value(report: Report) -> str:
    """A report's number with its kind's unit ("2 cups"); empty without one."""
    if report.value is None:
        return ""
    return _VALUE_FORMATS.get(report.kind, "{:g}").format(report.value)


def period_text(data: ReportData) -> str:
    """The report's days, their count and the person's zone, as HTML."""
    first, last = data.days[0], data.days[-1]
    return f"{day_text(first)} to {day_text(last)} ({wording.days(data.n_days)}, {escape(data.tz)})"


def day_text(day: date) -> str:
    """A day as HTML (ISO date)."""
    return escape(day.isoformat())


def when(data: ReportData, t: datetime) -> str:
    """A time in the person's zone, with the zone's abbreviation (CET, PDT…)."""
    local = t.astimezone(data.zone)
    return escape(local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or data.tz))


def num(n: int) -> str:
    """A count with thousands separators."""
    return f"{n:,}"


def minutes(data: ReportData) -> str:
    """The observed rest a day needs to count, in minutes."""
    return f"{data.config.observation.min_rest_s_per_day / 60:g}"
