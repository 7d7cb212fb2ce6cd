"""The report's region chart: each body region's state by day, and the limb groups beneath."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from server.report.chart_parts import (
    category_rows,
    date_axis,
    day_centres,
    new_figure,
    no_data_background,
    x_limits,
)
from server.report.data import RegionStatus, ReportData
from server.report.figure_style import FONT_SIZE, NO_DATA_STYLE, OKABE_ITO, THRESHOLD_COLOR
from server.report.formats import region_label
from twitchwatch.contract import Region

#: Region states, lightest to darkest; NOT_OBSERVED is left transparent over the hatching.
_REGION_COLORS = {
    RegionStatus.STILL: "#f2eecb",
    RegionStatus.ACTIVE: colormaps["cividis"](0.6),
    RegionStatus.ESTABLISHED: colormaps["cividis"](0.05),
}
_REGION_LABELS = {
    RegionStatus.STILL: "observed, no twitching",
    RegionStatus.ACTIVE: "twitching that day",
    RegionStatus.ESTABLISHED: "established twitching",
}


def region_strip(data: ReportData) -> Figure:
    """Regions x days (not observed / still / twitching / established), limb groups beneath."""
    widespread = data.config.spread.widespread_limb_groups
    fig = new_figure(2.9)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    no_data_background(top)
    status = np.ma.masked_equal(data.regions, RegionStatus.NOT_OBSERVED)
    colors = ListedColormap([_REGION_COLORS[s] for s in sorted(_REGION_COLORS)])
    top.imshow(
        status,
        aspect="auto",
        interpolation="nearest",
        cmap=colors.with_extremes(bad=(0, 0, 0, 0)),
        vmin=RegionStatus.STILL - 0.5,
        vmax=RegionStatus.ESTABLISHED + 0.5,
        extent=(*x_limits(data.days), len(Region) - 0.5, -0.5),
    )
    category_rows(top, [region_label(r) for r in Region])
    x = day_centres(data.days)
    bottom.step(x, data.limb_groups, where="mid", color=OKABE_ITO[0], linewidth=1.5)
    bottom.axhline(widespread, color=THRESHOLD_COLOR, linestyle="--", linewidth=0.9)
    bottom.set_ylim(-0.3, 8.3)
    bottom.set_yticks(range(0, 9, 2))
    bottom.set_title(
        "Limb groups (of 8) with established twitching", loc="left", fontsize=FONT_SIZE, pad=2
    )
    date_axis(bottom, data.days)
    fig.legend(
        handles=[
            *(Patch(color=_REGION_COLORS[s], label=_REGION_LABELS[s]) for s in _REGION_COLORS),
            Patch(**NO_DATA_STYLE, label="not observed"),
            Line2D(
                [],
                [],
                color=THRESHOLD_COLOR,
                linestyle="--",
                label=f"widespread: {widespread} of 8 limb groups",
            ),
        ],
        loc="outside lower left",
        ncols=3,
        frameon=False,
    )
    return fig
