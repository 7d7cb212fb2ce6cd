"""EDF+/BDF files: reading for ``twitchwatch analyze``, EDF+ writing for ``edge run --record``.

The two halves live in :mod:`edge.edf_read` and :mod:`edge.edf_write`; this module is the one
name to import them by.
"""

from edge.edf_read import Recording, RecordingError, SiteSignals, open_recording
from edge.edf_write import (
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
