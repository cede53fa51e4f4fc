"""Sans-I/O codec for the WitMotion WT901 serial protocol (WT901, JY901, BWT901CL).

Wire format (WitMotion ``WitStandardProtocol_JY901``: REG.h, wit_c_sdk.c):

* device -> host: 11-byte frames ``55 TT d0..d7 CS``; the data are four int16
  little-endian words and ``CS = sum(bytes 0..9) & 0xFF``. Types 0x50-0x5A are
  stream frames (0x51 acceleration raw/32768*16 g, 0x52 angular rate
  raw/32768*2000 deg/s, 0x53 roll/pitch/yaw raw/32768*180 deg, 0x54 magnetic
  field raw counts...), 0x5F answers a register read with four registers.
* host -> device: 5-byte commands ``FF AA reg lo hi``; writes need the unlock
  ``FF AA 69 88 B5`` first and ``FF AA 00 00 00`` (SAVE) after; a read is
  ``FF AA 27 reg 00``. This module owns every register address, value and
  command sequence (the BLE codec, drivers and emulators import them from here):
  see "command table" below.

The device sends one frame of each enabled type (RSW register, ascending type
order) per output period (RRATE register) and has no per-sample timestamp, so
the codec groups the frames of one period into one sample row and builds the
device time as ``sample index / rate``. The sample index follows the frame
types and the number of bytes lost in between, so a corrupted stretch is
counted as dropped samples instead of squeezing time.

Live path: :class:`WitMotionFramer` cuts the byte stream into checked frames
(it resynchronises one byte at a time after a bad header or checksum), and
:meth:`WitMotionCodec.parse` places each frame in its sample row; the usual
read, one whole output period right after the last one, is checked and decoded
in :meth:`WitMotionCodec.feed` itself (same events, same counters). A replayed
capture goes through :meth:`WitMotionCodec.feed_bulk`, which checks and
decodes runs of whole, clean output periods with a few NumPy operations and
gives the rest to the frame-by-frame path: the same events as :meth:`feed`.
"""

from __future__ import annotations

import math
import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from operator import mul
from zlib import adler32

import numpy as np

from ...recording import Channel

#: standard gravity, m/s^2 (CGPM 1901), used to turn g into m/s^2
from ...units import STANDARD_GRAVITY as G_MS2
from ..base import (
    Ack,
    BatteryReply,
    CodecEvent,
    CodecStats,
    Command,
    DeviceInfo,
    GetBattery,
    GetInfo,
    InfoReply,
    RowBlock,
    SampleBlock,
    SetRate,
    Start,
    Stop,
)
from .blocks import join_runs, new_block

HEADER = 0x55
FRAME_LEN = 11
TYPE_TIME, TYPE_ACC, TYPE_GYRO, TYPE_ANGLE, TYPE_MAG = 0x50, 0x51, 0x52, 0x53, 0x54
TYPE_QUAT = 0x59
TYPE_REGISTER = 0x5F
#: highest stream frame type (0x5A = GPS accuracy); RSW bit k enables type 0x50 + k
MAX_STREAM_TYPE = 0x5A

ACC_G_PER_LSB = 16.0 / 32768.0
GYRO_DPS_PER_LSB = 2000.0 / 32768.0
ANGLE_DEG_PER_LSB = 180.0 / 32768.0

# registers (REG.h)
REG_SAVE, REG_CALSW, REG_RSW, REG_RRATE = 0x00, 0x01, 0x02, 0x03
REG_AXOFFSET, REG_GXOFFSET = 0x05, 0x08
REG_VERSION = 0x2E
REG_BATTERY = 0x5C
REG_READ = 0x27
REG_KEY = 0x69
KEY_UNLOCK = 0xB588

#: RRATE code -> output rate in Hz (0x0C = single shot, 0x0D = no output)
RATE_CODES: dict[int, float] = {
    0x01: 0.2, 0x02: 0.5, 0x03: 1.0, 0x04: 2.0, 0x05: 5.0, 0x06: 10.0,
    0x07: 20.0, 0x08: 50.0, 0x09: 100.0, 0x0A: 125.0, 0x0B: 200.0,
}  # fmt: skip
RATE_NONE = 0x0D

