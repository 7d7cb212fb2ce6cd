"""The agent's publishing half: closed windows -> outbox (SQLite) -> MQTT, until the server acks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from edge.config import MqttConfig
from edge.errors import BrokerLoginError, BrokerNotAuthorizedError
from edge.outbox import Outbox
from edge.publisher import BrokerState, EdgePublisher, PublisherStats
from edge.windows import Window
from twitchwatch.contract import Profile
from twitchwatch.mqtt_link import BrokerUrl

#: A clean stop waits this long for the server to ack the last windows (else: the next run).
STOP_GRACE_S = 3.0


def _address(broker: BrokerUrl) -> str:
    """``mqtt://host:port`` without credentials: what a person checks against their broker."""
    return f"{'mqtts' if broker.tls else 'mqtt'}://{broker.host}:{broker.port}"


def _where(config: Path | None) -> str:
    return str(config) if config is not None else "the edge config"


class Uplink:
    """Windows stored in the outbox, then published; deleted once the server acknowledged them.

    Use::

        uplink = await Uplink.start(mqtt_config)
        ...  # on every agent tick:
        uplink.send(windows.close_due())
        uplink.raise_if_refused(config_path)
        ...  # at the end:
        await uplink.stop(windows.flush())
    """

    def __init__(self, publisher: EdgePublisher) -> None:
        self.publisher = publisher

    @classmethod
    async def start(cls, mqtt: MqttConfig) -> Uplink:
        outbox = Outbox(mqtt.outbox_path, mqtt.user, mqtt.device)
        try:
            profile = None if mqtt.tz is None else Profile(mqtt.tz)
            publisher = EdgePublisher(outbox, mqtt.broker, protocol=mqtt.protocol, profile=profile)
            await publisher.start()
        except BaseException:
            outbox.close()
            raise
        return cls(publisher)

    @property
    def broker(self) -> BrokerUrl:
        return self.publisher.broker

    @property
    def resume_from_utc(self) -> datetime | None:
        """The end of the last window a previous run stored: no stretch is reported twice."""
        return self.publisher.outbox.last_end_utc

    def send(self, windows: Iterable[Window]) -> None:
        """Store ``windows`` in the outbox and publish them."""
        self.publisher.add_windows(windows)

    def stats(self) -> PublisherStats:
        return self.publisher.stats

    def raise_if_refused(self, config: Path | None = None) -> None:
        """Raise a one-line error if the broker refuses this device for good (login or ACL).

        An unreachable broker is not an error: windows wait in the outbox until it answers.
        """
        state = self.publisher.state
        if state is BrokerState.LOGIN_REFUSED:
            raise BrokerLoginError(self.broker, config)
        if state is BrokerState.NOT_AUTHORIZED and self.publisher.denied_topic is not None:
            raise BrokerNotAuthorizedError(self.broker, self.publisher.denied_topic, config)

    async def stop(self, last: Iterable[Window] = (), grace_s: float = STOP_GRACE_S) -> None:
        """End of the run: the ``last`` windows, a short wait for the server's ack, "offline".
        What is not acked stays in the outbox for the next run."""
        if self.publisher.state is not BrokerState.CONNECTED:
            grace_s = 0.0  # nobody to ack them: the outbox keeps them for the next run
        try:
            self.publisher.add_windows(last)
            await self.publisher.close(grace_s)
        finally:
            self.publisher.outbox.close()
