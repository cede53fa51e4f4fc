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
  volts); firmware version: register 0x2E.

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
from .witmotion import (
    ACC_G_PER_LSB,
    ANGLE_DEG_PER_LSB,
    CAL_ACC_GYRO,
    CAL_NORMAL,
    G_MS2,
    GYRO_DPS_PER_LSB,
    RATE_CODES,
    REG_CALSW,
    REG_RRATE,
    REG_VERSION,
    SAVE,
    UNLOCK,
    command_bytes,
    rate_code,
    read_bytes,
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
REG_BATTERY_BLE = 0x64

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
    if n < FRAME_LEN or n % FRAME_LEN or data[0] != HEAD or data[1] not in (KIND_DATA, KIND_REGISTER):
        return False
    if n == FRAME_LEN:
        return True
    heads = np.frombuffer(data, dtype=np.uint8).reshape(-1, FRAME_LEN)[:, :2]
    return bool(((heads[:, 0] == HEAD) & ((heads[:, 1] == KIND_DATA) | (heads[:, 1] == KIND_REGISTER))).all())


class WitMotionBleCodec:
    """WT901BLE notifications -> 9-channel sample blocks and register replies."""

    protocol = "witmotion-ble"

    def __init__(self, rate_hz: float = 10.0):
        self.stats = CodecStats()
        self.rate_hz = rate_hz
        self.active = False  # host-side start/stop: samples before Start are dropped
        self._index = 0
        self._partial = b""  # the start of a frame cut at the end of the last notification

    # -- commands ---------------------------------------------------------------
    def encode(self, command: Command) -> bytes:
        if isinstance(command, SetRate):
            data = UNLOCK + command_bytes(REG_RRATE, rate_code(command.rate_hz)) + SAVE
            self.rate_hz = command.rate_hz
            return data
        if isinstance(command, WriteRegister):
            if command.register == REG_RRATE and command.value in RATE_CODES:
                self.rate_hz = RATE_CODES[command.value]
            return UNLOCK + command_bytes(command.register, command.value) + SAVE
        if isinstance(command, ReadRegister):
            return read_bytes(command.register)
        if isinstance(command, GetInfo):
            return read_bytes(REG_VERSION)
        if isinstance(command, GetBattery):
            return read_bytes(REG_BATTERY_BLE)
        if isinstance(command, CalibrateStart):
            return UNLOCK + command_bytes(REG_CALSW, CAL_ACC_GYRO)
        if isinstance(command, CalibrateEnd):
            return UNLOCK + command_bytes(REG_CALSW, CAL_NORMAL) + SAVE
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
        self._partial = b""

    # -- bytes in ---------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode one notification; never raises."""
        self.stats.bytes_in += len(data)
        data = bytes(data)
        if self._partial:
            if _whole_frames(data):  # a fresh start: the cut frame is not continued
                self.stats.bytes_discarded += len(self._partial)
                self.stats.resyncs += 1
            else:
                data = self._partial + data
            self._partial = b""
        if _whole_frames(data):
            frames = np.frombuffer(data, dtype=np.uint8).reshape(-1, FRAME_LEN)
            if (frames[:, 1] == KIND_DATA).all():  # the common case: samples only, decoded at once
                self.stats.frames_ok += len(frames)
                blk = self._block(np.ascontiguousarray(frames[:, 2:]).view("<i2"))
                return [] if blk is None else [blk]
        return self._walk(data)

    def _walk(self, buf: bytes) -> list[CodecEvent]:
        """Frame by frame, skipping to the next header; a cut frame at the end is kept for the next notification."""
        events: list[CodecEvent] = []
        samples: list[bytes] = []
        pos, n = 0, len(buf)
        while pos < n:
            if n - pos >= 2 and (buf[pos] != HEAD or buf[pos + 1] not in (KIND_DATA, KIND_REGISTER)):
                nxt = buf.find(HEAD, pos + 1)
                skip = (n if nxt < 0 else nxt) - pos
                self.stats.resyncs += 1
                self.stats.bytes_discarded += skip
                pos += skip
                continue
            if n - pos < FRAME_LEN:
                if buf[pos] == HEAD:
                    self._partial = buf[pos:]
                else:
                    self.stats.bytes_discarded += n - pos
                break
            frame = buf[pos : pos + FRAME_LEN]
            pos += FRAME_LEN
            self.stats.frames_ok += 1
            if frame[1] == KIND_DATA:
                samples.append(frame[2:])
            else:
                if samples:  # keep the order of samples and replies
                    events.append(self._block(np.frombuffer(b"".join(samples), dtype="<i2")))
                    samples = []
                events.extend(self._register(frame))
        if samples:
            events.append(self._block(np.frombuffer(b"".join(samples), dtype="<i2")))
        return [e for e in events if e is not None]

    def _block(self, words: np.ndarray) -> SampleBlock | None:
        """int16 words of whole data frames -> a block of (n, 9) physical values (None before Start)."""
        if not self.active:
            return None
        raw = words.reshape(-1, 9)
        first = self._index
        self._index += len(raw)
        idx = np.arange(first, self._index)
        return SampleBlock(device_time=idx / self.rate_hz, values=raw * SCALE, seq=first)

    def _register(self, frame: bytes) -> list[CodecEvent]:
        reg = int.from_bytes(frame[2:4], "little")
        values = tuple(int(v) for v in np.frombuffer(frame, dtype="<i2", count=8, offset=4))
        out: list[CodecEvent] = [RegisterReply(reg, values)]  # type: ignore[list-item]
        if reg == REG_BATTERY_BLE:
            volts = (values[0] & 0xFFFF) / 100.0
            out.append(BatteryReply(percent=battery_percent(volts), volts=volts))
        return out
