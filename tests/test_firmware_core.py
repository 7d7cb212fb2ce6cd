"""The DIY board's firmware core (hardware/firmware/core/, portable C) on the host: its own unit
tests against the README's golden vectors, then byte-for-byte agreement with the Python codec
(edge/drivers/diy/protocol.py) and the reference firmware (firmware_sim/diy/firmware.py) on
cases generated here, seeded.

The C is built with the system compiler into tmp_path, with AddressSanitizer and UBSan when
the toolchain has them, so an out-of-bounds write in the core fails these tests too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edge.drivers.base import StreamSpec
from edge.drivers.diy import protocol as proto
from edge.units import to_internal_factor
from firmware_sim.diy import ACC_FS_HZ, EMG_FS_HZ
from firmware_sim.diy.firmware import RING_BUFFER_S, DiyFirmware
from firmware_sim.diy.peripheral import _short_site
from firmware_sim.physiology import SiteModel
from support.services import services_required
from twitchwatch.contract import MIDLINE_PLACES, PLACE_REGION, SIDES, Kind

FIRMWARE = Path(__file__).resolve().parent.parent / "hardware" / "firmware"
CORE_SOURCES = sorted((FIRMWARE / "core").glob("*.c"))
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow", "-Wconversion"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


@dataclass(frozen=True)
class Binaries:
    unit_tests: Path
    harness: Path


def _build(out: Path, main: Path, sanitize: bool) -> subprocess.CompletedProcess[str]:
    flags = [*WARNINGS, "-O1", "-g", *(SANITIZERS if sanitize else [])]
    command = ["cc", *flags, f"-I{FIRMWARE / 'core'}", *map(str, CORE_SOURCES), str(main)]
    return subprocess.run([*command, "-lm", "-o", str(out)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> Binaries:
    if shutil.which("cc") is None:
        reason = "needs a C compiler (cc; .ci/run installs build-essential)"
        if services_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("firmware")
    built = {}
    for name in ("test_core", "harness"):
        main = FIRMWARE / "tests" / f"{name}.c"
        result = _build(out / name, main, sanitize=True)
        if result.returncode != 0 and "sanitize" in result.stderr:
            result = _build(out / name, main, sanitize=False)  # a toolchain without libasan
        assert result.returncode == 0, result.stderr
        built[name] = out / name
    return Binaries(built["test_core"], built["harness"])


def run_harness(binaries: Binaries, commands: list[str]) -> list[str]:
    """One output line per command."""
    result = subprocess.run(
        [str(binaries.harness)],
        input="\n".join(commands) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == len(commands), result.stderr
    return lines


def _hex(data: bytes) -> str:
    return data.hex() or "-"


def _text(value: str) -> str:
    return _hex(value.encode())


def config_args(info: proto.SensorInfo) -> str:
    """The harness's arguments for a device or Info document with these fields."""
    parts = [_text(info.firmware), _text(info.hardware), _text(info.site), str(len(info.streams))]
    for spec in info.streams:
        scale = spec.scale / to_internal_factor(spec.kind, spec.source_unit)
        parts += [str(spec.stream_id), _text(spec.kind.value), str(int(spec.fs))]
        parts += [str(spec.n_channels), *map(_text, spec.channels)]
        parts += [_text(spec.source_unit), _text(json.dumps(scale))]
    return " ".join(parts)


# --- the core's own unit tests (README golden vectors) -------------------------------------------


