"""What has been decided at each site since the agent started: a :class:`DetectionSink`."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.detect import Detections
from edge.detection import DetectionSink, SensorStart
from twitchwatch.contract import Reason

#: Rates per minute need this much observed rest (detector.md §6), as in ``analyze``.
MIN_REST_FOR_RATE_S = 60.0


@dataclass
class SiteTotals:
    """Twitches, rest, cramps and excluded time of one site so far."""

    site: str
    twitches: int = 0
    rest_s: float = 0.0
    cramps: int = 0
    excluded_s: dict[Reason, float] = field(default_factory=lambda: dict.fromkeys(Reason, 0.0))
    _reach_s: dict[Reason, float] = field(default_factory=lambda: dict.fromkeys(Reason, 0.0))

    def add(self, found: Detections) -> None:
        self.twitches += int(found.twitch_t_s.size)
        self.rest_s += found.rest_s
        self.cramps += len(found.cramps)
        for interval in sorted(found.excluded, key=lambda i: i.start_s):
            # Overlapping exclusions of one reason (motion seen by EMG and by ACC) count once.
            reach = self._reach_s[interval.reason]
            self.excluded_s[interval.reason] += max(
                0.0, interval.end_s - max(interval.start_s, reach)
            )
            self._reach_s[interval.reason] = max(reach, interval.end_s)

    @property
    def per_min(self) -> float | None:
        if self.rest_s < MIN_REST_FOR_RATE_S:
            return None
        return self.twitches / (self.rest_s / 60.0)


class Totals(DetectionSink):
    """One :class:`SiteTotals` per site that streamed."""

    def __init__(self) -> None:
        self._sites: dict[str, SiteTotals] = {}

    def on_start(self, start: SensorStart) -> None:
        self._sites.setdefault(start.site, SiteTotals(start.site))

    def on_detections(self, sensor: str, site: str, found: Detections) -> None:
        self._sites[site].add(found)

    def sites(self) -> list[SiteTotals]:
        return sorted(self._sites.values(), key=lambda t: t.site)

    def get(self, site: str) -> SiteTotals | None:
        return self._sites.get(site)


def format_totals(totals: list[SiteTotals]) -> list[str]:
    """Plain-text table of the detector's figures per site."""
    lines = [
        f"{'site':<16}{'twitches':>9}{'rest':>8}{'per min':>9}{'cramps':>7}"
        f"{'voluntary':>10}{'motion':>8}{'artifact':>9}{'gap':>7}"
    ]
    for t in totals:
        rate = "…" if t.per_min is None else f"{t.per_min:.1f}"
        ex = t.excluded_s
        lines.append(
            f"{t.site:<16}{t.twitches:>9}{t.rest_s:>7.0f}s{rate:>9}{t.cramps:>7}"
            f"{ex[Reason.VOLUNTARY]:>9.0f}s{ex[Reason.MOTION]:>7.0f}s"
            f"{ex[Reason.ARTIFACT]:>8.0f}s{ex[Reason.GAP]:>6.0f}s"
        )
    return lines
