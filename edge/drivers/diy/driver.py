"""Driver for the TwitchWatch GATT profile (the DIY reference sensor and the simulator)."""

from __future__ import annotations

import itertools
import operator
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from edge.drivers.base import (
    Decoded,
    DriverError,
    FrameBatch,
    FrameError,
    PendingAnswers,
    SensorDriver,
    StreamSpec,
)
from edge.drivers.diy import DRIVER
from edge.drivers.diy import protocol as proto

if TYPE_CHECKING:
    from bleak import BleakClient
    from bleak.backends.characteristic import BleakGATTCharacteristic

#: How long the sensor has to answer a control point request. Generous: BLE connection
#: intervals plus a busy firmware can take a few hundred ms.
CONTROL_POINT_TIMEOUT_S = 5.0


class DiyDriver(SensorDriver):
    """Info read, START/STOP over the control point, and vectorized frame decoding."""

    name: ClassVar[str] = DRIVER.name
    tick_hz: ClassVar[float] = float(proto.TICK_HZ)
    tick_wrap: ClassVar[int] = proto.TICK_WRAP

    def __init__(self, device: str) -> None:
        super().__init__(device)
        self.info: proto.SensorInfo | None = None
        self._specs: dict[int, proto.StreamSpec] = {}
        self._tokens = itertools.count(1)
        self._answers: PendingAnswers[tuple[int, int], proto.Response] = PendingAnswers(
            device, CONTROL_POINT_TIMEOUT_S
        )

    @property
    def data_uuid(self) -> str:
        return proto.DATA_UUID

    async def start(self, client: BleakClient) -> list[StreamSpec]:
        self.info = proto.parse_info(await client.read_gatt_char(proto.INFO_UUID))
        self._specs = {s.stream_id: s for s in self.info.streams}
        await client.start_notify(proto.CONTROL_POINT_UUID, self._on_control_point)
        epoch_us = time.time_ns() // 1000
        await self._request(client, proto.Opcode.SET_TIME, proto.SET_TIME_ARGS.pack(epoch_us))
        mask = sum(1 << s.stream_id for s in self.info.streams)
        await self._request(client, proto.Opcode.START, proto.START_ARGS.pack(mask))
        return list(self.info.streams)

    async def stop(self, client: BleakClient) -> None:
        mask = sum(1 << sid for sid in self._specs)
        await self._request(client, proto.Opcode.STOP, proto.START_ARGS.pack(mask))

    async def get_status(self, client: BleakClient) -> proto.StatusReport:
        response = await self._request(client, proto.Opcode.GET_STATUS)
        return proto.StatusReport.decode(response.payload)

    def frame_period_s(self, mtu: int) -> float:
        return max(
            (proto.max_samples_per_frame(mtu, s.n_channels) / s.fs for s in self._specs.values()),
            default=1.0,
        )

    def decode(self, payloads: Sequence[bytes], host_ns: np.ndarray) -> Decoded:
        return decode_frames(payloads, host_ns, self._specs, self.device)

    async def _request(
        self, client: BleakClient, opcode: proto.Opcode, args: bytes = b""
    ) -> proto.Response:
        token = next(self._tokens) % 255 + 1  # 1..255: 0 answers malformed requests
        request = proto.encode_request(opcode, token, args)
        response = await self._answers.ask(
            (opcode, token),
            client.write_gatt_char(proto.CONTROL_POINT_UUID, request, response=True),
            opcode.name,
        )
        if response.status is not proto.Status.OK:
            raise DriverError(self.device, f"{opcode.name} refused: {response.status.name}")
        return response

    def _on_control_point(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        # Notification callback: only resolves the waiting future.
        try:
            response = proto.decode_response(bytes(data))
        except proto.ProtocolError:
            return  # not an answer to anything we asked; nothing waits on it
        self._answers.resolve((response.opcode, response.token), response)


def decode_frames(
    payloads: Sequence[bytes],
    host_ns: np.ndarray,
    specs: Mapping[int, StreamSpec],
    device: str,
) -> Decoded:
    """Decode a burst of DIY notifications without a per-frame Python loop.

    Payloads of equal length are decoded together with one structured ``np.frombuffer``; the
    groups are then put back in arrival order per stream.

    Parameters
    ----------
    payloads : sequence of bytes, length k
        Notifications in arrival order.
    host_ns : (k,) int64
        Arrival time of each notification, ``time.monotonic_ns()``.
    specs : stream id -> StreamSpec
        What the sensor's Info document declared.

    Returns
    -------
    Decoded
        One FrameBatch per stream that had valid frames, and a FrameError per rejected payload.
    """
    k = len(payloads)
    if k == 0:
        return Decoded([], [])
    host_ns = np.asarray(host_ns, dtype=np.int64)
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=k)
    rejected: list[FrameError] = []
    # Per stream: lists of (arrival indices, header rows, samples (k_g, n, n_ch)).
    parts: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for length in np.unique(lengths):
        index = np.flatnonzero(lengths == length)
        if length < proto.FRAME_HEADER.size:
            rejected += [
                FrameError(device, None, f"{length} bytes, shorter than the 10-byte header")
            ] * len(index)
            continue
        chunk = b"".join(_pick(payloads, index))
        rows = np.frombuffer(
            chunk, dtype=np.dtype([("h", proto.HEADER_DTYPE), ("body", "u1", (int(length) - 10,))])
        )
        header = rows["h"]
        for stream_id in np.unique(header["stream"]):
            in_stream = header["stream"] == stream_id
            spec = specs.get(int(stream_id))
            n_ch = spec.n_channels if spec else 1
            ok = in_stream & (header["ver_type"] == proto.PROTOCOL_VERSION << 4)
            ok &= (header["n"] > 0) & (header["n"].astype(np.int64) * 2 * n_ch == length - 10)
            if spec is None:
                ok[:] = False
            for bad in np.flatnonzero(in_stream & ~ok):
                rejected.append(
                    FrameError(device, int(header["seq"][bad]), _problem(header[bad], length, spec))
                )
            good = np.flatnonzero(ok)
            if len(good) == 0 or spec is None:
                continue
            n = int(header["n"][good[0]])
            counts = rows["body"][good].view("<i2").reshape(len(good), n, n_ch)
            parts.setdefault(int(stream_id), []).append((index[good], header[good], counts))
    batches = [
        _merge(stream_id, groups, host_ns, specs[stream_id])
        for stream_id, groups in sorted(parts.items())
    ]
    return Decoded(batches, rejected)


