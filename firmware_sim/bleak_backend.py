"""A bleak backend over a Bumble host, so the edge agent reaches simulated sensors through the
real ``bleak.BleakScanner`` / ``bleak.BleakClient`` classes: ``backend=`` is the only difference.

The "adapter" is a Bumble ``Device`` acting as central. Its controller sits on a
:class:`~firmware_sim.radio.VirtualRadio` in-process, or in another process reached over TCP.
Backend classes are bound to one adapter by :func:`bumble_backend` (bleak instantiates backends
itself, so the binding travels on the class).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.hci import Address
from bumble.transport import open_transport

from firmware_sim.radio import VirtualRadio

#: The MTU our central asks for, like BlueZ/CoreBluetooth do on connect.
DEFAULT_MTU = 247
EDGE_ADDRESS = "C2:57:ED:6E:00:01"

_PROPERTY_NAMES = {
    gatt.Characteristic.Properties.BROADCAST: "broadcast",
    gatt.Characteristic.Properties.READ: "read",
    gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    gatt.Characteristic.Properties.WRITE: "write",
    gatt.Characteristic.Properties.NOTIFY: "notify",
    gatt.Characteristic.Properties.INDICATE: "indicate",
    gatt.Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES: "authenticated-signed-writes",
    gatt.Characteristic.Properties.EXTENDED_PROPERTIES: "extended-properties",
}


def bleak_uuid(value: UUID) -> str:
    """Bumble UUID -> bleak's normalised form (lower-case, 128-bit, hyphenated)."""
    return str(uuid.UUID(bytes=value.to_bytes(force_128=True)[::-1]))


class BumbleAdapter:
    """The edge's Bluetooth adapter, made of a Bumble host. Open once per process and loop.

    Either ``radio`` (in-process) or ``transport`` (a Bumble transport spec such as
    ``tcp-client:127.0.0.1:7390``, served by ``twitchwatch sim``) must be given. ``max_mtu``
    is what the central asks for on connect (23 means no MTU exchange).
    """

    def __init__(
        self,
        *,
        radio: VirtualRadio | None = None,
        transport: str | None = None,
        max_mtu: int = DEFAULT_MTU,
    ) -> None:
        if (radio is None) == (transport is None):
            raise ValueError("give exactly one of radio= or transport=")
        self.radio, self.transport_spec, self.max_mtu = radio, transport, max_mtu
        self.device: Device | None = None
        self._transport: Any = None
        self._scan_listeners: set[Callable[[Advertisement], None]] = set()
        self.connect_lock = (
            asyncio.Lock()
        )  # one LE connection attempt at a time, like a real controller

    async def open(self) -> Device:
        if self.device is None:
            address = Address(EDGE_ADDRESS)
            if self.radio is not None:
                device = self.radio.new_device("twitchwatch-edge", address)
            else:
                assert self.transport_spec is not None
                self._transport = await open_transport(self.transport_spec)
                device = Device.with_hci(
                    "twitchwatch-edge", address, self._transport.source, self._transport.sink
                )
            device.on(device.EVENT_ADVERTISEMENT, self._on_advertisement)
            await device.power_on()
            self.device = device
        return self.device

    async def close(self) -> None:
        if self.device is not None:
            for connection in list(self.device.connections.values()):
                await connection.disconnect()
            await self.device.power_off()
        if self._transport is not None:
            await self._transport.close()
        self.device, self._transport = None, None

    async def __aenter__(self) -> BumbleAdapter:
        await self.open()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def add_scan_listener(self, listener: Callable[[Advertisement], None]) -> None:
        device = await self.open()
        self._scan_listeners.add(listener)
        if not device.is_scanning:
            await device.start_scanning(filter_duplicates=False)

    async def remove_scan_listener(self, listener: Callable[[Advertisement], None]) -> None:
        self._scan_listeners.discard(listener)
        if not self._scan_listeners and self.device is not None and self.device.is_scanning:
            await self.device.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        for listener in list(self._scan_listeners):
            listener(advertisement)


@dataclass(frozen=True, slots=True)
class BleakBackend:
    """The pair of backend classes to pass as ``backend=`` to BleakScanner and BleakClient."""

    scanner: type[BaseBleakScanner]
    client: type[BaseBleakClient]
    adapter: BumbleAdapter


def bumble_backend(adapter: BumbleAdapter) -> BleakBackend:
    """Backend classes bound to ``adapter``."""
    scanner = type("BleakScannerBumble", (BleakScannerBumble,), {"adapter": adapter})
    client = type("BleakClientBumble", (BleakClientBumble,), {"adapter": adapter})
    return BleakBackend(scanner, client, adapter)


