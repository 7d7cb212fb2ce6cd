"""The HTML pieces every section of the report page is built from: sections, figures, tables.

Cells and facts handed to these are HTML already (escaped by the caller); headings, alt texts
and labels are escaped here.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from server.report.figure_style import DPI
from twitchwatch.contract import AlertState

NO_SENSOR_DATA = "<p>No sensor data in this period: only reports.</p>"
_CSS_PX_PER_INCH = 96  # figures are shown at the size they print at


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def section(section_id: str, heading: str, *parts: str) -> str:
    """A ``<section>`` with its heading, then ``parts`` in order."""
    inner = "\n".join(parts)
    return f'<section id="{section_id}">\n<h2>{escape(heading)}</h2>\n{inner}\n</section>'


def figure(figures: Mapping[str, bytes], name: str, alt: str) -> str:
    """The PNG ``name`` of ``figures``, embedded at the size it prints at."""
    png = figures[name]
    width, height = (round(n * _CSS_PX_PER_INCH / DPI) for n in png_size(png))
    source = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{source}" alt="{escape(alt)}" '
        f'width="{width}" height="{height}"></figure>'
    )


def table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """A table of cells that are already HTML (escaped by the caller)."""

    def cell(tag: str, i: int, text: str) -> str:
        return f'<{tag} class="num">{text}</{tag}>' if i in numeric else f"<{tag}>{text}</{tag}>"

    header = "".join(cell("th", i, escape(h)) for i, h in enumerate(head))
    body = "\n".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table>\n<thead><tr>{header}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def facts_list(facts: Sequence[tuple[str, str]]) -> str:
    """A definition list of (label, HTML value) pairs."""
    items = "\n".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return f'<dl class="facts">\n{items}\n</dl>'


def severity_badge(alert: AlertState) -> str:
    """The alert's advice level as a coloured badge."""
    level = alert.severity.value
    return f'<span class="sev sev-{level}">{escape(level)}</span>'