#: RSW content bits
RSW_TIME, RSW_ACC, RSW_GYRO, RSW_ANGLE, RSW_MAG = 0x01, 0x02, 0x04, 0x08, 0x10
RSW_DEFAULT = RSW_ACC | RSW_GYRO | RSW_ANGLE | RSW_MAG

#: CALSW values
CAL_NORMAL, CAL_ACC_GYRO, CAL_MAG = 0x00, 0x01, 0x07

#: magnetometer scale, µT per LSB. The 0x54 counts depend on the magnetometer chip
#: (register 0x72 in WitMotion's apps); 0.15 µT/LSB is a typical value, pass
#: ``mag_ut_per_lsb`` for a calibrated unit.
DEFAULT_MAG_UT_PER_LSB = 0.15

CHANNELS: tuple[Channel, ...] = (
    *(Channel(f"acc_{a}", "ACCEL", "m/s^2", a, "device") for a in "xyz"),
    *(Channel(f"gyr_{a}", "GYRO", "deg/s", a, "device") for a in "xyz"),
    Channel("roll", "ORNT", "deg", "x", "device"),
    Channel("pitch", "ORNT", "deg", "y", "device"),
    Channel("yaw", "ORNT", "deg", "z", "device"),
    *(Channel(f"mag_{a}", "MAGN", "uT", a, "device") for a in "xyz"),
)


# ------------------------------------------------------------------ commands
@dataclass(frozen=True)
class SetContent(Command):
    """Choose the frames sent each period (RSW bitmask, e.g. ``RSW_DEFAULT``)."""

    mask: int = RSW_DEFAULT


@dataclass(frozen=True)
class ReadRegister(Command):
    """Read four registers from ``register``; answered by ``Ack('read', value=first)``."""

    register: int = REG_VERSION


@dataclass(frozen=True)
class WriteRegister(Command):
    """Unlock, write one 16-bit register, save, then read it back (``Ack("writeregister")``)."""

    register: int = REG_RRATE
    value: int = 0x06


@dataclass(frozen=True)
class CalibrateStart(Command):
    """Start accelerometer+gyro calibration (CALSW=1): keep the device level and still."""


@dataclass(frozen=True)
class CalibrateEnd(Command):
    """End calibration (CALSW=0), save the offsets; answered by ``Ack("calibrateend")``."""


# ------------------------------------------------------------------ command table
#: every host command starts with these two bytes and is COMMAND_LEN bytes long
COMMAND_HEADER = b"\xff\xaa"
COMMAND_LEN = 5
#: REG_SAVE values: store the registers to flash / restart from the stored registers
SAVE_STORE, SAVE_RESTART = 0x0000, 0x00FF
#: battery register of the BLE modules (WT901BLE, BWT901BLE5.0): value / 100 = volts
REG_BATTERY_BLE = 0x64


def command_bytes(register: int, value: int) -> bytes:
    """One 5-byte command ``FF AA reg lo hi``."""
    return COMMAND_HEADER + bytes((register & 0xFF, value & 0xFF, (value >> 8) & 0xFF))


#: unlock writes (valid about 10 s), store the registers to flash, restart from flash
UNLOCK = command_bytes(REG_KEY, KEY_UNLOCK)
SAVE = command_bytes(REG_SAVE, SAVE_STORE)
RESTART = command_bytes(REG_SAVE, SAVE_RESTART)
#: start / end the accelerometer+gyro calibration (CALSW); send UNLOCK first, SAVE after the end
CALIBRATE_START = command_bytes(REG_CALSW, CAL_ACC_GYRO)
CALIBRATE_END = command_bytes(REG_CALSW, CAL_NORMAL)


def read_bytes(register: int) -> bytes:
    """Ask for four registers from ``register`` (answered by a 0x5F frame; eight by ``55 71`` over BLE)."""
    return command_bytes(REG_READ, register)


def write_register_bytes(register: int, value: int, save: bool = True) -> bytes:
    """Unlock, write one 16-bit register, and (``save``) store the registers to flash."""
    return UNLOCK + command_bytes(register, value) + (SAVE if save else b"")