def test_the_c_unit_tests_pass(binaries: Binaries) -> None:
    result = subprocess.run([str(binaries.unit_tests)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    passed, failed = result.stdout.splitlines()[-1].split(", ")
    assert failed == "0 failed" and int(passed.split()[0]) >= 60


# --- byte for byte with the Python codec ---------------------------------------------------------


def test_frames_equal_the_python_encoder(binaries: Binaries) -> None:
    rng = np.random.default_rng(16)
    commands, expected = [], []
    for _ in range(400):
        n_channels = int(rng.integers(1, 6))
        n = int(rng.integers(1, min(255, 2000 // n_channels) + 1))
        samples = rng.integers(-32768, 32768, (n, n_channels)).astype(np.int16)
        stream_id, seq = int(rng.integers(0, 8)), int(rng.integers(0, 1 << 16))
        ticks, flags = int(rng.integers(0, 1 << 32)), int(rng.integers(0, 256))
        frame = proto.encode_frame(stream_id, seq, ticks, samples, flags)
        commands.append(
            f"frame {stream_id} {seq} {ticks} {n_channels} {flags} "
            + samples.astype("<i2").tobytes().hex()
        )
        expected.append(frame.hex())
    commands.append("frame 0 0 0 1 0 -")  # no samples: Python refuses, and so does C
    expected.append("error")
    with pytest.raises(proto.ProtocolError):
        proto.encode_frame(0, 0, 0, np.zeros((0, 1), np.int16), 0)
    assert run_harness(binaries, commands) == expected


def test_frame_size_equals_python_for_every_mtu(binaries: Binaries) -> None:
    cases = [(mtu, n_ch) for mtu in range(0, 530) for n_ch in range(1, 9)]
    expected = []
    for mtu, n_ch in cases:
        try:
            expected.append(str(proto.max_samples_per_frame(mtu, n_ch)))
        except proto.ProtocolError:
            expected.append("0")
    assert run_harness(binaries, [f"maxn {m} {c}" for m, c in cases]) == expected


def test_ticks_equal_python_for_the_board_rates_and_others(binaries: Binaries) -> None:
    rng = np.random.default_rng(32768)
    rates = [2000, 2048, 416, 1000, *rng.integers(1, 16385, 20).tolist()]
    cases = [(int(i), fs) for fs in rates for i in rng.integers(0, 1 << 40, 50)]
    cases += [(i, 2000) for i in range(300)]
    expected = [str(int(proto.ticks_of_sample(i, float(fs))) % proto.TICK_WRAP) for i, fs in cases]
    assert run_harness(binaries, [f"ticks {i} {fs}" for i, fs in cases]) == expected


def test_responses_adverts_and_uuids_equal_python(binaries: Binaries) -> None:
    rng = np.random.default_rng(240)
    commands, expected = [], []
    for _ in range(200):
        op, token = int(rng.integers(0, 256)), int(rng.integers(0, 256))
        status = proto.Status(int(rng.integers(0, 5)))
        payload = rng.integers(0, 256, int(rng.integers(0, 16))).astype(np.uint8).tobytes()
        commands.append(f"response {op} {token} {int(status)} {_hex(payload)}")
        expected.append(proto.encode_response(op, token, status, payload).hex())
    for battery in range(0, 101, 7):
        for streaming in (False, True):
            commands.append(f"advert {battery} {int(streaming)}")
            company = proto.COMPANY_ID.to_bytes(2, "little")
            expected.append((company + proto.encode_advert(battery, streaming)).hex())
    for short_id, text in enumerate(
        (proto.SERVICE_UUID, proto.CONTROL_POINT_UUID, proto.DATA_UUID, proto.INFO_UUID), 1
    ):
        commands.append(f"uuid {short_id}")
        expected.append(uuid.UUID(text).bytes[::-1].hex())  # little-endian, as advertised
    assert run_harness(binaries, commands) == expected


def test_advertised_names_equal_the_simulated_sensor(binaries: Binaries) -> None:
    sites = sorted(MIDLINE_PLACES) + [
        f"{side}_{place}" for side in SIDES for place in PLACE_REGION if place not in MIDLINE_PLACES
    ]
    serials = ["SIM0001", "SIM0042", "F4A1B2C3"]
    cases = [(serial, site) for serial in serials for site in sites]
    expected = []
    for serial, site in cases:
        name = f"TW-{serial[-4:]}"  # as SimulatedDiySensor names itself
        expected.append(f"{name} {name}-{_short_site(site)}")
    commands = [f"names {_text(serial)} {_text(site)}" for serial, site in cases]
    assert run_harness(binaries, commands) == expected


def _random_text(rng: np.random.Generator, max_len: int) -> str:
    alphabet = [chr(c) for c in range(0x00, 0x80)]
    return "".join(rng.choice(alphabet, int(rng.integers(0, max_len + 1))))


def test_info_documents_equal_python_and_their_crc(binaries: Binaries) -> None:
    rng = np.random.default_rng(245)
    units = {Kind.EMG: ["uV", "mV", "V"], Kind.ACC: ["g", "mg", "m/s2"]}
    commands, expected = [], []
    for _ in range(150):
        streams = []
        for stream_id in range(int(rng.integers(0, 4))):
            kind = Kind.EMG if rng.random() < 0.5 else Kind.ACC
            unit = str(rng.choice(units[kind]))
            channels = tuple(_random_text(rng, 6) for _ in range(int(rng.integers(1, 4))))
            scale = float(rng.choice([0.2, 0.000122, 1e-05, 3.0, float(rng.random())]))
            fs = float(rng.integers(1, 16385))
            streams.append(StreamSpec(stream_id, kind, channels, fs, scale, unit))
        info = proto.SensorInfo(
            protocol=proto.PROTOCOL_VERSION,
            firmware=_random_text(rng, 12),
            hardware=_random_text(rng, 30),
            site=_random_text(rng, 20),
            tick_hz=proto.TICK_HZ,
            streams=tuple(streams),
        )
        try:
            document = info.encode()
        except proto.ProtocolError:
            continue  # over 512 bytes: the C refuses it too (test_core.c)
        commands += [f"info {config_args(info)}", f"crc32 {_hex(document)}"]
        expected += [f"ok {document.hex()}", str(info.crc32)]
    assert len(commands) > 200
    assert run_harness(binaries, commands) == expected
    assert zlib.crc32(b"123456789") == 0xCBF43926  # the value test_core.c checks in C


# --- the firmware's decisions, next to the reference firmware -------------------------------------


def _random_request(rng: np.random.Generator) -> bytes:
    token = int(rng.integers(0, 256))
    match int(rng.integers(0, 9)):
        case 0 | 1:  # START, sometimes with a mask that names no stream
            return bytes((proto.Opcode.START, token, int(rng.choice([1, 2, 3, 3, 0, 4, 255]))))
        case 2:
            return bytes((proto.Opcode.STOP, token, int(rng.choice([1, 2, 3, 0, 8]))))
        case 3:
            args = rng.integers(0, 256, int(rng.choice([8, 8, 7, 9]))).astype(np.uint8)
            return bytes((proto.Opcode.SET_TIME, token)) + args.tobytes()
        case 4 | 5:
            return bytes((proto.Opcode.GET_STATUS, token))
        case 6:
            return bytes((proto.Opcode.GET_INFO, token))
        case _:  # anything: short, unknown opcodes, extra arguments
            return rng.integers(0, 256, int(rng.integers(0, 5))).astype(np.uint8).tobytes()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_core_frames_and_answers_as_the_reference_firmware(
    binaries: Binaries, seed: int
) -> None:
    """Control point writes, sampling, pumps at changing MTUs, radio stalls beyond the ring
    buffer and lost links, in one seeded story: every response and every frame the C core
    gives equals the reference firmware's, byte for byte."""
    rng = np.random.default_rng(seed)
    model = SiteModel(emg_fs_hz=EMG_FS_HZ, acc_fs_hz=ACC_FS_HZ)
    firmware = DiyFirmware("left_calf", model, seed=seed)
    commands = [f"device {int(RING_BUFFER_S)} {config_args(firmware.info)}"]
    expected = ["ok"]
    pushed = {sid: 0 for sid in firmware.streams}  # next sample index the ADC hands over
    ticks = int(rng.integers(0, 1 << 20))
    for _ in range(250):
        # Time passes: one connection interval with jitter, now and then a radio stall.
        stall = rng.random() < 0.04
        ticks += int(proto.TICK_HZ * (rng.uniform(2.05, 3.0) if stall else rng.uniform(0, 0.04)))
        for sid, state in firmware.streams.items():  # the ADC and IMU sampled meanwhile
            due = ticks * int(state.spec.fs) // proto.TICK_HZ + 1
            if state.streaming and due > pushed[sid]:
                counts = firmware.expected_counts(sid, pushed[sid], due)
                commands.append(f"push {sid} {counts.astype('<i2').tobytes().hex()}")
                expected.append("ok")
            pushed[sid] = max(pushed[sid], due)
        roll = rng.random()
        if roll < 0.5:
            mtu = int(rng.choice([23, 64, 185, 247, 517, int(rng.integers(13, 530))]))
            frames = firmware.produce(ticks, mtu, 0.0)
            commands.append(f"pump {mtu}")
            expected.append(" ".join(f.hex() for f in frames) or "-")
        elif roll < 0.97:
            data = _random_request(rng)
            was = {sid: s.streaming for sid, s in firmware.streams.items()}
            commands.append(f"write {ticks % proto.TICK_WRAP} {_hex(data)}")
            expected.append(firmware.handle_request(data, ticks).hex())
            for sid, state in firmware.streams.items():
                if state.streaming and not was[sid]:  # started from "now"
                    pushed[sid] = state.next_sample
        else:
            firmware.stop_all()  # the link dropped
            commands.append("stop_all")
            expected.append("ok")
    actual = run_harness(binaries, commands)
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert got == want, f"command {i}: {commands[i][:80]}"
    sent = firmware.counters.frames_sent
    assert sent > 100 and firmware.counters.frames_overflowed > 0  # the story did overflow
