"""The windows' way from the outbox to the server: published until the server's ack covers them.

Windows go in seq order at QoS 1, at most ``max_in_flight`` awaiting the broker's PUBACK, and
leave the outbox only when the server's retained ack covers them. A window the broker
acknowledged but the ack has not covered in time goes again (:mod:`edge.publisher.resend`). An
ack that goes back sends everything still held again; an ack beyond our numbering renumbers the
outbox after it. The publisher's tasks drive this: :meth:`Delivery.send_due` whenever they wake,
:meth:`Delivery.on_ack` for every ack.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from functools import partial

from edge.errors import OutboxError
from edge.outbox import Outbox
from edge.publisher.resend import ResendSchedule
from edge.publisher.state import TopicDenial
from twitchwatch.contract import DeviceAck, PayloadError, WindowMessage
from twitchwatch.mqtt_link import MqttLink

log = logging.getLogger(__name__)


class Delivery:
    """One device's windows on their way to the server, across reconnects.

    Parameters
    ----------
    outbox : Outbox
        Where the windows wait, numbered.
    topic : str
        The device's windows topic.
    max_in_flight : int
        Windows awaiting PUBACK at once.
    resend : ResendSchedule
        When a broker-acknowledged window goes again.
    clock : callable
        Monotonic seconds.
    wake : asyncio.Event
        Set when something may be due: an ack, a PUBACK.
    denial : TopicDenial
        Notes a window the broker's ACL refused.
    stopping : callable
        True while the publisher stops: a PUBACK arriving then changes nothing.
    """

    def __init__(
        self,
        outbox: Outbox,
        topic: str,
        *,
        max_in_flight: int,
        resend: ResendSchedule,
        clock: Callable[[], float],
        wake: asyncio.Event,
        denial: TopicDenial,
        stopping: Callable[[], bool],
    ) -> None:
        self.outbox, self.topic, self.device = outbox, topic, outbox.device
        self.max_in_flight = max_in_flight
        self.resend = resend
        self._clock = clock
        self._wake = wake
        self._denial = denial
        self._stopping = stopping
        self._cursor = 0  # highest seq sent on this connection (in seq order)
        self.in_flight: dict[int, asyncio.Future[None]] = {}  # seq -> PUBACK
        self._published: set[int] = set()  # seqs this publisher has sent at least once
        self.acked_seq = outbox.acked_seq
        self.sent = self.resent = self.refused = self.bad_acks = 0

    def restart(self) -> None:
        """A new connection: everything waiting goes again (the server ignores duplicates)."""
        self._cursor = 0
        self.resend.clear()

    # --- acks --------------------------------------------------------------------------------

    def on_ack_message(self, payload: bytes) -> bool:
        """An ack message from the server; True if it was recorded (see :meth:`on_ack`)."""
        try:
            ack = DeviceAck.from_payload(payload, device=self.device)
        except PayloadError as exc:
            self.bad_acks += 1
            log.warning("%s: ignoring an ack: %s", self.device, exc)
            return False
        return self.on_ack(ack.seq)

    def on_ack(self, seq: int) -> bool:
        """The server stored every window up to ``seq``; False if the outbox could not record it."""
        try:
            if seq >= self.outbox.next_seq or not self.outbox.synced:
                renumbered = self.outbox.fast_forward(seq)
                if renumbered:
                    log.warning(
                        "%s: the server already holds windows up to seq %d that this outbox did "
                        "not send (a new or replaced outbox file); %d waiting windows renumbered",
                        self.device,
                        seq,
                        renumbered,
                    )
                    # The old numbers mean nothing now: send everything waiting afresh.
                    self.in_flight.clear()
                    self.resend.clear()
                    self._published.clear()
                    self._cursor = seq
            else:
                self.outbox.acked(seq)
        except OutboxError as exc:
            # The ack is retained: it comes again on the next connect, and deletes then.
            log.error("%s: could not record the server's ack %d: %s", self.device, seq, exc)
            return False
        self.resend.acked(seq, progressed=seq > self.acked_seq)
        if seq < self.acked_seq:
            log.warning(
                "%s: the server's ack went back from seq %d to %d (its database was lost or "
                "restored?): sending the %d windows still held again, from seq %d",
                self.device,
                self.acked_seq,
                seq,
                len(self.outbox),
                self.outbox.first_held,
            )
            # Every window still held goes again (it carries first_held).
            self._cursor = seq
            self.resend.clear()
        else:
            self._cursor = max(self._cursor, seq)
        self.acked_seq = seq
        self._published = {s for s in self._published if s > seq}
        self._wake.set()
        return True

    # --- sending -----------------------------------------------------------------------------

    def send_due(self, link: MqttLink) -> None:
        """Publish what is due again, then what waits beyond this connection's cursor."""
        room = self.max_in_flight - len(self.in_flight)
        first_held = self.outbox.first_held
        for seq in self.resend.due(self._clock())[: max(room, 0)]:
            self.resend.forget(seq)
            message = self.outbox.message(seq)
            if message is not None:
                self._publish(link, message, first_held)
                room -= 1
        if room <= 0:
            return
        for message in self.outbox.pending(room, after=self._cursor):
            self._cursor = message.seq
            if message.seq in self.in_flight:
                continue  # paho still holds it and re-sends it itself
            self._publish(link, message, first_held)

    def _publish(self, link: MqttLink, message: WindowMessage, first_held: int) -> None:
        message = dataclasses.replace(message, first_held=min(first_held, message.seq))
        future = link.publish_nowait(self.topic, message.to_payload(), qos=1)
        seq = message.seq
        if seq in self._published:
            self.resent += 1
        else:
            self._published.add(seq)
            self.sent += 1
        self.in_flight[seq] = future
        self.resend.forget(seq)
        future.add_done_callback(partial(self._on_puback, seq))

    def _on_puback(self, seq: int, future: asyncio.Future[None]) -> None:
        if self.in_flight.get(seq) is future:
            del self.in_flight[seq]
        if future.cancelled():
            return
        exc = future.exception()
        if self._stopping():  # the outbox keeps it for the next run
            return
        if exc is not None:
            self.refused += 1
            level = logging.INFO if self._denial.note(self.topic, exc) else logging.WARNING
            log.log(level, "%s: window %d not accepted by the broker: %s", self.device, seq, exc)
        if seq > self.acked_seq:  # not yet stored: the resend schedule watches it
            self.resend.broker_has(seq, self._clock())
        self._wake.set()
