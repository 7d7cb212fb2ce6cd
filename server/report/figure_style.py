"""How the report's figures look: size, resolution, fonts and colours (no matplotlib here).

The page reads :data:`DPI` to show each figure at the size it prints at, without loading
matplotlib; only drawing a report needs it.
"""

from __future__ import annotations

DPI = 150
WIDTH_IN = 7.2  # the text width of an A4 page with 15 mm margins
FONT_SIZE = 8
#: Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",
)
NO_DATA_STYLE = {"facecolor": "#ececec", "edgecolor": "#b4b4b4", "hatch": "////", "linewidth": 0}
THRESHOLD_COLOR = "#444444"
BAR_WIDTH = 0.8  # of a day
