"""Sans-I/O codec for the WitMotion WT901BLE / BWT901BLE5.0 IMU over BLE.

Wire format (WitMotion ``WitBluetooth_BWT901BLE5_0`` SDKs):

* GATT: service ``0000ffe5-...``, notify ``0000ffe4-...``, write ``0000ffe9-...``,
  all on the base ``-0000-1000-8000-00805f9a34fb`` — *9a*34fb, not the
  Bluetooth base 9b34fb, so the full 128-bit UUIDs must be used (a short
  "ffe4" expands to the wrong one).
* device -> host: 20-byte frames, no checksum. ``55 61`` + 9 int16 LE:
  acceleration x, y, z (raw/32768 x 16 g), angular rate (raw/32768 x 2000 deg/s),
  roll, pitch, yaw (raw/32768 x 180 deg). ``55 71 reg_lo reg_hi`` + 8 int16
  LE registers answers a register read. The parser resynchronises on the
  two-byte headers.
* host -> device: the serial WT901's 5-byte commands ``FF AA reg lo hi``
  (unlock ``FF AA 69 88 B5`` before a write, save ``FF AA 00 00 00`` after);
  a register read is ``FF AA 27 reg 00``. Battery: register 0x64 (value/100 =
  volts); firmware version: register 0x2E. Registers and command sequences come
  from :mod:`.witmotion` (the one command table of both WitMotion codecs).

There is no sample timestamp or counter: sample k of a stream gets device time
``k / rate`` with the output rate the host configured. Start/stop are done on
the host (the sensor streams whenever notifications are on).

**Notifications.** One :meth:`WitMotionBleCodec.feed` call is one BLE
notification. The sensor normally sends one 20-byte frame per notification,
but the official SDK parses the notify data as a byte stream (its module
bridges a UART), so a frame cut across two notifications is joined. The carry
is bounded to one partial frame (at most 19 bytes), and a notification that is
whole frames on its own (starts with a header, a multiple of 20 bytes long,
a header every 20 bytes) always starts afresh: the pending partial frame is
dropped rather than joined to it.

**What can and cannot be detected.** The frames have no checksum, so the only
checks are the two-byte header and the length. Recovery means: after any
garbage, every notification that holds whole frames decodes exactly (garbage
can cost at most the partial frame it leaves behind, never a whole-frame
notification); inside a notification, bytes before a ``55 61``/``55 71``
header are skipped. Not detectable: corrupted values inside a frame, a
garbage run that contains ``55 61`` followed by 18 bytes (it decodes as a
sample), and a lost notification (the sample count, hence device time, just
carries on without it).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from operator import mul

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
from .blocks import join_runs, new_block
from .witmotion import (
    ACC_G_PER_LSB,
    ANGLE_DEG_PER_LSB,
    CALIBRATE_END,
    CALIBRATE_START,
    G_MS2,
    GYRO_DPS_PER_LSB,
    RATE_CODES,
    REG_BATTERY_BLE,
    REG_RRATE,
    REG_VERSION,
    SAVE,
    UNLOCK,
    read_bytes,
    set_rate_bytes,
    write_register_bytes,
)
from .witmotion import (
    CHANNELS as _SERIAL_CHANNELS,
)

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"
NAME_PREFIX = "WT"

FRAME_LEN = 20
HEAD = 0x55
KIND_DATA = 0x61
KIND_REGISTER = 0x71

#: acc (m/s^2), gyro (deg/s), roll/pitch/yaw (deg): the first nine serial WT901 channels
CHANNELS = _SERIAL_CHANNELS[:9]
SCALE = np.array([ACC_G_PER_LSB * G_MS2] * 3 + [GYRO_DPS_PER_LSB] * 3 + [ANGLE_DEG_PER_LSB] * 3)

#: battery volts -> %, after the range the WitMotion SDK maps (3.40-3.96 V)
_BATTERY_V = (3.40, 3.50, 3.68, 3.74, 3.80, 3.88, 3.96)
_BATTERY_PCT = (0.0, 5.0, 20.0, 40.0, 60.0, 80.0, 100.0)


@dataclass(frozen=True)
class ReadRegister(Command):
    register: int = REG_VERSION


@dataclass(frozen=True)
class WriteRegister(Command):
    """Unlock, write a 16-bit register, save."""

    register: int = REG_RRATE
    value: int = 0x08


@dataclass(frozen=True)
class CalibrateStart(Command):
    """Accelerometer + gyro calibration (CALSW = 1): keep the sensor level and still."""


@dataclass(frozen=True)
class CalibrateEnd(Command):
    """CALSW = 0 and save the new offsets."""


@dataclass(frozen=True)
class RegisterReply:
    """``55 71``: eight 16-bit registers starting at ``register`` (raw int16 values)."""

    register: int
    values: tuple[int, ...]


def battery_percent(volts: float) -> float:
    return float(np.interp(volts, _BATTERY_V, _BATTERY_PCT))


def data_frame(raw: np.ndarray) -> bytes:
    """20-byte ``55 61`` frame(s) of int16 rows (n, 9) (emulators and tests)."""
    raw = np.atleast_2d(np.asarray(raw, dtype="<i2"))
    head = np.tile(np.array([HEAD, KIND_DATA], dtype=np.uint8), (len(raw), 1))
    return np.hstack([head, raw.view(np.uint8).reshape(len(raw), 18)]).tobytes()


def register_frame(register: int, values: tuple[int, ...]) -> bytes:
    vals = np.zeros(8, dtype="<i2")
    vals[: len(values)] = values[:8]
    return bytes((HEAD, KIND_REGISTER, register & 0xFF, register >> 8 & 0xFF)) + vals.tobytes()


def to_raw(acc_ms2: np.ndarray, gyro_dps: np.ndarray, euler_deg: np.ndarray) -> np.ndarray:
    """Physical values -> the int16 words the sensor sends, (n, 9) (emulators)."""
    phys = np.hstack([acc_ms2, gyro_dps, euler_deg])
    return np.clip(np.round(phys / SCALE), -32768, 32767).astype(np.int16)


def _whole_frames(data: bytes) -> bool:
    """Is ``data`` a run of whole frames (a header at every 20th byte)?"""
    n = len(data)
    if n < FRAME_LEN or n % FRAME_LEN:
        return False
    return all(data[i] == HEAD and data[i + 1] in _KINDS for i in range(0, n, FRAME_LEN))


_KINDS = (KIND_DATA, KIND_REGISTER)
_DATA_HEAD = bytes((HEAD, KIND_DATA))
_SCALE = tuple(SCALE.tolist())
_ACC_SCALE, _GYRO_SCALE, _ANGLE_SCALE = _SCALE[0], _SCALE[3], _SCALE[6]
_WORDS = struct.Struct("<9h")
_REGISTERS = struct.Struct("<H8h")


class WitMotionBleFramer:
    """Notifications -> whole 20-byte frames, joining a frame cut across two notifications
    (see the module docstring for the rules); skipped bytes are counted in ``stats``."""

    def __init__(self, stats: CodecStats):
        self.stats = stats
        self.partial = b""  # the start of a frame cut at the end of the last notification

    def feed(self, data: bytes) -> list[bytes]:
        if self.partial:
            if _whole_frames(data):  # a fresh start: the cut frame is not continued
                self.stats.bytes_discarded += len(self.partial)
                self.stats.resyncs += 1
            else:
                data = self.partial + data
            self.partial = b""
        frames: list[bytes] = []
        pos, n = 0, len(data)
        while pos < n:
            if n - pos >= 2 and (data[pos] != HEAD or data[pos + 1] not in _KINDS):
                nxt = data.find(HEAD, pos + 1)
                skip = (n if nxt < 0 else nxt) - pos
                self.stats.resyncs += 1
                self.stats.bytes_discarded += skip
                pos += skip
                continue
            if n - pos < FRAME_LEN:
                if data[pos] == HEAD:
                    self.partial = data[pos:]
                else:
                    self.stats.bytes_discarded += n - pos
                break
            frames.append(data[pos : pos + FRAME_LEN])
            pos += FRAME_LEN
        return frames


class WitMotionBleCodec:
    """WT901BLE notifications -> 9-channel sample blocks and register replies.

    ``feed(notification)`` runs :class:`WitMotionBleFramer` then :meth:`parse`
    on each frame; :meth:`feed_bulk` decodes a replayed capture of frames back to
    back, with the same events.
    """

    protocol = "witmotion-ble"

    def __init__(self, rate_hz: float = 10.0):
        self.stats = CodecStats()
        self.framer = WitMotionBleFramer(self.stats)
        self.rate_hz = rate_hz
        self.active = False  # host-side start/stop: samples before Start are dropped
        self._index = 0

    # -- commands ---------------------------------------------------------------
    def encode(self, command: Command) -> bytes:
        """Command bytes; raises ValueError for a command or rate the WT901BLE lacks."""
        if isinstance(command, SetRate):
            data = set_rate_bytes(command.rate_hz)
            self.rate_hz = command.rate_hz
            return data
        if isinstance(command, WriteRegister):
            if command.register == REG_RRATE and command.value in RATE_CODES:
                self.rate_hz = RATE_CODES[command.value]
            return write_register_bytes(command.register, command.value)
        if isinstance(command, ReadRegister):
            return read_bytes(command.register)
        if isinstance(command, GetInfo):
            return read_bytes(REG_VERSION)
        if isinstance(command, GetBattery):
            return read_bytes(REG_BATTERY_BLE)
        if isinstance(command, CalibrateStart):
            return UNLOCK + CALIBRATE_START
        if isinstance(command, CalibrateEnd):
            return UNLOCK + CALIBRATE_END + SAVE
        if isinstance(command, Start):
            self.active, self._index = True, 0
            return b""
        if isinstance(command, Stop):
            self.active = False
            return b""
        raise ValueError(f"the WT901BLE has no '{command.name}' command")

    def restart(self) -> None:
        """A new link: the stream (and its sample count) starts again; partial frames are stale."""
        self._index = 0
        self.framer.partial = b""

    # -- bytes in ---------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode one notification; never raises.

        Fast path, the usual notification while streaming: one whole data frame and no cut frame
        pending. It is decoded here, with the same block and counters as :meth:`_feed_general`
        (framer + :meth:`parse`), which takes every other notification.
        """
        if len(data) == FRAME_LEN and data[:2] == _DATA_HEAD and self.active and not self.framer.partial:
            stats = self.stats
            stats.bytes_in += FRAME_LEN
            stats.frames_ok += 1
            k = self._index
            self._index = k + 1
            ax, ay, az, gx, gy, gz, roll, pitch, yaw = _WORDS.unpack_from(data, 2)
            acc, gyro, angle = _ACC_SCALE, _GYRO_SCALE, _ANGLE_SCALE  # (what parse's _SCALE holds)
            values = (
                ax * acc, ay * acc, az * acc, gx * gyro, gy * gyro, gz * gyro, roll * angle, pitch * angle, yaw * angle
            )  # fmt: skip
            return [RowBlock((k / self.rate_hz,), values, 9, k)]
        return self._feed_general(data)

    def _feed_general(self, data: bytes) -> list[CodecEvent]:
        """Any notification: :class:`WitMotionBleFramer`, then :meth:`parse` on each whole frame."""
        data = bytes(data)
        self.stats.bytes_in += len(data)
        events: list[CodecEvent] = []
        for frame in self.framer.feed(data):
            events += self.parse(frame)
        return join_runs(events)

    def parse(self, frame: bytes) -> list[CodecEvent]:
        """One whole 20-byte frame (from :class:`WitMotionBleFramer`) -> its events."""
        self.stats.frames_ok += 1
        if frame[1] == KIND_DATA:
            if not self.active:
                return []
            first = self._index
            self._index += 1
            values = tuple(map(mul, _WORDS.unpack_from(frame, 2), _SCALE))
            return [new_block((first / self.rate_hz,), values, 9, first)]
        reg, *regs = _REGISTERS.unpack_from(frame, 2)
        out: list[CodecEvent] = [RegisterReply(reg, tuple(regs))]  # type: ignore[list-item]
        if reg == REG_BATTERY_BLE:
            volts = (regs[0] & 0xFFFF) / 100.0
            out.append(BatteryReply(percent=battery_percent(volts), volts=volts))
        return out

    # -- a replayed capture -----------------------------------------------------------
    def feed_bulk(self, data: bytes) -> list[CodecEvent]:
        """Decode a capture of whole frames back to back (a replayed log), with the same events
        and statistics as :meth:`feed`: a capture of data frames only is decoded with one
        NumPy view, anything else goes through :meth:`feed`."""
        data = bytes(data)
        if self.framer.partial or not data or len(data) % FRAME_LEN:
            return self.feed(data)
        frames = np.frombuffer(data, dtype=np.uint8).reshape(-1, FRAME_LEN)
        if not ((frames[:, 0] == HEAD) & (frames[:, 1] == KIND_DATA)).all():
            return self.feed(data)
        self.stats.bytes_in += len(data)
        self.stats.frames_ok += len(frames)
        if not self.active:
            return []
        raw = np.ascontiguousarray(frames[:, 2:]).view("<i2")
        first = self._index
        self._index += len(raw)
        idx = np.arange(first, self._index)
        return [SampleBlock(device_time=idx / self.rate_hz, values=raw * SCALE, seq=first)]
