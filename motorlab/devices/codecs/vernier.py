"""Sans-I/O codec for Vernier Go Direct devices (GDX-HD hand dynamometer) over BLE.

Wire format (Vernier's godirect-js ``Device.js``/``constants.js``, BSD-3, and
godirect-py; re-implemented here):

* host -> device: command frames ``58 LL CC SS id params...`` where LL is the
  total length, CC a rolling counter (0xFF at INIT, decremented *before* each
  command, so INIT itself carries 0xFE) and SS the checksum = (sum of every
  byte except SS) & 0xFF. Sent in writes of at most 20 bytes.
* device -> host: frames ``TT LL ...`` split over notifications of at most 20
  bytes and joined until LL bytes have arrived. TT = 0x20 is a measurement
  frame; any other type is a command reply whose byte 4 echoes the command,
  byte 5 the rolling counter, and whose payload starts at byte 6. A frame is
  accepted only if byte 4 is a known command ID / measurement subtype; otherwise
  one byte is dropped and the parser resynchronises.
* Measurement frames: subtype at byte 4. 0x06 NORMAL_REAL32 (sensor mask u16
  at 5-6, sample count at 7, float32 values from 9, sample by sample, sensors
  in mask-bit order); 0x07 WIDE_REAL32 (mask u32 at 5-8, count at 9, values
  from 11); 0x08/0x0A one real32 channel and 0x09/0x0B one int32 channel
  (sensor at 6, count at 7, values from 8). 0x0C-0x0E (start time, dropped,
  period) carry no samples and are skipped, as the official libraries do.

There are no per-sample timestamps: sample k of a stream is at
``k x period`` (the period the host set; Vernier's advice, godirect-examples#55).
The device has no tare: :attr:`VernierCodec.zero` (per channel, in sensor
units) is subtracted on the host.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from ..base import (
    BatteryReply,
    CodecEvent,
    CodecStats,
    Command,
    GetBattery,
    GetInfo,
    SampleBlock,
    SetRate,
    Start,
    Stop,
)

SERVICE_UUID = "d91714ef-28b9-4f91-ba16-f0d9a604f112"
COMMAND_UUID = "f4bf14a6-c7d5-4b6d-8aa8-df1a7c83adcb"  # write without response, <= 20 bytes
RESPONSE_UUID = "b41e6675-a329-40e0-aa01-44d2f444babe"  # notify
NAME_PREFIX = "GDX"

HEADER = 0x58
MEASUREMENT = 0x20
CMD_GET_STATUS = 0x10
CMD_START = 0x18
CMD_STOP = 0x19
CMD_INIT = 0x1A
CMD_SET_PERIOD = 0x1B
CMD_GET_SENSOR_INFO = 0x50
CMD_GET_AVAILABLE = 0x51
CMD_DISCONNECT = 0x54
CMD_GET_DEVICE_INFO = 0x55
CMD_GET_DEFAULT = 0x56

INIT_PARAMS = bytes.fromhex("a54a06490748084709460a450b440c430d420e41")

NORMAL_REAL32, WIDE_REAL32 = 0x06, 0x07
SINGLE_REAL32, SINGLE_INT32, APERIODIC_REAL32, APERIODIC_INT32 = 0x08, 0x09, 0x0A, 0x0B
START_TIME, DROPPED, PERIOD = 0x0C, 0x0D, 0x0E

#: GDX-HD sensor 1 = force (N)
DEFAULT_SENSOR_MASK = 0x02
#: godirect-js never goes below 10 ms; neither do we by default
MIN_PERIOD_US = 10_000


# ------------------------------------------------------------------ commands
@dataclass(frozen=True)
class Init(Command):
    pass


@dataclass(frozen=True)
class GetStatus(Command):
    pass


@dataclass(frozen=True)
class GetDeviceInfo(Command):
    pass


@dataclass(frozen=True)
class GetDefaultSensors(Command):
    pass


@dataclass(frozen=True)
class GetAvailableSensors(Command):
    pass


@dataclass(frozen=True)
class GetSensorInfo(Command):
    sensor: int = 1


@dataclass(frozen=True)
class Disconnect(Command):
    pass


@dataclass(frozen=True)
class GdxReply:
    """A command reply: the command ID and rolling counter it echoes, and its payload."""

    command: int
    counter: int
    payload: bytes


@dataclass(frozen=True)
class SensorInfo:
    number: int
    sensor_id: int
    numeric_type: int  # 0 real, 1 int32
    sampling_mode: int  # 0 periodic, 1 aperiodic
    description: str
    unit: str
    min_value: float
    max_value: float
    min_period_us: int
    typical_period_us: int


_SENSOR_INFO = struct.Struct("<bBIBB60s32sdddIQIII")


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def parse_sensor_info(payload: bytes) -> SensorInfo | None:
    if len(payload) < _SENSOR_INFO.size:
        return None
    (num, _spare, sid, ntype, mode, desc, unit, _unc, vmin, vmax, pmin, _pmax, ptyp, _gran,
     _excl) = _SENSOR_INFO.unpack_from(payload)
    return SensorInfo(num, sid, ntype, mode, _text(desc), _text(unit), vmin, vmax, pmin, ptyp)


def sensor_info_payload(info: SensorInfo, uncertainty: float = 0.0, max_period_us: int = 10**9,
                        granularity_us: int = 1000, exclusion_mask: int = 0) -> bytes:
    """Inverse of :func:`parse_sensor_info` (for emulators and tests)."""
    return _SENSOR_INFO.pack(
        info.number, 0, info.sensor_id, info.numeric_type, info.sampling_mode,
        info.description.encode(), info.unit.encode(), uncertainty, info.min_value, info.max_value,
        info.min_period_us, max_period_us, info.typical_period_us, granularity_us, exclusion_mask,
    )


def parse_status(payload: bytes) -> dict[str, object] | None:
    """GET_STATUS: status, spare, main-CPU firmware (maj, min, build u16), BLE-CPU firmware, battery %, charger."""
    if len(payload) < 12:
        return None
    maj, mnr, build = payload[2], payload[3], int.from_bytes(payload[4:6], "little")
    return {"firmware": f"{maj}.{mnr}.{build}", "battery_percent": float(payload[10]), "charger": payload[11]}


def parse_device_info(payload: bytes) -> dict[str, str] | None:
    """GET_DEVICE_INFO: order code (16 bytes), serial (16), name (32), ..."""
    if len(payload) < 64:
        return None
    return {"order_code": _text(payload[:16]), "serial": _text(payload[16:32]), "name": _text(payload[32:64])}


def checksum(frame: bytes | bytearray) -> int:
    """Sum of every byte except byte 3 (the checksum itself), modulo 256."""
    return (sum(frame) - frame[3]) & 0xFF


def command_frame(command_id: int, params: bytes, counter: int) -> bytes:
    frame = bytearray((HEADER, 5 + len(params), counter & 0xFF, 0, command_id)) + params
    frame[3] = checksum(frame)
    return bytes(frame)


def reply_frame(command_id: int, counter: int, payload: bytes, reply_counter: int = 0) -> bytes:
    """A device reply frame (emulators and tests)."""
    frame = bytearray((HEADER, 6 + len(payload), reply_counter & 0xFF, 0, command_id, counter & 0xFF)) + payload
    frame[3] = checksum(frame)
    return bytes(frame)


def measurement_frame(values: np.ndarray, sensor_mask: int, packet_counter: int = 0) -> bytes:
    """NORMAL_REAL32 frame of ``values`` (n_samples, n_sensors) (emulators and tests)."""
    values = np.asarray(values, dtype="<f4").reshape(len(values), -1)
    body = values.tobytes()
    frame = bytearray((MEASUREMENT, 9 + len(body), packet_counter & 0xFF, 0, NORMAL_REAL32))
    frame += struct.pack("<HBB", sensor_mask, len(values), 0) + body
    frame[3] = checksum(frame)
    return bytes(frame)


#: byte 4 of a reply echoes one of these; of a measurement frame, it is one of those
_COMMAND_IDS = frozenset({CMD_GET_STATUS, CMD_START, CMD_STOP, CMD_INIT, CMD_SET_PERIOD, CMD_GET_SENSOR_INFO,
                          CMD_GET_AVAILABLE, CMD_DISCONNECT, CMD_GET_DEVICE_INFO, CMD_GET_DEFAULT})
_MEASUREMENT_TYPES = frozenset(range(NORMAL_REAL32, PERIOD + 1))


def mask_bits(mask: int) -> list[int]:
    return [b for b in range(32) if mask >> b & 1]


# ------------------------------------------------------------------ codec
class VernierCodec:
    """Go Direct frames -> sample blocks (sensor units, host-zeroed) and replies."""

    protocol = "vernier"

    def __init__(self, sensor_mask: int = DEFAULT_SENSOR_MASK, period_us: int = 100_000):
        self.stats = CodecStats()
        self.counter = 0xFF
        self.last_counter: int | None = None
        self.last_command: int | None = None
        self.sensor_mask = sensor_mask
        self.period_us = period_us
        self._sensors = mask_bits(sensor_mask)
        #: host-side zero per channel (sensor units), subtracted from every sample
        self.zero = np.zeros(len(self._sensors))
        self._index = 0  # samples so far in the current stream
        self._buf = bytearray()

    def configure(self, sensor_mask: int) -> None:
        self.sensor_mask = sensor_mask
        self._sensors = mask_bits(sensor_mask)
        self.zero = np.zeros(len(self._sensors))

    # -- commands ---------------------------------------------------------------
    def _frame(self, command_id: int, params: bytes = b"") -> bytes:
        if command_id == CMD_INIT:
            self.counter = 0xFF
        self.counter = (self.counter - 1) & 0xFF
        self.last_counter, self.last_command = self.counter, command_id
        return command_frame(command_id, params, self.counter)

    def encode(self, command: Command) -> bytes:
        if isinstance(command, Init):
            return self._frame(CMD_INIT, INIT_PARAMS)
        if isinstance(command, (GetStatus, GetBattery)):
            return self._frame(CMD_GET_STATUS)
        if isinstance(command, (GetDeviceInfo, GetInfo)):
            return self._frame(CMD_GET_DEVICE_INFO)
        if isinstance(command, GetDefaultSensors):
            return self._frame(CMD_GET_DEFAULT)
        if isinstance(command, GetAvailableSensors):
            return self._frame(CMD_GET_AVAILABLE)
        if isinstance(command, GetSensorInfo):
            return self._frame(CMD_GET_SENSOR_INFO, bytes((command.sensor,)))
        if isinstance(command, SetRate):
            period = int(round(1e6 / command.rate_hz))
            self.period_us = period
            return self._frame(CMD_SET_PERIOD, b"\xff\x00" + struct.pack("<I", period) + bytes(4))
        if isinstance(command, Start):
            self._index = 0
            return self._frame(CMD_START, b"\xff\x01" + struct.pack("<I", self.sensor_mask) + bytes(8))
        if isinstance(command, Stop):
            return self._frame(CMD_STOP, b"\xff\x00\xff\xff\xff\xff")
        if isinstance(command, Disconnect):
            return self._frame(CMD_DISCONNECT)
        raise ValueError(f"Go Direct devices have no '{command.name}' command")

    # -- bytes in ---------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        self.stats.bytes_in += len(data)
        self._buf += data
        buf = self._buf
        events: list[CodecEvent] = []
        pos = 0
        while len(buf) - pos >= 5:
            kind, length, what = buf[pos], buf[pos + 1], buf[pos + 4]
            if length < (8 if kind == MEASUREMENT else 6) or what not in (
                _MEASUREMENT_TYPES if kind == MEASUREMENT else _COMMAND_IDS
            ):
                pos += 1
                self.stats.resyncs += 1
                self.stats.bytes_discarded += 1
                continue
            if len(buf) - pos < length:
                break
            frame = bytes(buf[pos:pos + length])
            pos += length
            self.stats.frames_ok += 1
            if kind == MEASUREMENT:
                blk = self._measurement(frame)
                if blk is not None:
                    events.append(blk)
            else:
                events.extend(self._reply(frame))
        del buf[:pos]
        return events

    def _reply(self, frame: bytes) -> list[CodecEvent]:
        reply = GdxReply(frame[4], frame[5], frame[6:])
        out: list[CodecEvent] = [reply]  # type: ignore[list-item]
        if reply.command == CMD_GET_STATUS:
            status = parse_status(reply.payload)
            if status is not None:
                out.append(BatteryReply(percent=float(status["battery_percent"])))  # type: ignore[arg-type]
        return out

    def _measurement(self, frame: bytes) -> SampleBlock | None:
        sub = frame[4]
        if sub in (NORMAL_REAL32, WIDE_REAL32):
            wide = sub == WIDE_REAL32
            if len(frame) < (11 if wide else 9):
                return self._bad()
            mask = int.from_bytes(frame[5:9] if wide else frame[5:7], "little")
            count = frame[9 if wide else 7]
            start, dtype, sensors = (11 if wide else 9), "<f4", mask_bits(mask)
        elif sub in (SINGLE_REAL32, SINGLE_INT32, APERIODIC_REAL32, APERIODIC_INT32):
            count, start, sensors = frame[7], 8, [frame[6]]
            dtype = "<i4" if sub in (SINGLE_INT32, APERIODIC_INT32) else "<f4"
        else:
            return None  # start time / dropped / period: no samples
        n_values = count * len(sensors)
        if not sensors or start + 4 * n_values > len(frame):
            return self._bad()
        raw = np.frombuffer(frame, dtype=dtype, count=n_values, offset=start).astype(np.float64)
        raw = raw.reshape(count, len(sensors))
        values = np.full((count, len(self._sensors)), np.nan)
        for col, sensor in enumerate(self._sensors):
            if sensor in sensors:
                values[:, col] = raw[:, sensors.index(sensor)]
        values -= self.zero
        idx = self._index + np.arange(count)
        self._index += count
        return SampleBlock(device_time=idx * (self.period_us * 1e-6), values=values, seq=int(idx[0]) if count else None)

    def _bad(self) -> None:
        self.stats.crc_errors += 1
        return None
