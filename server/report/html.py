"""The report page: one self-contained HTML file (inline CSS, figures as data: URIs, no script).

Built from strings, every value passed through :func:`html.escape`: notes are the person's own
text, and even site ids and messages come from a database other programs may write to.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from html import escape

import numpy as np

from server import wording
from server.report.css import PAGE_CSS
from server.report.data import RegionStatus, ReportData
from server.report.figures import DPI, region_label
from twitchwatch.contract import (
    ADVICE,
    CONTEXT_REPORTS,
    AlertEvent,
    AlertState,
    AlertStatus,
    Region,
    Report,
    ReportKind,
    Transition,
    limb_group_of,
    region_of,
)

DISCLAIMER = (
    "TwitchWatch is not a diagnostic device: it reports what sensors measured and what the "
    "person reported, with the usual advice for such measurements. It does not diagnose any "
    "condition; only a doctor who examines the person can judge what these numbers mean."
)

#: How a report's free number reads, per kind (the contract leaves the unit to the kind).
_VALUE_FORMATS: dict[ReportKind, str] = {
    ReportKind.CAFFEINE: "{:g} cups",
    ReportKind.SLEEP: "{:g} h",
    ReportKind.STRESS: "{:g}/10",
    ReportKind.EXERCISE: "{:g} h",
    ReportKind.ALCOHOL: "{:g} drinks",
}
_NO_SENSOR_DATA = "<p>No sensor data in this period: only reports.</p>"
_CSS_PX_PER_INCH = 96  # figures are shown at the size they print at


def render_html(data: ReportData, figures: Mapping[str, bytes]) -> str:
    """The whole page for ``data`` with ``figures`` (file name -> PNG) embedded."""
    title = f"TwitchWatch report: {data.user}"
    body = "\n".join(
        [
            "<header>",
            f"<h1>{escape(title)}</h1>",
            f'<p class="meta">{_period_text(data)} · data up to {_when(data, data.until)} · '
            f"from {escape(data.source)}</p>",
            "</header>",
            _summary(data),
            _rates(data, figures),
            _regions(data, figures),
            _cramps(data, figures),
            _symptoms(data, figures),
            _alerts(data),
            _worn(data, figures),
            _method(data),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


# --- sections ------------------------------------------------------------------------------------


def _summary(data: ReportData) -> str:
    firing = [a for a in data.alerts if a.state is not AlertStatus.RESOLVED]
    firing.sort(key=lambda a: (-a.severity.rank, a.folded_into or "", a.rule.value, a.scope))
    facts = [
        ("Person", escape(data.user)),
        ("Period", _period_text(data)),
        ("Days worn", f"{data.days_worn} of {wording.days(data.n_days)}"),
        ("Observed rest", f"{data.rest_s.sum() / 3600:.1f} h in total"),
        ("Twitches counted", f"{int(data.twitches.sum()):,} (during observed rest)"),
        ("Cramps counted", f"{int(data.cramps.sum()):,}"),
        ("Sites", escape(", ".join(wording.site_name(s) for s in data.sites) or "none")),
    ]
    alerts = (
        '<ul class="alerts">\n' + "\n".join(_current_alert(data, a) for a in firing) + "\n</ul>"
        if firing
        else "<p>No alert is active.</p>"
    )
    return _section(
        "summary",
        "Summary",
        f'<p class="note">{escape(DISCLAIMER)}</p>',
        _facts_list(facts),
        "<h3>Current alerts</h3>",
        alerts,
        "<h3>Per site</h3>",
        _site_table(data) if data.sites else _NO_SENSOR_DATA,
    )


def _rates(data: ReportData, figures: Mapping[str, bytes]) -> str:
    if not data.sites:
        return _section("rates", "Twitch rate per site", _NO_SENSOR_DATA)
    threshold = data.config.observation.active_rate_per_min
    return _section(
        "rates",
        "Twitch rate per site",
        "<p>Twitches per minute of observed rest, per site and day. Hatched grey days had "
        f"less than {_minutes(data)} minutes of observed rest: they are <em>no data</em>, not "
        f"zero. A day counts as twitching from {threshold:g} twitches per minute (dashed "
        "line).</p>",
        _figure(figures, "rates_heatmap.png", "Twitch rate heatmap, sites by day"),
        _figure(
            figures,
            "rates_by_site.png",
            "Daily twitch rate per site with the weekly median and the activity threshold",
        ),
    )


def _regions(data: ReportData, figures: Mapping[str, bytes]) -> str:
    if not data.sites:
        return _section("regions", "Body regions and limb groups", _NO_SENSOR_DATA)
    est = data.config.established
    ignored = ", ".join(est.ignore_places)
    rows = []
    for i, region in enumerate(Region):
        established = np.flatnonzero(data.regions[i] == RegionStatus.ESTABLISHED)
        rows.append(
            [
                escape(region_label(region)),
                _num(int(data.region_observed[i].sum())),
                _num(int(data.region_active[i].sum())),
                escape(data.days[established[0]].isoformat()) if established.size else "–",
            ]
        )
    groups = sorted(
        {g for i in np.flatnonzero(data.established[:, -1]) if (g := limb_group_of(data.sites[i]))}
    )
    group_text = "; ".join(wording.limb_group_name(g) for g in groups) or "none"
    return _section(
        "regions",
        "Body regions and limb groups",
        "<p>Regions as in the Awaji criteria. A region is <em>established</em> on a day when "
        f"one of its sites twitched on at least {est.min_active_days} days and on at least "
        f"{est.min_active_fraction:.0%} of its observed days in the {est.window_days} days up "
        f"to it, over at least {est.min_span_days} days"
        + (
            f"; twitching of the {escape(ignored)} is shown but does not make its region "
            "established"
            if ignored
            else ""
        )
        + ".</p>",
        _figure(
            figures, "regions.png", "Regions by day and limb groups with established twitching"
        ),
        _table(
            ["Region", "Days observed", "Days twitching", "First day established"],
            rows,
            numeric=(1, 2),
        ),
        f"<p>Limb groups with established twitching on {data.days[-1].isoformat()}: "
        f"{len(groups)} of 8 ({escape(group_text)}).</p>",
    )


def _cramps(data: ReportData, figures: Mapping[str, bytes]) -> str:
    if not data.cramps.any():
        return _section("cramps", "Cramps", "<p>No cramps were recorded in this period.</p>")
    rows = [
        [escape(wording.site_name(site)), _num(int(c.sum())), _num(int((c > 0).sum()))]
        for site, c in zip(data.sites, data.cramps, strict=True)
        if c.any()
    ]
    return _section(
        "cramps",
        "Cramps",
        _figure(figures, "cramps.png", "Cramps per day, by site"),
        _table(["Site", "Cramps", "Days with cramps"], rows, numeric=(1, 2)),
    )


def _symptoms(data: ReportData, figures: Mapping[str, bytes]) -> str:
    if not data.reports:
        return _section("symptoms", "Reported symptoms and context", "<p>Nothing was reported.</p>")
    rows = [
        [
            _when(data, r.t),
            escape(r.kind.value) + ("" if r.kind in CONTEXT_REPORTS else " (symptom)"),
            escape(wording.site_name(r.site)) if r.site else "",
            escape(_value(r)),
            escape(r.note or ""),
        ]
        for r in data.reports
    ]
    return _section(
        "symptoms",
        "Reported symptoms and context",
        "<p>What the person reported: symptoms (weakness, atrophy, numbness, speech, "
        "swallowing, breathing) and context that makes twitching more likely (caffeine, "
        "sleep, stress, exercise, medication, dehydration, nicotine, alcohol).</p>",
        _figure(figures, "symptoms.png", "Reports by kind over time"),
        _table([f"Time ({data.tz})", "Kind", "Site", "Value", "Note"], rows),
    )


def _alerts(data: ReportData) -> str:
    events = [
        [
            _when(data, e.t),
            escape(e.alert.rule.value),
            escape(_scope(e.alert.scope)),
            _severity(e.alert),
            escape(_change(e)),
            escape(e.alert.message),
        ]
        for e in data.events
    ]
    states = [
        [
            escape(a.rule.value),
            escape(_scope(a.scope)),
            _severity(a),
            escape(a.state.value)
            + (" (seen)" if a.acknowledged else "")
            + (f" (folded into {escape(a.folded_into)})" if a.folded_into else ""),
            _when(data, a.since),
            escape(a.message),
        ]
        for a in sorted(data.alerts, key=lambda a: (a.rule.value, a.scope))
    ]
    return _section(
        "alerts",
        "Alerts",
        "<p>A person is told when an alert fires, then by reminders, escalations and its end; "
        "a pending alert is recorded but not told. While a warning or urgent alert covers a "
        "body region, lesser alerts about it are <em>folded</em> into it: recorded here, not "
        "told separately.</p>",
        "<h3>History</h3>",
        _table([f"Time ({data.tz})", "Rule", "Scope", "Level", "Change", "Message"], events)
        if events
        else "<p>No alert changed in this period.</p>",
        f"<h3>States on {_when(data, data.until)}</h3>",
        _table(["Rule", "Scope", "Level", "State", f"Since ({data.tz})", "Message"], states)
        if states
        else "<p>No alert has been raised.</p>",
    )


def _change(event: AlertEvent) -> str:
    """The transition, and whether the person was told of it."""
    text = event.transition.value
    if event.alert.folded_into and event.transition is not Transition.FOLDED:
        text += f" (folded into {event.alert.folded_into})"
    if not event.notify and event.transition is not Transition.ACKNOWLEDGED:
        text += " (recorded, not told)"
    return text


def _worn(data: ReportData, figures: Mapping[str, bytes]) -> str:
    # Windows refused for good are time the sensor measured that counts nowhere: said here.
    refused = "".join(
        f'<p class="refused">{escape(wording.refused_windows(n, reason))}</p>'
        for reason, n in data.refused
    )
    if not data.sites:
        return _section("worn", "Time worn", _NO_SENSOR_DATA + refused)
    return _section(
        "worn",
        "Time worn",
        "<p>Hours per site and day with the sensor worn: observed rest (when twitches are "
        "counted) and activity (voluntary contraction or movement, not counted). Time without "
        f"a usable signal is not shown. A day counts for a site from {_minutes(data)} minutes "
        "of observed rest.</p>",
        _figure(figures, "worn.png", "Hours of observed rest and activity per site and day"),
        refused,
    )


def _method(data: ReportData) -> str:
    cfg = data.config
    obs, est, pers = cfg.observation, cfg.established, cfg.persistence
    text = (
        "Each sensor records surface EMG (the muscle's electrical activity) and movement "
        "(accelerometer). Twitches are short, isolated muscle potentials counted only while the "
        "muscle is at rest: time with voluntary contraction or movement, and time without a "
        "usable signal, is excluded, so rates are twitches per minute of observed rest. Cramps "
        f"are counted as single events. Days are calendar days in {data.tz}, the person's time "
        "zone (a day the clocks change has 23 or 25 hours). Thresholds in use: a day "
        f"counts for a site with at least {_minutes(data)} minutes of observed rest (less is no "
        f"data); a counted day is twitching at {obs.active_rate_per_min:g} or more twitches per "
        f"minute; twitching is established at {est.min_active_days} or more twitching days and "
        f"{est.min_active_fraction:.0%} of observed days within {est.window_days} days; it is "
        f"persistent at {pers.min_active_fraction:.0%} of at least {pers.min_observed_days} "
        f"observed days spanning {pers.min_span_days} days; widespread at "
        f"{cfg.spread.widespread_limb_groups} of 8 limb groups or "
        f"{cfg.spread.widespread_regions} regions. Limits: a surface sensor sees only the "
        "muscles beneath it, counts depend on "
        "placement and skin contact, and deep or distant muscles are not seen; what was not "
        "worn was not measured. The numbers describe what was recorded, not its cause."
    )
    return _section("method", "Method", f"<p>{escape(text)}</p>")


# --- pieces --------------------------------------------------------------------------------------


def _section(section_id: str, heading: str, *parts: str) -> str:
    inner = "\n".join(parts)
    return f'<section id="{section_id}">\n<h2>{escape(heading)}</h2>\n{inner}\n</section>'


def _figure(figures: Mapping[str, bytes], name: str, alt: str) -> str:
    png = figures[name]
    width, height = (round(n * _CSS_PX_PER_INCH / DPI) for n in png_size(png))
    source = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{source}" alt="{escape(alt)}" '
        f'width="{width}" height="{height}"></figure>'
    )


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """A table of cells that are already HTML (escaped by the caller)."""

    def cell(tag: str, i: int, text: str) -> str:
        return f'<{tag} class="num">{text}</{tag}>' if i in numeric else f"<{tag}>{text}</{tag}>"

    header = "".join(cell("th", i, escape(h)) for i, h in enumerate(head))
    body = "\n".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table>\n<thead><tr>{header}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _facts_list(facts: Sequence[tuple[str, str]]) -> str:
    items = "\n".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return f'<dl class="facts">\n{items}\n</dl>'


def _site_table(data: ReportData) -> str:
    rate = data.rate_per_min
    rows = []
    for i, site in enumerate(data.sites):
        region = region_of(site)
        observed = rate[i][np.isfinite(rate[i])]
        rows.append(
            [
                escape(wording.site_name(site)),
                escape(region.value if region else "–"),
                _num(int(data.worn[i].sum())),
                _num(int(data.observed[i].sum())),
                _num(int(data.active[i].sum())),
                _num(int(data.twitches[i].sum())),
                f"{np.median(observed):.2f}" if observed.size else "no data",
                f"{data.rest_s[i].sum() / 3600:.1f}",
            ]
        )
    return _table(
        [
            "Site",
            "Region",
            "Days worn",
            "Days observed",
            "Days twitching",
            "Twitches",
            "Median per min",
            "Rest (h)",
        ],
        rows,
        numeric=(2, 3, 4, 5, 6, 7),
    )


def _current_alert(data: ReportData, alert: AlertState) -> str:
    advice = ADVICE[alert.severity]
    message = alert.message if advice in alert.message else f"{alert.message} {advice}"
    pending = " (pending: not yet confirmed)" if alert.state is AlertStatus.PENDING else ""
    folded = f" (folded into {alert.folded_into})" if alert.folded_into else ""
    return (
        f"<li>{_severity(alert)} <strong>{escape(alert.rule.value)}</strong> "
        f"({escape(_scope(alert.scope))}){escape(pending + folded)}, since "
        f"{_when(data, alert.since)}: {escape(message)}</li>"
    )


def _severity(alert: AlertState) -> str:
    level = alert.severity.value
    return f'<span class="sev sev-{level}">{escape(level)}</span>'


def _scope(scope: str) -> str:
    """A site scope in words ("left calf"); regions, symptoms and "all" as they are."""
    return wording.site_name(scope) if region_of(scope) is not None else scope


def _value(report: Report) -> str:
    if report.value is None:
        return ""
    return _VALUE_FORMATS.get(report.kind, "{:g}").format(report.value)


def _period_text(data: ReportData) -> str:
    first, last = data.days[0], data.days[-1]
    return f"{_day(first)} to {_day(last)} ({wording.days(data.n_days)}, {escape(data.tz)})"


def _day(day: date) -> str:
    return escape(day.isoformat())


def _when(data: ReportData, t: datetime) -> str:
    """A time in the person's zone, with the zone's abbreviation (CET, PDT…)."""
    local = t.astimezone(data.zone)
    return escape(local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or data.tz))


def _num(n: int) -> str:
    return f"{n:,}"


def _minutes(data: ReportData) -> str:
    return f"{data.config.observation.min_rest_s_per_day / 60:g}"
