"""The report page: one self-contained HTML file (inline CSS, figures as data: URIs, no script).

Built from strings, every value passed through :func:`html.escape`: notes are the person's own
text, and even site ids and messages come from a database other programs may write to.

This module puts the page together and closes it with the method; the sections are in
:mod:`.summary`, :mod:`.measured` (what sensors measured) and :mod:`.reported` (what the person
reported, and the alerts), built from :mod:`.markup` and :mod:`.formats`.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from server.report.css import PAGE_CSS
from server.report.data import ReportData
from server.report.formats import minutes, period_text, when
from server.report.markup import section
from server.report.measured import cramps_section, rates_section, regions_section, worn_section
from server.report.reported import alerts_section, symptoms_section
from server.report.summary import summary_section


def render_html(data: ReportData, figures: Mapping[str, bytes]) -> str:
    """The whole page for ``data`` with ``figures`` (file name -> PNG) embedded."""
    title = f"TwitchWatch report: {data.user}"
    body = "\n".join(
        [
            "<header>",
            f"<h1>{escape(title)}</h1>",
            f'<p class="meta">{period_text(data)} · data up to {when(data, data.until)} · '
            f"from {escape(data.source)}</p>",
            "</header>",
            summary_section(data),
            rates_section(data, figures),
            regions_section(data, figures),
            cramps_section(data, figures),
            symptoms_section(data, figures),
            alerts_section(data),
            worn_section(data, figures),
            _method(data),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
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
        f"counts for a site with at least {minutes(data)} minutes of observed rest (less is no "
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
    return section("method", "Method", f"<p>{escape(text)}</p>")
