"""The pinned EDF+ label conventions (DESIGN.md), both ways: ``EMG <site>``, ``ACC X <site>``…

Labels hold 16 characters, so writers may shorten ``left_``/``right_`` to ``l_``/``r_`` and drop the
space after ``ACC``; readers accept every spelling (case and spacing too).
"""

from __future__ import annotations

import re
from pathlib import Path

from edge.errors import RecorderError
from edge.stream import StreamInfo
from twitchwatch.contract import Kind, Reason

MAX_LABEL_CHARS = 16  # EDF header field
MAX_ANNOTATION_CHARS = 40  # EDFlib's EDFLIB_WRITE_MAX_ANNOTATION_LEN

#: ``EMG <site>`` or ``ACC <axis> <site>`` (the axis space optional) after whitespace is collapsed.
LABEL = re.compile(r"^(?:(?P<emg>emg)|acc ?(?P<axis>[xyz])) (?P<site>\S.*)$", re.IGNORECASE)
ACC_AXES = ("x", "y", "z")


def signal_name(kind: Kind, axis: str, site: str) -> str:
    return f"EMG {site}" if kind == Kind.EMG else f"ACC {axis.upper()} {site}"


def stream_labels(path: Path, info: StreamInfo) -> tuple[str, ...]:
    """EDF labels of a stream's signals, within 16 characters (module docstring)."""
    if info.kind == Kind.EMG:
        if info.n_channels != 1:
            raise RecorderError(
                path, f"EMG {info.site}: one channel per EMG stream, got {info.channels}"
            )
        prefixes: list[tuple[str, ...]] = [("EMG",)]
    else:
        axes = tuple(c.upper() for c in info.channels)
        if axes not in (("X", "Y", "Z"), ("X",)):  # three axes, or a one-axis sensor's X
            raise RecorderError(
                path, f"ACC {info.site}: channels must be x, y, z (or x alone), got {info.channels}"
            )
        prefixes = [tuple(f"ACC {a}" for a in axes), tuple(f"ACC{a}" for a in axes)]
    shortened = short_site(info.site)
    for prefix in prefixes:
        for site in dict.fromkeys((info.site, shortened)):
            labels = tuple(f"{p} {site}" for p in prefix)
            if max(len(label) for label in labels) <= MAX_LABEL_CHARS and labels[0].isascii():
                return labels
    raise RecorderError(
        path, f"site {info.site!r} makes EDF labels longer than {MAX_LABEL_CHARS} ASCII characters"
    )


def gap_text(info: StreamInfo) -> str:
    """``gap EMG left_calf``; plain ``gap`` (every stream) if the site is too long to name."""
    for site in (info.site, short_site(info.site)):
        text = f"{Reason.GAP.value} {info.kind.value.upper()} {site}"
        if len(text) <= MAX_ANNOTATION_CHARS:
            return text
    return Reason.GAP.value


def short_site(site: str) -> str:
    for side in ("left", "right"):
        if site.startswith(f"{side}_"):
            return f"{side[0]}_{site.removeprefix(f'{side}_')}"
    return site
