"""Simulated physiology of one body site: surface EMG, 3-axis acceleration and ground truth.

``SiteGenerator(model, seed)`` renders any sample range of either signal and lists the truth
events of any time span; the same ``(model, seed)`` always gives bit-identical results,
however the ranges are chunked or ordered. Numbers follow DESIGN.md ("Physiology the simulator
and detector must respect") and research/detector.md §2.
"""

from .generator import SiteGenerator
from .model import (
    EMG_RAIL_UV,
    PRESETS,
    SiteModel,
    TruthEvent,
    TruthKind,
    default_site_model,
)

__all__ = [
    "EMG_RAIL_UV",
    "PRESETS",
    "SiteGenerator",
    "SiteModel",
    "TruthEvent",
    "TruthKind",
    "default_site_model",
]
