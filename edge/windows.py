"""Per-site detections -> UTC-aligned windows: what one device saw at each site, minute by minute.

Every device cuts time at the same UTC instants (multiples of ``window_s`` since the epoch, e.g.
10:00:00-10:01:00), so windows of different devices line up on the server. A window closes once
every site's detector has decided past its end, or, for a site that is silent, unplugged or slow
to decide, once the wall clock is ``close_after_s`` past its end. Whatever a site had not decided
by then is reported as ``gap_s``; detections arriving later for a closed window are dropped and
counted (that time was already reported as not observed, so nothing is counted twice).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np

from edge.detect import Detections
from edge.detect.detections import merge_spans
from edge.errors import WindowError
from twitchwatch.contract import (
    INTERNAL_UNIT,
    MAX_SITES_PER_WINDOW,
    MAX_WINDOW_S,
    MIN_WINDOW_S,
    Kind,
    Reason,
    SiteWindow,
)

WINDOW_S = 60.0
#: The detector holds a possible cramp up to 120 s before deciding it (its units must be known
#: first); waiting a little longer lets windows close with every site decided in the usual case.
CLOSE_AFTER_S = 150.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_S = 86_400
#: Exclusions that make a site "active" rather than unobserved.
_ACTIVE = frozenset({Reason.VOLUNTARY, Reason.MOTION})


class Window(NamedTuple):
    """One closed window of a device: ``[start, end)`` UTC and every configured site's share."""

    start: datetime
    end: datetime
    sites: dict[str, SiteWindow]


def check_window_s(window_s: float) -> float:
    """Whole seconds that divide a UTC day, so no window straddles midnight; else WindowError."""
    if not (
        MIN_WINDOW_S <= window_s <= MAX_WINDOW_S
        and float(window_s).is_integer()
        and _DAY_S % int(window_s) == 0
    ):
        raise WindowError(
            f"window of {window_s:g} s: use whole seconds from {MIN_WINDOW_S:g} to "
            f"{MAX_WINDOW_S:g} that divide a day (e.g. 60, 300, 900)"
        )
    return float(window_s)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _empty_spans() -> np.ndarray:
    return np.zeros((0, 2))


@dataclass
class _Site:
    """What one site has decided that no closed window has taken yet. Times: site seconds."""

    unit: str = INTERNAL_UNIT[Kind.EMG]
    t0_utc: datetime | None = None  # UTC of the site's sample 0; None: not streaming yet
    decided_until_s: float = -math.inf
    twitch_t_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    twitch_amplitude: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cramps: np.ndarray = field(default_factory=_empty_spans)  # (k, 2) [start_s, end_s)
    rest: np.ndarray = field(default_factory=_empty_spans)
    active: np.ndarray = field(default_factory=_empty_spans)  # voluntary or motion

    def seconds(self, t_utc: datetime) -> float:
        assert self.t0_utc is not None
        return (t_utc - self.t0_utc).total_seconds()

    def decided_utc(self) -> datetime | None:
        if self.t0_utc is None or not math.isfinite(self.decided_until_s):
            return None
        return self.t0_utc + timedelta(seconds=self.decided_until_s)

    def prune(self, before_s: float) -> None:
        """Forget what lies wholly before ``before_s`` (a closed window's end)."""
        keep = self.twitch_t_s >= before_s
        self.twitch_t_s, self.twitch_amplitude = self.twitch_t_s[keep], self.twitch_amplitude[keep]
        self.cramps = self.cramps[self.cramps[:, 0] >= before_s]
        self.rest = self.rest[self.rest[:, 1] > before_s]
        self.active = self.active[self.active[:, 1] > before_s]