def set_rate_bytes(rate_hz: float, save: bool = True) -> bytes:
    """Unlock, set the output rate (RRATE), save; raises ValueError for a rate the WT901 lacks."""
    return write_register_bytes(REG_RRATE, rate_code(rate_hz), save)


def split_commands(data: bytes) -> tuple[list[tuple[int, int]], bytes]:
    """Host bytes -> the ``(register, value)`` of each whole command, and the bytes to keep for
    the next call (a command cut short). Bytes before a ``FF AA`` header are skipped (emulators)."""
    commands: list[tuple[int, int]] = []
    pos = 0
    while True:
        i = data.find(COMMAND_HEADER, pos)
        if i < 0:
            return commands, data[-1:] if data.endswith(COMMAND_HEADER[:1]) else b""
        if len(data) - i < COMMAND_LEN:
            return commands, data[i:]
        commands.append((data[i + 2], data[i + 3] | data[i + 4] << 8))
        pos = i + COMMAND_LEN


def rate_code(rate_hz: float) -> int:
    """RRATE code for an output rate; raises ValueError for a rate the WT901 lacks."""
    for code, hz in RATE_CODES.items():
        if abs(hz - rate_hz) < 1e-9:
            return code
    raise ValueError(
        f"WT901 cannot stream at {rate_hz:g} Hz; choose one of "
        + ", ".join(f"{hz:g}" for hz in RATE_CODES.values())
    )


def encode_frame(frame_type: int, words: np.ndarray | tuple[int, ...] | list[int]) -> bytes:
    """Build one 11-byte frame from four int16 words (used by the emulator and tests)."""
    body = bytes((HEADER, frame_type)) + np.asarray(words, dtype="<i2").reshape(4).tobytes()
    return body + bytes((sum(body) & 0xFF,))


def encode_frames(frame_type: int, words: np.ndarray) -> np.ndarray:
    """Vectorised :func:`encode_frame`: ``words`` (n, 4) int16 -> uint8 (n, 11)."""
    words = np.asarray(words, dtype="<i2").reshape(-1, 4)
    out = np.empty((words.shape[0], FRAME_LEN), dtype=np.uint8)
    out[:, 0] = HEADER
    out[:, 1] = frame_type
    out[:, 2:10] = words.view(np.uint8).reshape(-1, 8)
    out[:, 10] = out[:, :10].sum(axis=1, dtype=np.int64) & 0xFF
    return out


def stream_types(mask: int) -> list[int]:
    """Frame types sent per period for an RSW mask, in the order the device sends them."""
    return [0x50 + k for k in range(MAX_STREAM_TYPE - 0x50 + 1) if mask >> k & 1]


def chip_seconds(data: bytes) -> float:
    """Seconds since 2000-01-01 from the 8 data bytes of a 0x50 time frame.

    Byte layout: YY MM DD hh mm ss, then milliseconds (uint16). Days use the
    proleptic-Gregorian days-from-civil formula (H. Hinnant, "chrono-compatible
    low-level date algorithms"); a month outside 1-12 is clipped, any other
    field taken as it is (a corrupted frame gives a time, never an error).
    """
    yy, month, day, hour, minute, second, ms = struct.unpack_from("<6BH", data)
    m = min(max(month, 1), 12)
    y = 2000 + yy - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 730425  # 0 = 2000-01-01
    return days * 86400.0 + hour * 3600.0 + minute * 60.0 + second + ms / 1000.0


