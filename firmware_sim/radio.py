"""A virtual Bluetooth LE radio: Bumble controllers on one in-process link.

Simulated sensors sit on the link as peripherals. An edge agent reaches them through a Bumble
host (the bleak backend) whose controller is either on the same link, in-process, or attached
over TCP (HCI H4 packets), so ``twitchwatch sim`` and ``twitchwatch edge run`` can be separate
processes. Each TCP client gets a fresh controller, as if it had plugged in its own adapter.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os

from bumble import hci, ll
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink, StreamPacketSource

from firmware_sim.errors import RadioAddressError

logger = logging.getLogger(__name__)

_REMOTE_USER_TERMINATED = hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR


class VirtualRadio:
    """Owns the link; hands out peripheral devices and host attachments."""

    def __init__(self) -> None:
        self.link = LocalLink()
        self._names = itertools.count()
        self._server: asyncio.Server | None = None

    def new_device(self, name: str, address: hci.Address) -> Device:
        """A Bumble device with its own controller on this radio (for peripherals and tests)."""
        controller = Controller(f"{name}-{next(self._names)}", link=self.link)
        return Device(name=name, address=address, host=Host(controller, AsyncPipeSink(controller)))

    async def serve_hci(self, host: str, port: int) -> int:
        """Accept Bumble hosts over TCP (spec ``tcp-client:HOST:PORT``); returns the bound port.

        RadioAddressError if the address cannot be listened on (a busy port, an unknown host).
        """
        try:
            self._server = await asyncio.get_running_loop().create_server(
                lambda: _HciConnection(self), host, port
            )
        except OSError as exc:  # EADDRINUSE, EADDRNOTAVAIL, a name that does not resolve
            known = exc.errno is not None and exc.errno > 0
            raise RadioAddressError(
                host, port, os.strerror(exc.errno) if known else str(exc)
            ) from None
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def detach(self, controller: Controller) -> None:
        """A host went away: drop its links (the peers see a disconnection) and its controller."""
        for connection in list(controller.le_connections.values()):
            connection.send_ll_control_pdu(ll.TerminateInd(_REMOTE_USER_TERMINATED))
            controller.on_le_disconnected(connection, _REMOTE_USER_TERMINATED)
        if controller in self.link.controllers:
            self.link.remove_controller(controller)


class _HciConnection(asyncio.Protocol):
    """One remote host: HCI packets in from TCP go to its controller, and back out."""

    def __init__(self, radio: VirtualRadio) -> None:
        self._radio = radio
        self._source = StreamPacketSource()
        self._controller: Controller | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        peer = transport.get_extra_info("peername")
        logger.info("edge host attached from %s", peer)
        self._controller = Controller(
            f"hci-{peer}",
            host_source=self._source,
            host_sink=_Writer(transport),
            link=self._radio.link,
        )

    def data_received(self, data: bytes) -> None:
        self._source.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        logger.info("edge host detached (%s)", exc or "closed")
        if self._controller is not None:
            self._radio.detach(self._controller)
            self._controller = None


class _Writer:
    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self._transport = transport

    def on_packet(self, packet: bytes) -> None:
        if not self._transport.is_closing():
            self._transport.write(packet)
