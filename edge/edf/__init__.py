"""EDF+/BDF files: reading for ``twitchwatch analyze``, EDF+ writing for ``edge run --record``.

The halves live in :mod:`edge.edf.read` and :mod:`edge.edf.write`, the label conventions both use
in :mod:`edge.edf.labels`; this package is the one name to import them by.
"""

from edge.edf.read import Recording, RecordingError, SiteSignals, open_recording
from edge.edf.write import (
    DEFAULT_FULL_SCALE,
    EdfRecorder,
    RecorderError,
    StreamCounts,
    record_duration_s,
)

__all__ = [
    "DEFAULT_FULL_SCALE",
    "EdfRecorder",
    "RecorderError",
    "Recording",
    "RecordingError",
    "SiteSignals",
    "StreamCounts",
    "open_recording",
    "record_duration_s",
]
