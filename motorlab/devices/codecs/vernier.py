"""Sans-I/O codec for Vernier Go Direct devices (GDX-HD hand dynamometer) over BLE.

Wire format (Vernier's godirect-js ``Device.js``/``constants.js``, BSD-3, and
godirect-py; re-implemented here):

* host -> device: command frames ``58 LL CC SS id params...`` where LL is the
  total length, CC a rolling counter (0xFF at INIT, decremented *before* each
  command, so INIT itself carries 0xFE) and SS the checksum = (sum of every
  byte except SS) & 0xFF. Sent in writes of at most 20 bytes.
* device -> host: frames ``TT LL CC SS ...`` sent in notifications of at most
  20 bytes; a frame longer than its first notification continues in the next
  ones until LL bytes have arrived (godirect-js joins them the same way).
  TT = 0x20 is a measurement frame; any other type is a command reply whose
  byte 4 echoes the command, byte 5 the rolling counter, and whose payload
  starts at byte 6.
* Measurement frames: subtype at byte 4. 0x06 NORMAL_REAL32 (sensor mask u16
  at 5-6, sample count at 7, float32 values from 9, sample by sample, sensors
  in mask-bit order); 0x07 WIDE_REAL32 (mask u32 at 5-8, count at 9, values
  from 11); 0x08/0x0A one real32 channel and 0x09/0x0B one int32 channel
  (sensor at 6, count at 7, values from 8). 0x0C-0x0E (start time, dropped,
  period) carry no samples and are skipped, as the official libraries do.

**Notifications.** One :meth:`VernierCodec.feed` call is one BLE notification.
A notification either starts frames (one or several whole frames, or the first
piece of a longer one) or continues the frame begun before it. Reassembly is
bounded: a frame is at most 255 bytes, only a notification's first frame may
continue, a reply may span notifications only if it echoes the command and
counter in flight, a notification longer than the bytes still missing cannot
be a continuation (the piece is dropped), and at most :data:`MAX_CANDIDATES`
unfinished frames are kept. When a notification could either continue a frame
or start a new one, both readings are kept and the checksum of the completed
frame decides; a complete valid frame clears every other candidate.
:class:`VernierFramer` does this; :meth:`VernierCodec.parse` decodes one whole
frame, and :meth:`VernierCodec.feed_bulk` replays a capture of frames back to
back (vectorised, same events as :meth:`VernierCodec.feed`).

**What can and cannot be detected.** A device frame is accepted only if its
type, byte 4 (known command ID / measurement subtype), length (a measurement
frame's length must equal what its count and sensor mask imply) and checksum
(byte 3, computed as for commands) all agree, so garbage passes as a frame with
a chance well below 1/256 per candidate position; failures are counted in
``crc_errors`` and the parser resynchronises one byte later. Not detectable:
a lost notification in the middle of a long frame is only seen as a checksum
failure (the frame is lost); a wrong but self-consistent frame decodes as data.
Neither official library checks the checksum of device frames, so a device
that left byte 3 unset would be rejected: ``VernierCodec(check_checksum=False)``
turns the check off (structure checks remain).

There are no per-sample timestamps: sample k of a stream is at
``k x period`` (the period the host set; Vernier's advice, godirect-examples#55).
The device has no tare: :attr:`VernierCodec.zero` (per channel, in sensor
units) is subtracted on the host.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from ..base import (
    BatteryReply,
    CodecEvent,
    CodecStats,
    Command,
    GetBattery,
    GetInfo,
    RowBlock,
    SampleBlock,
    SetRate,
    Start,
    Stop,
)
from .blocks import join_runs

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
#: unfinished multi-notification frames kept at once
MAX_CANDIDATES = 4


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
#: bytes of a GET_SENSOR_INFO reply payload
SENSOR_INFO_SIZE = _SENSOR_INFO.size


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def parse_sensor_info(payload: bytes) -> SensorInfo | None:
    if len(payload) < _SENSOR_INFO.size:
        return None
    (num, _spare, sid, ntype, mode, desc, unit, _unc, vmin, vmax, pmin, _pmax, ptyp, _gran, _excl) = (
        _SENSOR_INFO.unpack_from(payload)
    )
    return SensorInfo(num, sid, ntype, mode, _text(desc), _text(unit), vmin, vmax, pmin, ptyp)


def sensor_info_payload(
    info: SensorInfo,
    uncertainty: float = 0.0,
    max_period_us: int = 10**9,
    granularity_us: int = 1000,
    exclusion_mask: int = 0,
) -> bytes:
    """Inverse of :func:`parse_sensor_info` (for emulators and tests)."""
    return _SENSOR_INFO.pack(
        info.number,
        0,
        info.sensor_id,
        info.numeric_type,
        info.sampling_mode,
        info.description.encode(),
        info.unit.encode(),
        uncertainty,
        info.min_value,
        info.max_value,
        info.min_period_us,
        max_period_us,
        info.typical_period_us,
        granularity_us,
        exclusion_mask,
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
    frame = (
        bytearray((HEADER, 6 + len(payload), reply_counter & 0xFF, 0, command_id, counter & 0xFF)) + payload
    )
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
_COMMAND_IDS = frozenset(
    {
        CMD_GET_STATUS,
        CMD_START,
        CMD_STOP,
        CMD_INIT,
        CMD_SET_PERIOD,
        CMD_GET_SENSOR_INFO,
        CMD_GET_AVAILABLE,
        CMD_DISCONNECT,
        CMD_GET_DEVICE_INFO,
        CMD_GET_DEFAULT,
    }
)
_MEASUREMENT_TYPES = frozenset(range(NORMAL_REAL32, PERIOD + 1))
_SINGLE_TYPES = frozenset((SINGLE_REAL32, SINGLE_INT32, APERIODIC_REAL32, APERIODIC_INT32))
_INT_TYPES = frozenset((SINGLE_INT32, APERIODIC_INT32))

#: command class -> command ID it sends (GetBattery and GetInfo ask for status and device info)
COMMAND_IDS: dict[type[Command], int] = {
    Init: CMD_INIT,
    GetStatus: CMD_GET_STATUS,
    GetBattery: CMD_GET_STATUS,
    GetDeviceInfo: CMD_GET_DEVICE_INFO,
    GetInfo: CMD_GET_DEVICE_INFO,
    GetDefaultSensors: CMD_GET_DEFAULT,
    GetAvailableSensors: CMD_GET_AVAILABLE,
    GetSensorInfo: CMD_GET_SENSOR_INFO,
    SetRate: CMD_SET_PERIOD,
    Start: CMD_START,
    Stop: CMD_STOP,
    Disconnect: CMD_DISCONNECT,
}


@cache
def _mask_bits(mask: int) -> tuple[int, ...]:
    return tuple(b for b in range(32) if mask >> b & 1)


def mask_bits(mask: int) -> list[int]:
    """Sensor numbers set in a sensor mask, ascending."""
    return list(_mask_bits(mask))


def expected_length(head: bytes | bytearray) -> int | None:
    """Frame length a measurement header implies (from count and mask), ``None`` if not yet known.

    ``-1`` for subtypes without samples (any length >= 5 is accepted).
    """
    sub = head[4]
    if sub == NORMAL_REAL32:
        return 9 + 4 * head[7] * (head[5] | head[6] << 8).bit_count() if len(head) >= 8 else None
    if sub == WIDE_REAL32:
        return 11 + 4 * head[9] * int.from_bytes(head[5:9], "little").bit_count() if len(head) >= 10 else None
    if sub in _SINGLE_TYPES:
        return 8 + 4 * head[7] if len(head) >= 8 else None
    return -1


def plausible_header(data: bytes | bytearray, pos: int = 0) -> bool:
    """Can a device frame start at ``data[pos]`` (type, length, byte 4, measurement size)?

    A measurement header cut before its count and mask (only the first piece of a
    frame) is plausible; :func:`frame_ok` judges whole frames.
    """
    if len(data) - pos < 5:
        return False
    kind, length, what = data[pos], data[pos + 1], data[pos + 4]
    if kind != MEASUREMENT:
        return length >= 6 and what in _COMMAND_IDS
    if what not in _MEASUREMENT_TYPES or length < 5:
        return False
    want = expected_length(data[pos : pos + 11])
    return want is None or want < 0 or want == length


def frame_ok(frame: bytes | bytearray, check_checksum: bool = True) -> bool:
    """Is ``frame`` one whole, well-formed device frame: length as declared, a known type and
    byte 4, a measurement's size as its count and mask imply, and (``check_checksum``) byte 3
    the checksum?"""
    n = len(frame)
    if n < 5 or frame[1] != n:
        return False
    what = frame[4]
    if frame[0] == MEASUREMENT:
        if what not in _MEASUREMENT_TYPES:
            return False
        want = expected_length(frame)
        if want is None or (want >= 0 and want != n):  # a header cut short is no whole frame
            return False
    elif n < 6 or what not in _COMMAND_IDS:
        return False
    return not check_checksum or (sum(frame) - frame[3]) & 0xFF == frame[3]


@cache
def _normal_frames_dtype(n_values: int) -> np.dtype:
    """A whole NORMAL_REAL32 frame carrying ``n_values`` float32 values, as one record."""
    return np.dtype(
        [
            ("type", "u1"),
            ("length", "u1"),
            ("counter", "u1"),
            ("checksum", "u1"),
            ("subtype", "u1"),
            ("mask", "<u2"),
            ("count", "u1"),
            ("spare", "u1"),
            ("values", "<f4", (n_values,)),
        ]
    )


#: the float32 values of a frame, by their number (a frame has at most 255 bytes)
_REALS = [struct.Struct(f"<{n}f") for n in range(64)]


@lru_cache(maxsize=256)
def _values_struct(n_values: int, integer: bool) -> struct.Struct:
    return struct.Struct(f"<{n_values}{'i' if integer else 'f'}")


# ------------------------------------------------------------------ framing
class _Candidate:
    """An unfinished frame: the bytes so far and how many are still missing."""

    __slots__ = ("data", "need")

    def __init__(self, data: bytes, need: int):
        self.data = bytearray(data)
        self.need = need


class VernierFramer:
    """Notifications -> whole device frames (see the module docstring: reassembly rules).

    ``feed(notification)`` returns the frames the notification completes, in
    order; bytes that start no frame are counted in ``stats`` and dropped.
    ``expect_reply(command, counter)`` names the command in flight, whose reply
    may span notifications.
    """

    def __init__(self, stats: CodecStats, check_checksum: bool = True):
        self.stats = stats
        self.check_checksum = check_checksum
        self.last_command: int | None = None
        self.last_counter: int | None = None
        self._candidates: list[_Candidate] = []

    def expect_reply(self, command: int, counter: int) -> None:
        self.last_command, self.last_counter = command, counter

    def feed(self, data: bytes) -> list[bytes]:
        if self._candidates:
            done = self._continue(data)
            if done is not None:
                return [done]
        return self._split(data)

    def _continue(self, data: bytes) -> bytes | None:
        """Offer ``data`` to every unfinished frame; return the first one it completes validly."""
        keep: list[_Candidate] = []
        for cand in self._candidates:
            if len(data) > cand.need:  # longer than what is missing: not a continuation
                self._drop(len(cand.data))
                continue
            cand.data += data
            cand.need -= len(data)
            if cand.need:
                keep.append(cand)
            elif frame_ok(cand.data, self.check_checksum):
                self._candidates = []  # the stream is explained; other readings were wrong
                return bytes(cand.data)
            else:
                self.stats.crc_errors += 1
                self._drop(len(cand.data))
        self._candidates = keep
        return None

    def _drop(self, n_bytes: int) -> None:
        self.stats.bytes_discarded += n_bytes
        self.stats.resyncs += 1

    def _split(self, data: bytes) -> list[bytes]:
        """A notification read as the start of frames: whole frames, maybe the first piece of a long one."""
        frames: list[bytes] = []
        pos, n = 0, len(data)
        while n - pos >= 5:
            end = pos + data[pos + 1]
            if end <= n:
                frame = data[pos:end]
                if frame_ok(frame, self.check_checksum):
                    pos = end
                    if self._candidates:  # a notification of whole frames continues nothing
                        self._drop(sum(len(c.data) for c in self._candidates))
                        self._candidates = []
                    frames.append(frame)
                    continue
                if plausible_header(data, pos):
                    self.stats.crc_errors += 1
            # only a notification's first frame may continue in the next notification
            elif (
                pos == 0
                and plausible_header(data)
                and self._may_continue(data)
                and not self._has_frame(data, 1)
            ):
                self._candidates = [*self._candidates, _Candidate(data, end - n)][-MAX_CANDIDATES:]
                return frames
            pos += 1
            self._drop(1)
        if n - pos:
            self._drop(n - pos)
        return frames

    def _may_continue(self, head: bytes) -> bool:
        """May a frame starting with ``head`` span notifications? Measurements, and replies to the command in flight.

        Long replies (device and sensor info) only ever answer the last command,
        so a stray reply header cannot hold back the notifications after it.
        """
        if head[0] == MEASUREMENT:
            return True
        return len(head) > 5 and head[4] == self.last_command and head[5] == self.last_counter

    def _has_frame(self, data: bytes, start: int) -> bool:
        """Is there a whole valid frame in ``data[start:]``?"""
        for pos in range(start, len(data) - 5):
            length = data[pos + 1]
            if pos + length <= len(data) and frame_ok(data[pos : pos + length], self.check_checksum):
                return True
        return False


# ------------------------------------------------------------------ codec
class VernierCodec:
    """Go Direct notifications -> sample blocks (sensor units, host-zeroed) and replies.

    ``feed(notification)`` runs :class:`VernierFramer` then :meth:`parse` on
    each whole frame; :meth:`feed_bulk` decodes a replayed capture of frames
    back to back, with the same events.
    """

    protocol = "vernier"

    def __init__(
        self, sensor_mask: int = DEFAULT_SENSOR_MASK, period_us: int = 100_000, check_checksum: bool = True
    ):
        self.stats = CodecStats()
        self.framer = VernierFramer(self.stats, check_checksum)
        self.counter = 0xFF
        self.period_us = period_us
        self.configure(sensor_mask)
        self._index = 0  # samples so far in the current stream

    @property
    def check_checksum(self) -> bool:
        return self.framer.check_checksum

    @check_checksum.setter
    def check_checksum(self, on: bool) -> None:
        self.framer.check_checksum = on

    @property
    def last_command(self) -> int | None:
        return self.framer.last_command

    @property
    def last_counter(self) -> int | None:
        return self.framer.last_counter

    @property
    def zero(self) -> np.ndarray:
        """Host-side zero per channel (sensor units), subtracted from every sample."""
        return np.array(self._zero)

    @zero.setter
    def zero(self, values: np.ndarray | Sequence[float]) -> None:
        zero = tuple(float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1))
        if len(zero) != len(self._sensors):
            raise ValueError(f"zero needs {len(self._sensors)} values (one per sensor), got {len(zero)}")
        self._zero = zero

    def configure(self, sensor_mask: int) -> None:
        """Channels = the sensors of ``sensor_mask`` (u32); clears the zero. Raises ValueError."""
        if not 0 <= sensor_mask < 1 << 32:
            raise ValueError(f"a Go Direct sensor mask is 32 bits, not {sensor_mask:#x}")
        self.sensor_mask = sensor_mask
        self._sensors = _mask_bits(sensor_mask)
        self._zero = (0.0,) * len(self._sensors)

    # -- commands ---------------------------------------------------------------
    def _frame(self, command_id: int, params: bytes = b"") -> bytes:
        if command_id == CMD_INIT:
            self.counter = 0xFF
        self.counter = (self.counter - 1) & 0xFF
        self.framer.expect_reply(command_id, self.counter)
        return command_frame(command_id, params, self.counter)

    def encode(self, command: Command) -> bytes:
        """Command frame bytes; raises ValueError for a command Go Direct devices lack."""
        command_id = COMMAND_IDS.get(type(command))
        if command_id is None:
            raise ValueError(f"Go Direct devices have no '{command.name}' command")
        if isinstance(command, Init):
            return self._frame(CMD_INIT, INIT_PARAMS)
        if isinstance(command, GetSensorInfo):
            if not 0 <= command.sensor <= 0xFF:
                raise ValueError(f"Go Direct sensor numbers are 0-255, not {command.sensor}")
            return self._frame(CMD_GET_SENSOR_INFO, bytes((command.sensor,)))
        if isinstance(command, SetRate):
            period = int(round(1e6 / command.rate_hz)) if command.rate_hz > 0 else 0
            if not 0 < period < 1 << 32:
                raise ValueError(f"Go Direct devices cannot sample at {command.rate_hz:g} Hz")
            self.period_us = period
            return self._frame(CMD_SET_PERIOD, b"\xff\x00" + struct.pack("<I", period) + bytes(4))
        if isinstance(command, Start):
            self._index = 0
            return self._frame(CMD_START, b"\xff\x01" + struct.pack("<I", self.sensor_mask) + bytes(8))
        if isinstance(command, Stop):
            return self._frame(CMD_STOP, b"\xff\x00\xff\xff\xff\xff")
        return self._frame(command_id)

    # -- bytes in ---------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode one notification; never raises.

        Fast path: the usual notification is one whole NORMAL_REAL32 frame of
        the configured sensors, with no frame of earlier notifications pending:
        checked (length, type, subtype, mask, count, checksum: what
        :func:`frame_ok` checks) and decoded right here, into the very block and
        counters :meth:`_feed_general` would give. Everything else goes there.
        """
        if type(data) is not bytes:
            data = bytes(data)
        n = len(data)
        if (
            n > 9
            and data[1] == n
            and data[0] == MEASUREMENT
            and data[4] == NORMAL_REAL32
            and data[5] | data[6] << 8 == self.sensor_mask
            and n == 9 + 4 * data[7] * len(self._sensors)  # (so count >= 1 and a sensor at least)
            and not self.framer._candidates
            and (not self.framer.check_checksum or (sum(data) - data[3]) & 0xFF == data[3])
        ):
            self.stats.bytes_in += n
            self.stats.frames_ok += 1
            return [self._block(_REALS[(n - 9) >> 2].unpack_from(data, 9), self._sensors)]
        return self._feed_general(data)

    def _feed_general(self, data: bytes) -> list[CodecEvent]:
        """Any notification: :class:`VernierFramer`, then :meth:`parse` on each whole frame."""
        self.stats.bytes_in += len(data)
        events: list[CodecEvent] = []
        for frame in self.framer.feed(data):
            events += self.parse(frame)
        return join_runs(events)

    def parse(self, frame: bytes) -> list[CodecEvent]:
        """One whole, checked frame (from :class:`VernierFramer`) -> its events."""
        self.stats.frames_ok += 1
        if frame[0] != MEASUREMENT:
            return self._reply(frame)
        sub = frame[4]
        if sub == NORMAL_REAL32:
            sensors, count, start = _mask_bits(frame[5] | frame[6] << 8), frame[7], 9
        elif sub == WIDE_REAL32:
            sensors, count, start = _mask_bits(int.from_bytes(frame[5:9], "little")), frame[9], 11
        elif sub in _SINGLE_TYPES:
            sensors, count, start = (frame[6],), frame[7], 8
        else:
            return []  # start time / dropped / period: no samples
        if not sensors or not count or not self._sensors:  # (no sample, or no channel configured)
            return []
        raw = _values_struct(count * len(sensors), sub in _INT_TYPES).unpack_from(frame, start)
        return [self._block(raw, sensors)]

    def _reply(self, frame: bytes) -> list[CodecEvent]:
        reply = GdxReply(frame[4], frame[5], frame[6:])
        out: list[CodecEvent] = [reply]  # type: ignore[list-item]
        if reply.command == CMD_GET_STATUS:
            status = parse_status(reply.payload)
            if status is not None:
                out.append(BatteryReply(percent=float(status["battery_percent"])))  # type: ignore[arg-type]
        return out

    def _block(self, raw: Sequence[float], sensors: tuple[int, ...]) -> SampleBlock:
        """Values sample by sample, sensor by sensor in mask order -> a block in the configured
        channel order (NaN for a configured sensor the frame lacks), zeroed and timed."""
        width = len(self._sensors)
        if sensors != self._sensors:
            col = [sensors.index(s) if s in sensors else -1 for s in self._sensors]
            raw = [raw[i + c] if c >= 0 else math.nan for i in range(0, len(raw), len(sensors)) for c in col]
        if any(self._zero):
            raw = [v - z for v, z in zip(raw, self._zero * (len(raw) // width))]
        first = self._index
        self._index = last = first + len(raw) // width
        period_s = self.period_us * 1e-6
        return RowBlock([k * period_s for k in range(first, last)], raw, width, first)

    # -- a replayed capture ---------------------------------------------------------
    def feed_bulk(self, data: bytes) -> list[CodecEvent]:
        """Decode a capture of whole frames back to back (a replayed log), with the same events
        and statistics as :meth:`feed`.

        A capture of NORMAL_REAL32 frames of one layout is checked and decoded
        with one structured NumPy view; anything else goes through :meth:`feed`.
        """
        data = bytes(data)
        blk = self._uniform_measurements(data) if not self.framer._candidates else None
        if blk is None:
            return self.feed(data)
        self.stats.bytes_in += len(data)
        return [blk]

    def _uniform_measurements(self, data: bytes) -> SampleBlock | None:
        """Same-layout NORMAL_REAL32 frames, all checked and decoded at once (``None``: not so).

        One structured-dtype view of all frames, kept to few NumPy calls (each
        costs more than the arithmetic on a capture of a few thousand frames):
        the headers are compared as two integers per frame, the checksums are
        one ``einsum`` over the bytes (uint8 arithmetic is already modulo 256).
        """
        n = len(data)
        if n < 9 or data[0] != MEASUREMENT or data[4] != NORMAL_REAL32:
            return None
        length = data[1]
        if expected_length(data[:9]) != length or n % length or data[7] == 0:
            return None
        frames = n // length
        # every frame's (type, length) and (subtype, mask, count) are the first one's
        for offset, kind in ((0, "<u2"), (4, "<u4")):
            head = np.ndarray(frames, kind, data, offset, (length,))
            if (head != head[0]).any():
                return None
        sensors = _mask_bits(data[5] | data[6] << 8)
        records = np.frombuffer(data, dtype=_normal_frames_dtype(data[7] * len(sensors)))
        if self.check_checksum:
            rows = np.ndarray((frames, length), np.uint8, data)
            total = np.einsum("ij->i", rows, dtype=np.uint8)  # sum of every byte, modulo 256
            total -= records["checksum"]
            total -= records["checksum"]  # (a good frame: the others sum to its checksum)
            if total.any():
                return None  # some checksum is wrong: the frame-by-frame path sorts it out
        self.stats.frames_ok += frames
        width = len(self._sensors)
        with np.errstate(invalid="ignore"):  # signalling NaN payloads pass through as NaN
            raw = records["values"].astype(np.float64).reshape(-1, len(sensors))
        if sensors == self._sensors:
            values = raw
        else:
            values = np.full((len(raw), width), np.nan)
            for col, sensor in enumerate(self._sensors):
                if sensor in sensors:
                    values[:, col] = raw[:, sensors.index(sensor)]
        if any(self._zero):  # (as _block: a zero of zeros is not subtracted)
            values -= np.array(self._zero)
        first = self._index
        self._index += len(values)
        device_time = np.arange(first, self._index, dtype=np.float64)  # (integers: exact)
        device_time *= self.period_us * 1e-6  # k x period, as _block
        return SampleBlock(device_time, values, seq=first)