def _pick(payloads: Sequence[bytes], index: np.ndarray) -> tuple[bytes, ...]:
    picked = operator.itemgetter(*index.tolist())(payloads)
    return picked if len(index) > 1 else (picked,)


def _problem(header: np.void, length: int, spec: StreamSpec | None) -> str:
    if spec is None:
        return f"unknown stream id {int(header['stream'])}"
    if header["ver_type"] >> 4 != proto.PROTOCOL_VERSION:
        return f"protocol version {int(header['ver_type']) >> 4}, expected {proto.PROTOCOL_VERSION}"
    if header["ver_type"] & 0x0F != proto.FRAME_TYPE_RAW_INT16:
        return f"frame type {int(header['ver_type']) & 0x0F} not supported"
    return f"{length} bytes, header says {int(header['n'])} samples of {spec.n_channels} channels"


def _merge(
    stream_id: int,
    groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    host_ns: np.ndarray,
    spec: StreamSpec,
) -> FrameBatch:
    """Put length groups of one stream back in arrival order and scale to physical units."""
    arrival = np.concatenate([g[0] for g in groups])
    header = np.concatenate([g[1] for g in groups])
    order = np.argsort(arrival, kind="stable")
    n = header["n"].astype(np.int64)
    # Offset of each frame's first sample in the arrival-ordered sample array.
    offsets = np.empty(len(order), dtype=np.int64)
    offsets[order] = np.concatenate(([0], np.cumsum(n[order])[:-1]))
    samples = np.empty((spec.n_channels, int(n.sum())), dtype=np.float32)
    position = 0
    for _, _, counts in groups:
        k_g, n_g, _ = counts.shape
        columns = (offsets[position : position + k_g, None] + np.arange(n_g)).ravel()
        samples[:, columns] = counts.reshape(k_g * n_g, -1).T * np.float32(spec.scale)
        position += k_g
    header = header[order]
    return FrameBatch(
        stream_id=stream_id,
        seq=header["seq"].astype(np.int64),
        sensor_ticks=header["ticks"].astype(np.int64),
        n_samples=n[order],
        flags=header["flags"].astype(np.int64),
        host_ns=host_ns[arrival[order]],
        samples=samples,
    )
