"""The report's summary section: the disclaimer, the facts, current alerts and a row per site."""

from __future__ import annotations

from html import escape

import numpy as np

from server import wording
from server.report.data import ReportData
from server.report.formats import num, period_text, scope_name, when
from server.report.markup import NO_SENSOR_DATA, facts_list, section, severity_badge, table
from twitchwatch.contract import ADVICE, AlertState, AlertStatus, region_of

DISCLAIMER = (
    "TwitchWatch is not a diagnostic device: it reports what sensors measured and what the "
    "person reported, with the usual advice for such measurements. It does not diagnose any "
    "condition; only a doctor who examines the person can judge what these numbers mean."
)


def summary_section(data: ReportData) -> str:
    """What a reader needs first: the period, totals, current alerts, each site."""
    firing = [a for a in data.alerts if a.state is not AlertStatus.RESOLVED]
    firing.sort(key=lambda a: (-a.severity.rank, a.folded_into or "", a.rule.value, a.scope))
    facts = [
        ("Person", escape(data.user)),
        ("Period", period_text(data)),
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
    return section(
        "summary",
        "Summary",
        f'<p class="note">{escape(DISCLAIMER)}</p>',
        facts_list(facts),
        "<h3>Current alerts</h3>",
        alerts,
        "<h3>Per site</h3>",
        _site_table(data) if data.sites else NO_SENSOR_DATA,
    )


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
                num(int(data.worn[i].sum())),
                num(int(data.observed[i].sum())),
                num(int(data.active[i].sum())),
                num(int(data.twitches[i].sum())),
                f"{np.median(observed):.2f}" if observed.size else "no data",
                f"{data.rest_s[i].sum() / 3600:.1f}",
            ]
        )
    return table(
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
        f"<li>{severity_badge(alert)} <strong>{escape(alert.rule.value)}</strong> "
        f"({escape(scope_name(alert.scope))}){escape(pending + folded)}, since "
        f"{when(data, alert.since)}: {escape(message)}</li>"
    )
