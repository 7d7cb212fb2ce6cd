"""Sensor clock -> host clock mapping, robust to notification delays.

A notification arrives some variable time after its last sample was taken; the smallest delays
trace the true clock relation (the "lower envelope", in the spirit of LSL clock sync). We keep the
minimum of ``host - sensor`` per bucket of sensor time and fit a line through those minima.
"""

from __future__ import annotations

import numpy as np

#: Sensor seconds per bucket: long enough to contain a near-minimum-delay frame, short enough to
#: follow temperature drift of a cheap crystal.
BUCKET_S = 2.0
#: Buckets kept for the fit (about 4 minutes of recent history).
MAX_BUCKETS = 128


class ClockFit:
    """Fits ``host_s = offset + rate * sensor_s`` from (sensor, host) observations."""

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[float, float]] = {}  # bucket -> (delay, sensor_s)

    def add(self, sensor_s: np.ndarray, host_s: np.ndarray) -> None:
        """Observations: sensor time of each frame's last sample and its host arrival time."""
        if len(sensor_s) == 0:
            return
        sensor_s = np.asarray(sensor_s, dtype=np.float64)
        delay = np.asarray(host_s, dtype=np.float64) - sensor_s
        bucket = np.floor(sensor_s / BUCKET_S).astype(np.int64)
        order = np.lexsort((delay, bucket))
        first = np.concatenate(([True], np.diff(bucket[order]) != 0))
        for i in order[first]:  # one entry per bucket touched by this batch
            key = int(bucket[i])
            old = self._buckets.get(key)
            if old is None or delay[i] < old[0]:
                self._buckets[key] = (float(delay[i]), float(sensor_s[i]))
        while len(self._buckets) > MAX_BUCKETS:
            del self._buckets[min(self._buckets)]

    def fit(self) -> tuple[float, float] | None:
        """(offset_s, rate) or None before two buckets of data exist."""
        if len(self._buckets) < 2:
            return None
        delay, sensor = np.array(list(self._buckets.values())).T
        slope, intercept = np.polyfit(sensor, delay, 1)
        return float(intercept), float(1.0 + slope)

    def drift_ppm(self) -> float | None:
        """How much faster the sensor clock runs than the host's, in parts per million."""
        fitted = self.fit()
        return None if fitted is None else (1.0 / fitted[1] - 1.0) * 1e6

    def host_s(self, sensor_s: float) -> float | None:
        fitted = self.fit()
        return None if fitted is None else fitted[0] + fitted[1] * sensor_s
