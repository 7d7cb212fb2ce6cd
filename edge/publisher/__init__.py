"""Outbox -> MQTT: every stored window reaches the server exactly once, whatever fails in between.

The publisher sends what the :class:`~edge.outbox.Outbox` holds (QoS 1, in seq order, a bounded
number awaiting PUBACK) and deletes windows only when the server's retained ack
(``<user>/<device>/ack``: every seq up to it is stored) covers them. Duplicates are harmless (the
server ignores a seq it has), losses are not, so it errs towards sending again:

- on every (re)connect, everything waiting is sent again (what paho still holds unacknowledged,
  paho itself re-sends);
- a window the broker acknowledged but the server's ack has not covered ``resend_after_s`` later
  is sent again, with a backoff while the server is down (:mod:`edge.publisher.resend`);
- an ack that goes back (the server lost or restored its database) sends everything waiting
  again, once, and every window says ``first_held``: the outbox holds nothing below that seq, so
  the server restarts the device's ack from there instead of waiting for windows long deleted.

A fresh outbox sends nothing until it knows where the server stands: a retained ack arrives
right after the subscription, before the broker acknowledges our "online" status. An ack
beyond our numbering means the outbox file was lost or replaced, and the outbox renumbers after
it (all of this: :mod:`edge.publisher.delivery`). The device's status topic says ``online``
(retained) on every connect; the Last Will and a clean stop say ``offline``, the Will only after
a delay, so a Wi-Fi blip does not flap the status. With a profile (``[mqtt] tz``: the person's
time zone) the publisher reads the retained ``<user>/profile`` and, when the config's zone changed
since it last published one, publishes it merged into that profile: the server cuts the person's
days in it (:mod:`edge.publisher.presence`).
"""

from edge.publisher.publisher import EdgePublisher
from edge.publisher.state import BrokerState, PublisherStats

__all__ = ["BrokerState", "EdgePublisher", "PublisherStats"]
