"""The twitch detector: streaming, vectorized, honest about what it did not see.

``SiteDetector`` takes one body site's EMG and/or accelerometer samples in chunks of any size and
returns twitches, cramps, excluded intervals (voluntary, motion, artifact, gap: one reason per
instant, with its evidence) and the rest time in which twitches could be counted. It only
orchestrates: a lane per stream (``lanes``: intake, then the front ends ``emg`` and ``acc``,
``activity`` and ``cramp``, ``trains``, then ``claims``) and ``judge`` (with ``partition``);
the steps are array functions over carried state. ``DetectorConfig`` holds every setting with
its reason.
"""

from .config import DetectorConfig
from .design import RateError
from .detections import Cramp, Detections, Interval
from .site import DetectorInputError, SiteDetector

__all__ = [
    "Cramp",
    "Detections",
    "DetectorConfig",
    "DetectorInputError",
    "Interval",
    "RateError",
    "SiteDetector",
]
