"""The server's tuning (ServerOptions) and its counters since start (ServerStats)."""

from __future__ import annotations

from dataclasses import dataclass

from server.ack_settle import SETTLE_S


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Tuning; the defaults suit one server for thousands of devices."""

    #: Most messages stored per transaction: larger batches amortise the commit's fsync.
    batch_max: int = 500
    #: MQTT 5 flow control: unacknowledged messages the broker may have in flight to us, which
    #: bounds what waits in memory (Mosquitto 2.0.11 overshoots it once acks flow:
    #: eclipse-mosquitto/mosquitto#2301).
    receive_maximum: int = 200
    #: The broker keeps our session, and queues messages for us, this long while we are down.
    session_expiry_s: int = 7 * 86400
    #: Retained alert states and events expire from the broker after this long (health data
    #: must not linger); a change republishes the state.
    alert_expiry_s: int = 30 * 86400
    #: A device's retained ack expires from the broker this long after the device's last
    #: window (every window that moves it publishes it again): a vanished device's ack does
    #: not stay retained for ever, and a restart republishes only the acks of recent devices.
    ack_expiry_s: int = 30 * 86400
    #: While messages keep arriving, users are evaluated at most this often (their data is
    #: marked in the store meanwhile); when the stream pauses, at once.
    evaluate_every_s: float = 1.0
    #: A round of evaluations stops after this long and the intake goes on (the rest wait in
    #: order): acks never wait for a thousand users' evaluations.
    evaluate_slice_s: float = 0.2
    #: Users with an open alert are evaluated on the wall clock at least this often, data or
    #: not: reminders are due by the hour at most, and a day's end passes once a day.
    tick_s: float = 3600.0
    #: The broker publishes our Last Will (status offline) only if we are not back within this
    #: long (MQTT 5 Will Delay Interval; 3.1.1 sends it at once): a short network drop or a
    #: restart does not flap Home Assistant's availability.
    will_delay_s: int = 30
    #: The retained status ("online", with the server's time ``at``) is published again this
    #: often: edges compare the fresh copies with their own clock (edge/wall_clock.py).
    status_every_s: float = 60.0
    #: Sharing the load, a device's ack is published once more from the database this long
    #: after this server last published it (server/ack_settle.py).
    ack_settle_s: float = SETTLE_S
    #: Backoff while the database is unavailable.
    retry_min_s: float = 0.2
    retry_max_s: float = 30.0
    #: How long a clean stop waits for the broker to acknowledge what we published.
    drain_s: float = 5.0
    #: A broker that does not answer within this long at start is an error (exit code 1).
    connect_timeout_s: float = 10.0


@dataclass(slots=True)
class ServerStats:
    """Counters since start (the store's ``rejects`` table keeps the rejections for good)."""

    batches: int = 0
    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    replayed: int = 0
    rejected: int = 0
    evaluations: int = 0
    ticks: int = 0  # wall-clock rounds over the users with open alerts
    deferred: int = 0  # users a tick left for later: their data was still arriving
    alert_states: int = 0
    alert_events: int = 0
    device_acks: int = 0
    db_retries: int = 0