def advertisement_data(advertisement: Advertisement) -> AdvertisementData:
    """Bumble's advertisement -> bleak's plain NamedTuple."""
    data = advertisement.data
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.SHORTENED_LOCAL_NAME
    )
    manufacturer = {}
    for raw in data.get_all(AdvertisingData.MANUFACTURER_SPECIFIC_DATA, raw=True):
        if len(raw) >= 2:
            manufacturer[int.from_bytes(raw[:2], "little")] = bytes(raw[2:])
    uuids: list[str] = []
    for kind in (
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    ):
        for listed in data.get_all(kind):
            uuids += [bleak_uuid(u) for u in listed]
    return AdvertisementData(
        local_name=str(name) if name else None,
        manufacturer_data=manufacturer,
        service_data={},
        service_uuids=sorted(set(uuids)),
        tx_power=data.get(AdvertisingData.TX_POWER_LEVEL),
        rssi=advertisement.rssi,
        platform_data=(advertisement,),
    )


class BleakScannerBumble(BaseBleakScanner):
    """Scans through the bound adapter; devices carry their Bumble address as ``details``."""

    adapter: ClassVar[BumbleAdapter]

    def __init__(
        self,
        detection_callback: Any,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **_platform_args: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)

    async def start(self) -> None:
        self.seen_devices = {}
        await self.adapter.add_scan_listener(self._on_advertisement)

    async def stop(self) -> None:
        await self.adapter.remove_scan_listener(self._on_advertisement)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        adv = advertisement_data(advertisement)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        address = str(advertisement.address).removesuffix("/P")
        device = self.create_or_update_device(
            address, address, adv.local_name, advertisement.address, adv
        )
        self.call_detection_callbacks(device, adv)


class BleakClientBumble(BaseBleakClient):
    """GATT client over a Bumble connection, following ``BaseBleakClient``'s docstrings."""

    adapter: ClassVar[BumbleAdapter]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        services: set[str] | None = None,
        **_platform_args: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._peer_address = (
            address_or_ble_device.details
            if isinstance(address_or_ble_device, BLEDevice)
            and isinstance(address_or_ble_device.details, Address)
            else Address(self.address)
        )
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._disconnecting = False
        self._name = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        )

    @property
    def name(self) -> str:
        return self._name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        device = await self.adapter.open()
        timeout = kwargs.get("timeout", self._timeout)
        async with self.adapter.connect_lock:
            try:
                connection = await device.connect(self._peer_address, timeout=timeout)
            except TimeoutError as exc:
                raise BleakDeviceNotFoundError(
                    self.address, f"{self.address} did not answer within {timeout} s"
                ) from exc
        self._connection, self._peer = connection, Peer(connection)
        self._disconnecting = False
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            if self.adapter.max_mtu > 23:
                await self._peer.request_mtu(self.adapter.max_mtu)
            self.services = await self._discover(self._peer)
        except Exception:
            await self.disconnect()
            raise

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._disconnecting = True
        done = asyncio.get_running_loop().create_future()
        connection.once(
            connection.EVENT_DISCONNECTION, lambda *_: done.done() or done.set_result(None)
        )
        await connection.disconnect()
        async with asyncio.timeout(5.0):
            await done

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise BleakError("pairing is not supported on the simulated link")

    async def unpair(self) -> None:
        raise BleakError("pairing is not supported on the simulated link")

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await self._require_peer().read_value(characteristic.obj))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await self._require_peer().read_value(descriptor.obj))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        await self._require_peer().write_value(
            characteristic.obj, bytes(data), with_response=response
        )

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        await self._require_peer().write_value(descriptor.obj, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        await self._require_peer().subscribe(
            characteristic.obj, lambda value: callback(bytearray(value))
        )

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        await self._require_peer().unsubscribe(characteristic.obj)

    # -- internals ---------------------------------------------------------------------------

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"{self.address}: not connected")
        return self._peer

    def _on_disconnection(self, _reason: int) -> None:
        solicited = self._disconnecting
        self._connection, self._peer, self.services = None, None, None
        if not solicited and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        connection = peer.connection
        for service in await peer.discover_services():
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            for char in await peer.discover_characteristics(service=service):
                names = [name for flag, name in _PROPERTY_NAMES.items() if char.properties & flag]
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    bleak_uuid(char.uuid),
                    names,  # type: ignore[arg-type]
                    lambda: connection.att_mtu - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for descriptor in await peer.discover_descriptors(char):
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor, descriptor.handle, bleak_uuid(descriptor.type), bleak_char
                        )
                    )
        return collection
