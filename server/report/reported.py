"""The report's sections of what was reported and told: the person's reports and the alerts."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from server import wording
from server.report.data import ReportData
from server.report.formats import report_value, scope_name, when
from server.report.markup import figure, section, severity_badge, table
from twitchwatch.contract import CONTEXT_REPORTS, AlertEvent, Transition


def symptoms_section(data: ReportData, figures: Mapping[str, bytes]) -> str:
    """The person's reports: symptoms and context, by time."""
    if not data.reports:
        return section("symptoms", "Reported symptoms and context", "<p>Nothing was reported.</p>")
    rows = [
        [
            when(data, r.t),
            escape(r.kind.value) + ("" if r.kind in CONTEXT_REPORTS else " (symptom)"),
            escape(wording.site_name(r.site)) if r.site else "",
            escape(report_value(r)),
            escape(r.note or ""),
        ]
        for r in data.reports
    ]
    return section(
        "symptoms",
        "Reported symptoms and context",
        "<p>What the person reported: symptoms (weakness, atrophy, numbness, speech, "
        "swallowing, breathing) and context that makes twitching more likely (caffeine, "
        "sleep, stress, exercise, medication, dehydration, nicotine, alcohol).</p>",
        figure(figures, "symptoms.png", "Reports by kind over time"),
        table([f"Time ({data.tz})", "Kind", "Site", "Value", "Note"], rows),
    )


def alerts_section(data: ReportData) -> str:
    """Every alert change in the period, then each alert's state at its end."""
    events = [
        [
            when(data, e.t),
            escape(e.alert.rule.value),
            escape(scope_name(e.alert.scope)),
            severity_badge(e.alert),
            escape(_change(e)),
            escape(e.alert.message),
        ]
        for e in data.events
    ]
    states = [
        [
            escape(a.rule.value),
            escape(scope_name(a.scope)),
            severity_badge(a),
            escape(a.state.value)
            + (" (seen)" if a.acknowledged else "")
            + (f" (folded into {escape(a.folded_into)})" if a.folded_into else ""),
            when(data, a.since),
            escape(a.message),
        ]
        for a in sorted(data.alerts, key=lambda a: (a.rule.value, a.scope))
    ]
    return section(
        "alerts",
        "Alerts",
        "<p>A person is told when an alert fires, then by reminders, escalations and its end; "
        "a pending alert is recorded but not told. While a warning or urgent alert covers a "
        "body region, lesser alerts about it are <em>folded</em> into it: recorded here, not "
        "told separately.</p>",
        "<h3>History</h3>",
        table([f"Time ({data.tz})", "Rule", "Scope", "Level", "Change", "Message"], events)
        if events
        else "<p>No alert changed in this period.</p>",
        f"<h3>States on {when(data, data.until)}</h3>",
        table(["Rule", "Scope", "Level", "State", f"Since ({data.tz})", "Message"], states)
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
