"""One body site: its EMG and accelerometer streams, combined into twitches, cramps, exclusions.

Times are seconds from sample 0 of the site's streams (both streams of a sensor start together).
Every decision is made once all of its inputs are final, so feeding the same samples in any
chunks gives the same detections. The work is done by the stages this class orchestrates: a
lane per stream (``lanes``: intake, front end, trackers, claims) and ``judge.judge``.
"""

from __future__ import annotations

import numpy as np

from edge.errors import DetectorInputError
from twitchwatch.contract import INTERNAL_UNIT, Kind

from .config import DetectorConfig
from .detections import Cramp, Detections
from .judge import Pending, judge
from .lanes import AccLane, EmgLane, Sink
from .partition import Claim


class SiteDetector:
    """Streaming twitch detector for one site with EMG, acceleration, or both.

    Parameters
    ----------
    site : str
        Contract site id (reported as given).
    emg_fs, acc_fs : float or None
        Sampling rates of the site's streams in Hz; None when the site has no such stream.
    config : DetectorConfig

    Use::

        det = SiteDetector("left_calf", emg_fs=2000.0, acc_fs=None)
        det.feed(Kind.EMG, 0, emg_uv)  # (n,) or (1, n) µV, any chunk size; ACC (3, n) or (1, n) g
        new = det.poll()  # Detections decided so far
        rest = det.finish()  # end of the recording
    """

    def __init__(
        self,
        site: str,
        *,
        emg_fs: float | None,
        acc_fs: float | None,
        config: DetectorConfig | None = None,
    ) -> None:
        if emg_fs is None and acc_fs is None:
            raise ValueError("a site needs an EMG or an accelerometer stream")
        self.site = site
        self.config = cfg = config or DetectorConfig()
        sink = Sink(self._add_claims, self._add_cramps, self._add_candidates)
        self._emg = (
            EmgLane(site, emg_fs, cfg, acc_fs is not None, sink) if emg_fs is not None else None
        )
        self._acc = AccLane(site, acc_fs, cfg, emg_fs is None, sink) if acc_fs is not None else None
        self._lanes = [lane for lane in (self._emg, self._acc) if lane is not None]
        self._pending = Pending()  # decided, waiting for every stream to be final
        self._new = Detections(unit=INTERNAL_UNIT[Kind.EMG if emg_fs is not None else Kind.ACC])
        self._judged_until_s = 0.0

    def feed(self, kind: Kind, start: int, data: np.ndarray) -> None:
        """Samples ``[start, start + n)`` of one stream: EMG (n,) or (1, n) µV; ACC (3, n) g, or
        (1, n) from a one-axis accelerometer (always the same number of axes per site)."""
        if not isinstance(kind, Kind):  # a string such as "emg"; Kind(...) costs ~1 µs a call
            kind = Kind(kind)
        lane = self._emg if kind is Kind.EMG else self._acc
        if lane is None:
            what = "EMG" if kind is Kind.EMG else "acceleration"
            raise DetectorInputError(self.site, kind, f"this site was set up without {what}")
        lane.feed(start, np.asarray(data))

    def poll(self) -> Detections:
        """Detections decided since the last poll."""
        if any(lane.moved for lane in self._lanes):  # else nothing became final (50 ms chunks)
            for lane in self._lanes:
                lane.moved = False
            self._judge(self._final_s())
        return self._hand_out()

    def finish(self) -> Detections:
        """End of the recording: decide everything; trailing unprocessed samples are a gap."""
        ends = [lane.finish() for lane in self._lanes]
        self._judge(max([0.0, *(e for e in ends if e is not None)]), final=True)
        return self._hand_out()

    def _final_s(self) -> float:
        """Every stream's decisions are final before this time."""
        if any(lane.state is None for lane in self._lanes):  # until both streams have started
            return 0.0
        pad = max(self.config.motion_pad_s, self.config.exclusion_pad_s)
        return min(lane.final_s() for lane in self._lanes) - pad

    def _judge(self, until_s: float, final: bool = False) -> None:
        """Judge everything decided before ``until_s`` (see judge.judge)."""
        if until_s <= self._judged_until_s and not final:
            return
        until_s = max(until_s, self._judged_until_s)
        self._pending = judge(self._pending, self._judged_until_s, until_s, final, self._new)
        self._judged_until_s = until_s

    def _hand_out(self) -> Detections:
        out = self._new
        self._new = Detections(unit=out.unit, decided_until_s=self._judged_until_s)
        return out

    # --- the lanes' sink ---------------------------------------------------------------------

    def _add_claims(self, claims: list[Claim]) -> None:
        self._pending.claims += claims

    def _add_cramps(self, cramps: list[Cramp]) -> None:
        self._new.cramps += cramps

    def _add_candidates(self, t_s: np.ndarray, amplitude: np.ndarray, dur_s: np.ndarray) -> None:
        self._pending.add_candidates(t_s, amplitude, dur_s)