def chip_time_words(seconds: float) -> tuple[int, int, int, int]:
    """Inverse of :func:`chip_seconds` for one time (s since 2000-01-01), as four int16 words."""
    import datetime as _dt

    ts = _dt.datetime(2000, 1, 1) + _dt.timedelta(seconds=float(seconds))
    raw = bytes((ts.year - 2000, ts.month, ts.day, ts.hour, ts.minute, ts.second))
    raw += int(ts.microsecond // 1000).to_bytes(2, "little")
    a, b, c, d = np.frombuffer(raw, dtype="<i2").tolist()
    return a, b, c, d


# ------------------------------------------------------------------ framing
class WitMotionFramer:
    """Serial bytes -> whole, checked 11-byte frames (header 0x55, type 0x5X, checksum).

    ``feed(data)`` returns ``(frame, skipped)`` pairs in stream order, where
    ``skipped`` counts the bytes dropped just before the frame (since the frame
    before it, across calls). A byte that starts no valid frame is dropped and
    the search goes on from the next byte; each run of dropped bytes is one
    ``resyncs`` in ``stats``, a header and type with a wrong checksum one
    ``crc_errors``. The start of a frame cut by the end of ``data`` is kept.
    """

    def __init__(self, stats: CodecStats):
        self.stats = stats
        self.buffer = b""  # the start of a frame cut by the end of the last call
        self.skipped = 0  # bytes dropped since the last frame returned
        self._dropping = False  # inside a run of dropped bytes

    def feed(self, data: bytes) -> list[tuple[bytes, int]]:
        buf = self.buffer + data if self.buffer else data
        frames = []
        pos, n = 0, len(buf)
        while True:
            head = buf.find(HEADER, pos)
            if head < 0:
                head = n
            if head > pos:
                self._drop(head - pos)
                pos = head
            if n - pos < FRAME_LEN:
                break
            if buf[pos + 1] & 0xF0 == 0x50:
                if sum(buf[pos : pos + 10]) & 0xFF == buf[pos + 10]:
                    frames.append((buf[pos : pos + FRAME_LEN], self.skipped))
                    self.skipped, self._dropping = 0, False
                    pos += FRAME_LEN
                    continue
                self.stats.crc_errors += 1
            self._drop(1)
            pos += 1
        self.buffer = buf[pos:]
        return frames

    def _drop(self, n_bytes: int) -> None:
        self.stats.bytes_discarded += n_bytes
        self.skipped += n_bytes
        if not self._dropping:
            self.stats.resyncs += 1
            self._dropping = True


# ------------------------------------------------------------------ codec
_WORDS = struct.Struct("<3h")
_REGISTERS = struct.Struct("<4H")


@dataclass(frozen=True)
class _PeriodLayout:
    """What one whole output period of a content looks like, for :meth:`WitMotionCodec.feed`'s fast
    path: its length (bytes), the header and type byte of each frame, one :class:`struct.Struct`
    reading the three channel words of every frame with channel columns, the scale of each word
    and the column it goes to (None: the words fill the 12 columns in order)."""

    size: int
    heads: bytes
    types: bytes
    words: struct.Struct
    scales: tuple[float, ...]
    columns: tuple[int, ...] | None

    @classmethod
    def of(cls, types: list[int], columns: dict[int, tuple[int, float]]) -> _PeriodLayout | None:
        """The layout of a cycle of frame types; None if it has a chip-time frame (those go
        frame by frame: their clock can move the row)."""
        if TYPE_TIME in types:
            return None
        fmt, scales, cols = "<", [], []
        for ftype in types:
            if ftype in columns:
                col, scale = columns[ftype]
                fmt += "2x3h3x"  # header and type, three words, the fourth word and the checksum
                scales += [scale] * 3
                cols += [col, col + 1, col + 2]
            else:
                fmt += f"{FRAME_LEN}x"
        full = cols == list(range(len(CHANNELS)))
        return cls(
            FRAME_LEN * len(types),
            bytes([HEADER] * len(types)),
            bytes(types),
            struct.Struct(fmt),
            tuple(scales),
            None if full else tuple(cols),
        )


class WitMotionCodec:
    """WT901 serial codec: bytes -> sample rows (12 channels, :data:`CHANNELS`).

    Args:
        rate_hz: output rate the device is set to (RRATE), Hz; updated when a
            ``SetRate`` is confirmed.
        content: RSW mask the device is set to; frame types seen in the stream
            are added to it.
        mag_ut_per_lsb: magnetometer scale, µT per count.

    Channel values: acceleration m/s^2 (gravity included), angular rate deg/s,
    roll/pitch/yaw deg, magnetic field µT. A row whose frame was lost or is not
    enabled holds NaN in those columns.
    """

    protocol = "witmotion"

    def __init__(
        self,
        rate_hz: float = 10.0,
        content: int = RSW_DEFAULT,
        mag_ut_per_lsb: float = DEFAULT_MAG_UT_PER_LSB,
    ):
        self.stats = CodecStats()
        self.framer = WitMotionFramer(self.stats)
        self.rate_hz = float(rate_hz)
        self.mag_ut_per_lsb = float(mag_ut_per_lsb)
        self._slot: int | None = None
        self._last_type = TYPE_ACC
        self._k = 0
        self.set_content(content)
        #: register reads in flight, oldest first: (purpose, register, expected value)
        self._pending: deque[tuple[str, int, int | None]] = deque()
        self.firmware: int | None = None
        self.restart_time()

    # -- state ------------------------------------------------------------------
    def set_content(self, mask: int) -> None:
        """Adopt an RSW mask; the current frame slot is re-expressed in the new cycle."""
        old_k = self._k
        self.content = int(mask)
        types = stream_types(self.content) or [TYPE_ACC]
        self._rank = [-1] * 256
        for rank, ftype in enumerate(types):
            self._rank[ftype] = rank
        self._k = len(types)
        self._types_in_cycle = np.asarray(types)
        # (frame type, first column, scale) of each type that carries channel values
        self._columns = {
            ftype: (col, scale)
            for ftype, col, scale in (
                (TYPE_ACC, 0, ACC_G_PER_LSB * G_MS2),
                (TYPE_GYRO, 3, GYRO_DPS_PER_LSB),
                (TYPE_ANGLE, 6, ANGLE_DEG_PER_LSB),
                (TYPE_MAG, 9, self.mag_ut_per_lsb),
            )
        }
        self._period = _PeriodLayout.of(types, self._columns)
        if old_k and self._slot is not None:
            rank = self._rank[self._last_type]
            self._slot = (self._slot // old_k) * self._k + (rank if rank >= 0 else self._k - 1)

    _set_content = set_content  # (the former name)

    def restart_time(self, t0: float = 0.0) -> None:
        """Start device time again at ``t0`` (s) with the next complete sample row."""
        self._slot = None  # absolute frame slot of the last stream frame
        self._gap_bytes = 0  # bytes dropped since the last stream frame
        self._row: tuple[int, list[float]] | None = None  # the row being filled: number, values
        self._last_row: int | None = None
        self._t_anchor = float(t0)  # device time (s) of row _row_anchor
        self._row_anchor: int | None = None
        self._chip_anchor: tuple[float, int] | None = None  # (chip time s, row)

    def skip_time(self, seconds: float) -> None:
        """Advance device time by ``seconds`` of samples known to be lost (e.g. unplugged)."""
        n = int(round(seconds * self.rate_hz))
        if n > 0 and self._slot is not None:
            self._slot += n * self._k
            self._row = None

    def clear_pending(self) -> None:
        """Forget register reads in flight (their reply was lost)."""
        self._pending.clear()

    @property
    def period_s(self) -> float:
        return 1.0 / self.rate_hz if self.rate_hz > 0 else float("nan")

    def device_info(self, firmware: str) -> DeviceInfo:
        return DeviceInfo(
            model="WT901",
            serial="n/a",
            firmware=firmware,
            channels=CHANNELS,
            nominal_rate_hz=self.rate_hz,
            protocol=self.protocol,
            manufacturer="WitMotion",
            scales=(ACC_G_PER_LSB * G_MS2,) * 3
            + (GYRO_DPS_PER_LSB,) * 3
            + (ANGLE_DEG_PER_LSB,) * 3
            + (self.mag_ut_per_lsb,) * 3,
        )

    # -- encode -----------------------------------------------------------------
    def _read(self, purpose: str, register: int, expect: int | None = None) -> bytes:
        self._pending.append((purpose, register, expect))
        return read_bytes(register)

    def encode(self, command: Command) -> bytes:
        """Bytes for a command. Writes are wrapped as unlock + write (+ save) + read-back.

        Raises ValueError for a command or rate the WT901 lacks.
        """
        if isinstance(command, GetInfo):
            return self._read("info", REG_VERSION)
        if isinstance(command, SetRate):
            code = rate_code(command.rate_hz)
            return write_register_bytes(REG_RRATE, code) + self._read("setrate", REG_RRATE, code)
        if isinstance(command, Start):
            code = rate_code(self.rate_hz)
            return write_register_bytes(REG_RRATE, code, save=False) + self._read("start", REG_RRATE, code)
        if isinstance(command, Stop):
            return write_register_bytes(REG_RRATE, RATE_NONE, save=False) + self._read(
                "stop", REG_RRATE, RATE_NONE
            )
        if isinstance(command, SetContent):
            mask = int(command.mask) & 0xFFFF
            return write_register_bytes(REG_RSW, mask) + self._read("setcontent", REG_RSW, mask)
        if isinstance(command, WriteRegister):
            v = int(command.value) & 0xFFFF
            reg = int(command.register)
            return write_register_bytes(reg, v) + self._read("writeregister", reg, v)
        if isinstance(command, ReadRegister):
            return self._read("read", int(command.register))
        if isinstance(command, CalibrateStart):
            return UNLOCK + CALIBRATE_START + self._read("calibratestart", REG_CALSW, CAL_ACC_GYRO)
        if isinstance(command, CalibrateEnd):
            return UNLOCK + CALIBRATE_END + SAVE + self._read("calibrateend", REG_CALSW, CAL_NORMAL)
        if isinstance(command, GetBattery):
            return self._read("battery", REG_BATTERY)
        raise ValueError(f"WT901 has no '{command.name}' command")

    # -- decode -----------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode bytes (any cut); never raises. Events come in stream order.

        Fast path, the usual serial read: one whole output period right after the last one
        (:meth:`_whole_period`); every other read goes through :meth:`_feed_general`, which gives
        the same events and counters for that read too.
        """
        period = self._period
        if period is not None and len(data) == period.size:
            block = self._whole_period(data, period)
            if block is not None:
                return [block]
        return self._feed_general(data)

    def _feed_general(self, data: bytes) -> list[CodecEvent]:
        """Any bytes: :class:`WitMotionFramer`, then :meth:`parse` on each checked frame."""
        data = bytes(data)  # (the same object when it is bytes already)
        self.stats.bytes_in += len(data)
        events: list[CodecEvent] = []
        for frame, skipped in self.framer.feed(data):
            self._gap_bytes += skipped
            events += self.parse(frame)
        return join_runs(events)

    def parse(self, frame: bytes) -> list[CodecEvent]:
        """One whole, checked frame (from :class:`WitMotionFramer`) -> its events: a register
        reply, or the sample row it completes (the rows before it, if it starts a new one)."""
        self.stats.frames_ok += 1
        ftype = frame[1]
        if ftype == TYPE_REGISTER:
            ev = self._register_reply(_REGISTERS.unpack_from(frame, 2))
            return [] if ev is None else [ev]
        if ftype > MAX_STREAM_TYPE:
            return []  # a type this codec does not know
        rank = self._rank[ftype]
        if rank < 0:  # a frame type the assumed content lacks: the device sends it
            self.set_content(self.content | 1 << (ftype - 0x50))
            rank = self._rank[ftype]
        row = self._next_row(ftype, rank, frame)
        events: list[CodecEvent] = []
        if self._row is not None and self._row[0] != row:
            events.append(self._emit(*self._row))  # a new row starts: the last one is as full as it gets
            self._row = None
        if self._row is None:
            self._row = (row, [math.nan] * len(CHANNELS))
        column = self._columns.get(ftype)
        if column is not None:
            col, scale = column
            self._row[1][col : col + 3] = [w * scale for w in _WORDS.unpack_from(frame, 2)]
        if rank == self._k - 1:  # the last type of the period: the row is complete
            events.append(self._emit(*self._row))
            self._row = None
        return events

    def _whole_period(self, data: bytes, period: _PeriodLayout) -> SampleBlock | None:
        """One output period right after the last one -> its row's block, as the framer and
        :meth:`parse` make it; None (nothing changed) for anything else: the first period, a row
        being filled, bytes lost or buffered before it, a frame out of order, a bad checksum."""
        k, slot, framer = self._k, self._slot, self.framer
        if slot is None or slot % k != k - 1 or self._row is not None or self._gap_bytes:
            return None
        if framer.buffer or framer.skipped:
            return None
        if data[0::FRAME_LEN] != period.heads or data[1::FRAME_LEN] != period.types:
            return None
        for pos in range(0, period.size, FRAME_LEN):
            # checksum = sum of the 10 bytes & 0xFF; Adler-32's low half is 1 + that sum (no
            # modulo below 258 bytes), computed in C
            if (adler32(data[pos : pos + 10]) - 1) & 0xFF != data[pos + 10]:
                return None
        values: Sequence[float]  # (a tuple of floats: the garbage collector stops tracking it)
        if period.columns is None:  # the usual content: acc, gyro, angle, mag words in order
            ax, ay, az, gx, gy, gz, roll, pitch, yaw, mx, my, mz = period.words.unpack(data)
            acc, gyro, angle, mag = period.scales[::3]
            values = (
                ax * acc, ay * acc, az * acc, gx * gyro, gy * gyro, gz * gyro,
                roll * angle, pitch * angle, yaw * angle, mx * mag, my * mag, mz * mag,
            )  # fmt: skip
        else:
            filled = [math.nan] * len(CHANNELS)
            for col, value in zip(period.columns, map(mul, period.words.unpack(data), period.scales)):
                filled[col] = value
            values = filled
        stats = self.stats
        stats.bytes_in += period.size
        stats.frames_ok += k
        self._slot = slot + k
        self._last_type = period.types[-1]
        row, last, anchor = (slot + 1) // k, self._last_row, self._row_anchor
        if last is None or anchor is None:  # (no row yet since a restart: _emit sets the anchor)
            return self._emit(row, values)
        # what _emit does once the time anchor is set
        dropped = row - last - 1 if row > last + 1 else 0
        stats.dropped_samples += dropped
        self._last_row = row
        return RowBlock(
            (self._t_anchor + (row - anchor) / self.rate_hz,), values, len(CHANNELS), row, dropped
        )

    def _next_row(self, ftype: int, rank: int, frame: bytes) -> int:
        """The row of a stream frame: from the slot of the frame before it, the frame types
        and the bytes lost in between (and the chip clock of a time frame)."""
        k = self._k
        if self._slot is None:  # a new row after any row already emitted
            slot = (0 if self._last_row is None else (self._last_row + 1) * k) + rank
        else:
            # the smallest step that matches the types, plus whole cycles when the lost
            # bytes say more frames went missing
            slot = self._slot + (rank - self._slot % k - 1) % k + 1
            if self._gap_bytes:
                step = slot - self._slot
                slot += k * max(0, round((1.0 + self._gap_bytes / FRAME_LEN - step) / k))
        self._gap_bytes = 0
        row = slot // k
        if ftype == TYPE_TIME:  # the chip clock reveals whole lost periods
            chip = chip_seconds(frame[2:10])
            if self._chip_anchor is None:
                self._chip_anchor = (chip, row)
            t0, r0 = self._chip_anchor
            expected = r0 + round((chip - t0) * self.rate_hz)
            if expected > row:
                row = expected
                slot = row * k + rank
        self._slot = slot
        self._last_type = ftype
        return row

    def _emit(self, row: int, values: Sequence[float]) -> SampleBlock:
        """A finished row -> a block with its device time and the rows dropped before it."""
        if self._row_anchor is None:
            self._row_anchor = row
        dropped = 0 if self._last_row is None else max(0, row - self._last_row - 1)
        self._last_row = row
        self.stats.dropped_samples += dropped
        return new_block((self._row_time(row),), values, len(CHANNELS), row, dropped)

    def _row_time(self, row: int) -> float:
        return self._t_anchor + (row - (self._row_anchor or 0)) / self.rate_hz  # (anchor set by then)

    def _register_reply(self, regs: tuple[int, ...]) -> CodecEvent | None:
        if not self._pending:
            return None  # unsolicited reply: nothing to match it with
        purpose, register, expect = self._pending.popleft()
        v = regs[0]
        if purpose == "info":
            self.firmware = v
            return InfoReply(self.device_info(str(v)))
        if purpose == "battery":
            return BatteryReply(volts=v / 100.0)
        if purpose == "read":
            return Ack(f"read:{register:#04x}", True, "", float(v - 0x10000 if v >= 0x8000 else v))
        ok = expect is None or v == expect
        err = "" if ok else f"register {register:#04x} reads {v:#06x}, expected {expect:#06x}"
        if ok and purpose == "setrate":
            self._change_rate(RATE_CODES[v])
        elif ok and purpose == "setcontent":
            self.set_content(v)
        value: float | None = RATE_CODES.get(v) if purpose in ("setrate", "start") else float(v)
        return Ack(purpose, ok, err, value)

    def _change_rate(self, rate_hz: float) -> None:
        if self._last_row is not None and self._row_anchor is not None:
            self._t_anchor = self._row_time(self._last_row + 1)
            self._row_anchor = self._last_row + 1
        self.rate_hz = rate_hz
        self._chip_anchor = None

    # -- a replayed capture -------------------------------------------------------------
    def feed_bulk(self, data: bytes) -> list[CodecEvent]:
        """Decode a long capture (a replayed log) with the same events and statistics as :meth:`feed`.

        Runs of whole output periods, frames back to back in cycle order with
        good checksums, are checked and decoded with a few array operations
        (the int16 words read through strided views); everything else (garbage,
        register replies, lost frames, time frames) goes frame by frame.
        """
        data = bytes(data)
        events: list[CodecEvent] = []
        pos, n = 0, len(data)
        while pos < n:
            used = self._whole_periods(data, pos, events) if self._at_period_start() else 0
            if used:
                pos += used
                continue
            # frame by frame to the end of the frame in the buffer, else to the end of the period
            if self.framer.buffer:
                step = FRAME_LEN - len(self.framer.buffer)
            else:
                k = self._k
                step = ((k - 1 - self._slot % k) % k if self._slot is not None else 0) or k
                step *= FRAME_LEN
            events += self.feed(data[pos : pos + step])
            pos += step
        return join_runs(events)

    def _at_period_start(self) -> bool:
        """Is the stream between two output periods, nothing buffered, nothing lost?"""
        k = self._k
        return not (
            self.framer.buffer or self.framer.skipped or self._row is not None or self._gap_bytes
            or self.content & RSW_TIME or (self._slot is not None and self._slot % k != k - 1)
        )  # fmt: skip

    def _whole_periods(self, data: bytes, pos: int, events: list[CodecEvent]) -> int:
        """Decode the clean whole periods at ``data[pos:]`` into ``events``; bytes used (0: none)."""
        k = self._k
        n = (len(data) - pos) // FRAME_LEN // k * k
        if n == 0:
            return 0
        arr = np.frombuffer(data, dtype=np.uint8, count=n * FRAME_LEN, offset=pos).reshape(n, FRAME_LEN)
        csum = arr[:, 0].copy()
        for j in range(1, 10):
            csum += arr[:, j]  # uint8 arithmetic wraps: the sum & 0xFF
        good = (
            (arr[:, 0] == HEADER) & (arr[:, 1] == np.resize(self._types_in_cycle, n)) & (csum == arr[:, 10])
        )
        n_rows = (n if good.all() else int(np.argmin(good))) // k
        if n_rows == 0:
            return 0
        first = self._last_row + 1 if self._last_row is not None else 0
        if self._slot is not None:
            first = self._slot // k + 1
        values = np.full((n_rows, len(CHANNELS)), np.nan)
        for ftype, (col, scale) in self._columns.items():
            r = self._rank[ftype]
            if r >= 0:
                raw = np.ndarray(
                    (n_rows, 3),
                    "<i2",
                    buffer=data,
                    offset=pos + r * FRAME_LEN + 2,
                    strides=(k * FRAME_LEN, 2),
                )
                np.multiply(raw, scale, out=values[:, col : col + 3])
        rows = first + np.arange(n_rows)
        anchor = first if self._row_anchor is None else self._row_anchor
        self._row_anchor = anchor
        dropped = 0 if self._last_row is None else max(0, first - self._last_row - 1)
        self.stats.dropped_samples += dropped
        times = self._t_anchor + (rows - anchor) / self.rate_hz
        events.append(SampleBlock(times, values, seq=first, dropped_before=dropped))
        self._slot = (first + n_rows) * k - 1
        self._last_type = int(self._types_in_cycle[-1])
        self._last_row = first + n_rows - 1
        self.stats.frames_ok += n_rows * k
        self.stats.bytes_in += n_rows * k * FRAME_LEN
        self.framer._dropping = False
        return n_rows * k * FRAME_LEN
