"""The agent's publishing half: live detections -> windows -> outbox -> MQTT, on the agent's tick."""

from __future__ import annotations

from collections.abc import Iterable

from edge.config import MqttConfig
from edge.outbox import Outbox
from edge.publisher import EdgePublisher
from edge.windows import WindowBuilder

#: A clean stop waits this long for the server to ack the last windows (else: the next run).
STOP_GRACE_S = 3.0


class Uplink:
    """The agent's publishing half: windows cut from live detection, stored, then published.

    Use::

        uplink = await Uplink.start(sites, mqtt_config)
        detection = LiveDetection(windows=uplink.windows)
        ...  # on every agent tick:
        uplink.tick()
        ...  # after detection.close():
        await uplink.stop()
    """

    def __init__(self, windows: WindowBuilder, publisher: EdgePublisher) -> None:
        self.windows, self.publisher = windows, publisher

    @classmethod
    async def start(cls, sites: Iterable[str], mqtt: MqttConfig) -> Uplink:
        outbox = Outbox(mqtt.outbox_path, mqtt.user, mqtt.device)
        try:
            # Start after the last window a previous run stored: no stretch is reported twice.
            windows = WindowBuilder(sites, mqtt.window_s, resume_from_utc=outbox.last_end_utc)
            publisher = EdgePublisher(outbox, mqtt.broker, protocol=mqtt.protocol)
            await publisher.start()
        except BaseException:
            outbox.close()
            raise
        return cls(windows, publisher)

    def tick(self) -> None:
        """Store and send every window that is due."""
        self.publisher.add_windows(self.windows.close_due())

    def status(self) -> str:
        late = self.windows.late_dropped
        return self.publisher.format_stats() + (f", {late} late detections dropped" if late else "")

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """End of the run (after the detectors finished): the last windows, a short wait for
        the server's ack, "offline". What is not acked stays in the outbox for the next run."""
        try:
            self.publisher.add_windows(self.windows.flush())
            await self.publisher.close(grace_s)
        finally:
            self.publisher.outbox.close()
