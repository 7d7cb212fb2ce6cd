"""The report's figures: matplotlib's object API (no pyplot, no GUI), one Figure per chart.

Each chart function builds a :class:`~matplotlib.figure.Figure` (tests inspect its artists);
:func:`render_figures` turns them into PNG bytes. One module per section's charts
(:mod:`.rate_charts`, :mod:`.region_chart`, :mod:`.diary_charts`), sharing :mod:`.chart_parts`
and the look of :mod:`.figure_style`.

Deterministic: a fixed size and dpi, and no software or time stamp in the PNG, so the same data
gives the same bytes. Colours are colour-blind safe: cividis for quantities, the Okabe-Ito
palette for categories. "No data" is always the same light grey hatching, never a colour of
the scale, so an unworn day cannot be read as a quiet one.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from server.report.data import ReportData
from server.report.diary_charts import cramp_bars, report_timeline, worn_bars
from server.report.figure_style import DPI
from server.report.rate_charts import rate_heatmap, rate_lines
from server.report.region_chart import region_strip


def render_figures(data: ReportData) -> dict[str, bytes]:
    """Every figure the data allows as PNG, by file name, in page order.

    A chart without anything to show is left out: no sites (only reports), no cramps, no reports.
    """
    figures: dict[str, Figure] = {}
    if data.sites:
        figures["rates_heatmap.png"] = rate_heatmap(data)
        figures["rates_by_site.png"] = rate_lines(data)
        figures["regions.png"] = region_strip(data)
    if data.cramps.any():
        figures["cramps.png"] = cramp_bars(data)
    if data.reports:
        figures["symptoms.png"] = report_timeline(data)
    if data.sites:
        figures["worn.png"] = worn_bars(data)
    return {name: to_png(fig) for name, fig in figures.items()}


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes at :data:`DPI`, with no software or time stamp in them."""
    with io.BytesIO() as buffer:
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()