class WindowBuilder:
    """Cuts one device's per-site detections into UTC-aligned windows.

    Parameters
    ----------
    sites : iterable of str
        The device's sites (contract ids). Each appears in every window; a site that is not
        streaming is all gap there.
    window_s : float
        Window length: whole seconds dividing a day (60 by default).
    close_after_s : float
        Close a window this long after its end even if a site has not decided that far.
    now : callable returning an aware datetime
        The wall clock (tests pass a fake one).
    resume_from_utc : datetime or None
        End of the last window a previous run emitted (the outbox knows it): windows start no
        earlier, so a restart never reports the same stretch of time twice.

    Use::

        builder = WindowBuilder(["left_calf"])
        builder.start("left_calf", t0_utc)  # the site's sample 0
        builder.add("left_calf", detector.poll())  # after every poll
        for start, end, sites in builder.close_due():  # periodically
            ...
        builder.flush()  # end of the run, after detector.finish() went through add()
    """

    def __init__(
        self,
        sites: Iterable[str],
        window_s: float = WINDOW_S,
        close_after_s: float = CLOSE_AFTER_S,
        *,
        now: Callable[[], datetime] = _utc_now,
        resume_from_utc: datetime | None = None,
    ) -> None:
        names = list(dict.fromkeys(sites))
        if not 1 <= len(names) <= MAX_SITES_PER_WINDOW:
            raise WindowError(f"a device reports 1-{MAX_SITES_PER_WINDOW} sites, got {len(names)}")
        if not close_after_s >= 0:
            raise WindowError(f"close_after_s must be >= 0, got {close_after_s}")
        self.window_s = check_window_s(window_s)
        self.close_after_s = float(close_after_s)
        self._window = timedelta(seconds=self.window_s)
        self._close_after = timedelta(seconds=self.close_after_s)
        self._now = now
        self._sites = {name: _Site() for name in names}
        self._resume_from = resume_from_utc
        self._next_start = self._first_start(self._align(now()))  # the next window to close
        self.late_dropped = 0  # twitches and cramps that arrived for a window already closed
        self.late_rest_s = 0.0  # rest that arrived for a window already closed (reported as gap)

    @property
    def sites(self) -> list[str]:
        return list(self._sites)

    @property
    def next_start_utc(self) -> datetime:
        """Start of the next window to close; everything before it has been emitted."""
        return self._next_start

    def _first_start(self, start: datetime) -> datetime:
        """``start``, or the end of the previous run's last window if that is later."""
        if self._resume_from is not None:
            return max(start, self._align(self._resume_from, up=True))
        return start

    def rebase(
        self, step: timedelta, wrong_before: datetime, wrong_since: datetime | None = None
    ) -> None:
        """The wall clock was wrong and has just stepped by ``step``: site starts it stamped move
        with it, and the next window starts at the earliest site start (what was detected
        meanwhile is windowed where it belongs). Stamped wrongly: earlier than ``wrong_before``
        (a clock before the release), or with ``wrong_since`` (a clock far from the server's),
        at or after that wall time by the wrong clock."""

        def wrong(t: datetime) -> bool:
            return t < wrong_before if wrong_since is None else t >= wrong_since

        starts = []
        for state in self._sites.values():
            if state.t0_utc is not None and wrong(state.t0_utc):
                state.t0_utc += step
            if state.t0_utc is not None:
                starts.append(state.t0_utc)
        if wrong_since is None:
            if self._next_start < wrong_before:
                self._next_start = self._first_start(self._align(min(starts, default=self._now())))
        elif self._next_start + self._window > wrong_since:  # set by the wrong clock
            # Windows cut before the server's time came stay as sent; the next one follows
            # on the right clock, so nothing detected while they waited is left out.
            self._next_start = self._first_start(self._align(self._next_start + step))

    def _align(self, t: datetime, up: bool = False) -> datetime:
        offset_s = (t - _EPOCH).total_seconds() / self.window_s
        n = math.ceil(offset_s) if up else math.floor(offset_s)
        return _EPOCH + n * self._window

    def _site(self, site: str) -> _Site:
        try:
            return self._sites[site]
        except KeyError:
            raise WindowError(
                f"site {site!r} is not one of this device's sites ({', '.join(self._sites)})"
            ) from None

    # --- input -------------------------------------------------------------------------------

    def start(self, site: str, t0_utc: datetime) -> None:
        """The site's streams began: its sample 0 was taken at ``t0_utc``."""
        if t0_utc.utcoffset() is None:
            raise WindowError(f"site {site!r}: t0_utc must be timezone-aware")
        state = self._site(site)
        if state.t0_utc is not None and state.t0_utc != t0_utc:
            raise WindowError(f"site {site!r} already started at {state.t0_utc.isoformat()}")
        state.t0_utc = t0_utc.astimezone(UTC)

    def add(self, site: str, found: Detections) -> None:
        """One poll's decisions of a started site."""
        state = self._site(site)
        if state.t0_utc is None:
            raise WindowError(f"site {site!r}: call start() before add()")
        closed_s = state.seconds(self._next_start)  # windows before this are closed
        state.unit = found.unit
        t = np.asarray(found.twitch_t_s, dtype=float)
        fresh = t >= closed_s
        self.late_dropped += int(np.count_nonzero(~fresh))
        state.twitch_t_s = np.concatenate((state.twitch_t_s, t[fresh]))
        state.twitch_amplitude = np.concatenate(
            (state.twitch_amplitude, np.asarray(found.twitch_amplitude, dtype=float)[fresh])
        )
        cramps = np.array([(c.start_s, c.end_s) for c in found.cramps]).reshape(-1, 2)
        fresh_cramps = cramps[:, 0] >= closed_s
        self.late_dropped += int(np.count_nonzero(~fresh_cramps))
        state.cramps = np.concatenate((state.cramps, cramps[fresh_cramps]))
        rest = np.asarray(found.rest_spans, dtype=float).reshape(-1, 2)
        kept = np.column_stack((np.maximum(rest[:, 0], closed_s), rest[:, 1]))
        kept = kept[kept[:, 0] < kept[:, 1]]
        self.late_rest_s += float(np.sum(rest[:, 1] - rest[:, 0]) - np.sum(kept[:, 1] - kept[:, 0]))
        state.rest = np.concatenate((state.rest, kept))
        active = np.array(
            [(i.start_s, i.end_s) for i in found.excluded if i.reason in _ACTIVE]
        ).reshape(-1, 2)
        state.active = np.concatenate((state.active, active[active[:, 1] > closed_s]))
        state.decided_until_s = max(state.decided_until_s, found.decided_until_s)

    # --- output ------------------------------------------------------------------------------

    def close_due(self) -> list[Window]:
        """Windows that every site has decided, or that the wall clock left behind; in order."""
        now = self._now()
        out = []
        while True:
            end = self._next_start + self._window
            decided = [s.decided_utc() for s in self._sites.values()]
            if not (
                all(d is not None and d >= end for d in decided) or now >= end + self._close_after
            ):
                return out
            out.append(self._close())

    def flush(self) -> list[Window]:
        """End of the run: close every window that has begun, or that holds decided data.

        Whatever was not decided in them is gap. Call after each detector's ``finish()`` went
        through :meth:`add`.
        """
        until = self._now()
        for state in self._sites.values():
            decided = state.decided_utc()
            if decided is not None:
                until = max(until, decided)
        out = self.close_due()
        while self._next_start < until:
            out.append(self._close())
        return out

    def _close(self) -> Window:
        start = self._next_start
        end = start + self._window
        sites = {name: self._site_window(state, start) for name, state in self._sites.items()}
        for state in self._sites.values():
            if state.t0_utc is not None:
                state.prune(state.seconds(end))
        self._next_start = end
        return Window(start, end, sites)

    def _site_window(self, state: _Site, start: datetime) -> SiteWindow:
        length_s = self.window_s
        if state.t0_utc is None:
            return SiteWindow(0, 0, 0.0, 0.0, length_s, None, state.unit)
        lo = state.seconds(start)
        hi = lo + length_s
        seen = max(lo, min(hi, state.decided_until_s))  # decided part: [lo, seen)
        inside = (state.twitch_t_s >= lo) & (state.twitch_t_s < hi)
        amplitudes = state.twitch_amplitude[inside]
        cramps = state.cramps[(state.cramps[:, 0] >= lo) & (state.cramps[:, 0] < hi)]
        # Rest, then active, then cramp time, each without what the ones before already claim.
        rest_s = _length(state.rest, lo, hi)
        claimed = np.concatenate((state.rest, state.active))
        active_s = _length(claimed, lo, seen) - _length(state.rest, lo, seen)
        cramp_s = _length(np.concatenate((claimed, state.cramps)), lo, seen) - _length(
            claimed, lo, seen
        )
        gap_s = max(0.0, length_s - rest_s - active_s - cramp_s)
        return SiteWindow(
            twitches=int(np.count_nonzero(inside)),
            cramps=int(cramps.shape[0]),
            rest_s=rest_s,
            active_s=max(0.0, active_s),
            gap_s=gap_s,
            amp_median=float(np.median(amplitudes)) if amplitudes.size else None,
            unit=state.unit,
        )


def _length(spans: np.ndarray, lo: float, hi: float) -> float:
    merged = merge_spans(spans, lo, hi)
    return float(np.sum(merged[:, 1] - merged[:, 0]))
