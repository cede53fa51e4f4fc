"""Sans-I/O codec for the WitMotion WT901 serial protocol (WT901, JY901, BWT901CL).

Wire format (WitMotion ``WitStandardProtocol_JY901``: REG.h, wit_c_sdk.c):

* device -> host: 11-byte frames ``55 TT d0..d7 CS``; the data are four int16
  little-endian words and ``CS = sum(bytes 0..9) & 0xFF``. Types 0x50-0x5A are
  stream frames (0x51 acceleration raw/32768*16 g, 0x52 angular rate
  raw/32768*2000 deg/s, 0x53 roll/pitch/yaw raw/32768*180 deg, 0x54 magnetic
  field raw counts...), 0x5F answers a register read with four registers.
* host -> device: 5-byte commands ``FF AA reg lo hi``; writes need the unlock
  ``FF AA 69 88 B5`` first and ``FF AA 00 00 00`` (SAVE) after; a read is
  ``FF AA 27 reg 00``.

The device sends one frame of each enabled type (RSW register, ascending type
order) per output period (RRATE register) and has no per-sample timestamp, so
the codec groups the frames of one period into one sample row and builds the
device time as ``sample index / rate``. The sample index follows the frame
types and the number of bytes lost in between, so a corrupted stretch is
counted as dropped samples instead of squeezing time.

Decoding is vectorised with NumPy: frame starts are found with array ops,
checksums are verified in bulk through a cumulative sum; overlapping candidates
(a false header inside garbage) take a slow path that prefers the candidate
that starts the longest run of back-to-back frames.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

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
    SampleBlock,
    SetRate,
    Start,
    Stop,
)

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


def command_bytes(register: int, value: int) -> bytes:
    """One 5-byte command ``FF AA reg lo hi``."""
    return bytes((0xFF, 0xAA, register & 0xFF, value & 0xFF, (value >> 8) & 0xFF))


UNLOCK = command_bytes(REG_KEY, KEY_UNLOCK)
SAVE = command_bytes(REG_SAVE, 0)


def read_bytes(register: int) -> bytes:
    return command_bytes(REG_READ, register)


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


def chip_seconds(words: np.ndarray) -> np.ndarray:
    """Seconds since 2000-01-01 from 0x50 time-frame words (n, 4) int.

    Byte layout: YY MM DD hh mm ss, then milliseconds (uint16). Days use the
    proleptic-Gregorian days-from-civil formula (H. Hinnant, "chrono-compatible
    low-level date algorithms").
    """
    b = np.asarray(words, dtype="<i2").reshape(-1, 4).view(np.uint8).reshape(-1, 8).astype(np.int64)
    y = 2000 + b[:, 0]
    m = np.clip(b[:, 1], 1, 12)
    d = b[:, 2]
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 730425  # 0 = 2000-01-01
    ms = b[:, 6] | (b[:, 7] << 8)
    return days * 86400.0 + b[:, 3] * 3600.0 + b[:, 4] * 60.0 + b[:, 5] + ms / 1000.0


def chip_time_words(seconds: float) -> tuple[int, int, int, int]:
    """Inverse of :func:`chip_seconds` for one time (s since 2000-01-01), as four int16 words."""
    import datetime as _dt

    ts = _dt.datetime(2000, 1, 1) + _dt.timedelta(seconds=float(seconds))
    raw = bytes((ts.year - 2000, ts.month, ts.day, ts.hour, ts.minute, ts.second))
    raw += int(ts.microsecond // 1000).to_bytes(2, "little")
    return tuple(np.frombuffer(raw, dtype="<i2").tolist())  # type: ignore[return-value]


# ------------------------------------------------------------------ frame search
def find_frames(arr: np.ndarray) -> np.ndarray:
    """Start offsets of non-overlapping valid frames in ``arr`` (uint8), ascending."""
    return scan_frames(arr)[0]


def scan_frames(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frame starts, starts of header+type candidates whose checksum failed).

    Fast path: the buffer usually begins at a frame boundary and holds frames
    back to back, so it is viewed as rows of 11 bytes and verified in bulk; the
    search below takes over from the first row that fails.
    """
    n_rows = arr.size // FRAME_LEN
    if n_rows == 0 or arr[0] != HEADER:
        return _scan_anywhere(arr)
    rows = arr[: n_rows * FRAME_LEN].reshape(n_rows, FRAME_LEN)
    ok = (rows[:, 0] == HEADER) & ((rows[:, 1] & 0xF0) == 0x50)
    ok &= rows[:, :10].sum(axis=1, dtype=np.uint8) == rows[:, 10]  # uint8 sum wraps: & 0xFF
    good = n_rows if ok.all() else int(np.argmin(ok))
    aligned = np.arange(good, dtype=np.int64) * FRAME_LEN
    if good == n_rows:
        return aligned, np.zeros(0, dtype=np.int64)
    off = good * FRAME_LEN
    rest, bad = _scan_anywhere(arr[off:])
    return np.concatenate((aligned, rest + off)), bad + off


def _scan_anywhere(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Test every offset for a frame (resync path).

    Valid = header 0x55, a type 0x50-0x5F and a matching checksum. All offsets
    are tested at once; only when two valid candidates overlap (a false frame in
    garbage) does a slow walk choose, preferring the candidate that begins the
    longer run of back-to-back frames.
    """
    n = arr.size - FRAME_LEN + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    head = np.flatnonzero((arr[:n] == HEADER) & ((arr[1 : n + 1] & 0xF0) == 0x50))
    if head.size == 0:
        return head, head
    csum = np.concatenate(([0], np.cumsum(arr, dtype=np.int64)))
    ok = ((csum[head + 10] - csum[head]) & 0xFF) == arr[head + 10]
    starts, bad = head[ok], head[~ok]
    if starts.size >= 2 and not np.all(np.diff(starts) >= FRAME_LEN):
        starts = _resolve_overlaps(starts)
    return starts, bad


#: back-to-back frames looked at when two candidates overlap
_RUN_CAP = 16


def _resolve_overlaps(starts: np.ndarray) -> np.ndarray:
    """Pick non-overlapping frames where candidates overlap, favouring longer back-to-back runs.

    Only clusters of overlapping candidates are walked in Python; every other
    candidate overlaps nothing and is kept as is.
    """
    close = np.diff(starts) < FRAME_LEN
    involved = np.zeros(starts.size, dtype=bool)
    involved[:-1] |= close
    involved[1:] |= close
    idx = np.flatnonzero(involved)
    # run length (capped) of back-to-back frames from each involved candidate
    run = np.ones(idx.size, dtype=np.int64)
    cur, alive = starts[idx].copy(), np.ones(idx.size, dtype=bool)
    for _ in range(_RUN_CAP):
        cur += FRAME_LEN
        pos = np.minimum(np.searchsorted(starts, cur), starts.size - 1)
        alive &= starts[pos] == cur
        run += alive
    keep = ~involved
    end = -1
    lst, runs = starts[idx].tolist(), run.tolist()
    for j, s in enumerate(lst):
        if s < end:
            continue
        later = [runs[i] for i in range(j + 1, len(lst)) if lst[i] < s + FRAME_LEN]
        if later and max(later) > runs[j]:
            continue  # a later overlapping candidate starts a longer run
        keep[idx[j]] = True
        end = s + FRAME_LEN
    chosen = starts[keep]
    # a kept lone candidate may still overlap a chosen cluster member: drop such leftovers
    ok = np.concatenate(([True], np.diff(chosen) >= FRAME_LEN))
    return chosen[ok]


# ------------------------------------------------------------------ codec
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
        self.rate_hz = float(rate_hz)
        self.mag_ut_per_lsb = float(mag_ut_per_lsb)
        self._slot: int | None = None
        self._last_type = TYPE_ACC
        self._set_content(content)
        self._buf = b""
        #: register reads in flight, oldest first: (purpose, register, expected value)
        self._pending: deque[tuple[str, int, int | None]] = deque()
        self.firmware: int | None = None
        self.restart_time()

    # -- state ------------------------------------------------------------------
    def _set_content(self, mask: int) -> None:
        """Adopt an RSW mask; the current frame slot is re-expressed in the new cycle."""
        old_k = getattr(self, "_k", None)
        self.content = int(mask)
        types = stream_types(self.content) or [TYPE_ACC]
        self._rank = np.full(256, -1, dtype=np.int64)
        self._rank[types] = np.arange(len(types))
        self._k = len(types)
        self._types_in_cycle = np.asarray(types)
        if old_k is not None and self._slot is not None:
            rank = int(self._rank[self._last_type])
            self._slot = (self._slot // old_k) * self._k + (rank if rank >= 0 else self._k - 1)

    def restart_time(self, t0: float = 0.0) -> None:
        """Start device time again at ``t0`` (s) with the next complete sample row."""
        self._slot: int | None = None  # absolute frame slot of the last stream frame
        self._gap_bytes = 0  # bytes discarded since the last stream frame
        self._partial: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # types, words, row
        self._last_row: int | None = None
        self._t_anchor, self._row_anchor = float(t0), None
        self._chip_anchor: tuple[float, int] | None = None  # (chip time s, row)

    def skip_time(self, seconds: float) -> None:
        """Advance device time by ``seconds`` of samples known to be lost (e.g. unplugged)."""
        n = int(round(seconds * self.rate_hz))
        if n > 0 and self._slot is not None:
            self._slot += n * self._k
            self._partial = None

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
        """Bytes for a command. Writes are wrapped as unlock + write (+ save) + read-back."""
        if isinstance(command, GetInfo):
            return self._read("info", REG_VERSION)
        if isinstance(command, SetRate):
            code = rate_code(command.rate_hz)
            return UNLOCK + command_bytes(REG_RRATE, code) + SAVE + self._read("setrate", REG_RRATE, code)
        if isinstance(command, Start):
            code = rate_code(self.rate_hz)
            return UNLOCK + command_bytes(REG_RRATE, code) + self._read("start", REG_RRATE, code)
        if isinstance(command, Stop):
            return UNLOCK + command_bytes(REG_RRATE, RATE_NONE) + self._read("stop", REG_RRATE, RATE_NONE)
        if isinstance(command, SetContent):
            mask = int(command.mask) & 0xFFFF
            return UNLOCK + command_bytes(REG_RSW, mask) + SAVE + self._read("setcontent", REG_RSW, mask)
        if isinstance(command, WriteRegister):
            v = int(command.value) & 0xFFFF
            reg = int(command.register)
            return UNLOCK + command_bytes(reg, v) + SAVE + self._read("writeregister", reg, v)
        if isinstance(command, ReadRegister):
            return self._read("read", int(command.register))
        if isinstance(command, CalibrateStart):
            return (
                UNLOCK
                + command_bytes(REG_CALSW, CAL_ACC_GYRO)
                + self._read("calibratestart", REG_CALSW, CAL_ACC_GYRO)
            )
        if isinstance(command, CalibrateEnd):
            return (
                UNLOCK + command_bytes(REG_CALSW, CAL_NORMAL) + SAVE
                + self._read("calibrateend", REG_CALSW, CAL_NORMAL)
            )  # fmt: skip
        if isinstance(command, GetBattery):
            return self._read("battery", REG_BATTERY)
        raise ValueError(f"WT901 has no '{command.name}' command")

    # -- decode -----------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode bytes; never raises. Returns register replies first, then sample blocks."""
        try:
            return self._feed(bytes(data))
        except Exception:  # pragma: no cover - a codec must never raise on input
            self._buf = b""
            self.stats.bytes_discarded += len(data)
            return []

    def _feed(self, data: bytes) -> list[CodecEvent]:
        self.stats.bytes_in += len(data)
        buf = self._buf + data if self._buf else data
        self._buf = b""
        events, used = self._feed_periods(buf)
        if used == len(buf):
            return events
        rest = buf[used:]
        if used and self._is_period_prefix(rest):
            self._buf = rest  # the rest of this period is on its way
            return events
        return events + self._feed_any(rest)

    def _is_period_prefix(self, rest: bytes) -> bool:
        """True if ``rest`` is the first frames of a period (the last one maybe cut short)."""
        if len(rest) >= self._k * FRAME_LEN:
            return False
        cycle = self._types_in_cycle
        for i in range(len(rest) // FRAME_LEN + (len(rest) % FRAME_LEN > 0)):
            frame = rest[i * FRAME_LEN : (i + 1) * FRAME_LEN]
            if frame[0] != HEADER or (len(frame) > 1 and frame[1] != cycle[i]):
                return False
            if len(frame) == FRAME_LEN and sum(frame[:10]) & 0xFF != frame[10]:
                return False
        return True

    def _feed_periods(self, buf: bytes) -> tuple[list[CodecEvent], int]:
        """Fast path for the steady stream: whole periods of back-to-back frames in cycle order.

        Verifies headers, types and checksums of the leading whole periods with a
        few array operations and reads the int16 words through strided views (no
        copies). Returns (events, bytes used); (``[]``, 0) when the data is not so.
        """
        k = self._k
        n = (len(buf) // FRAME_LEN) // k * k
        if (
            n == 0 or buf[0] != HEADER or self._partial is not None or self._gap_bytes
            or self.content & RSW_TIME or (self._slot is not None and self._slot % k != k - 1)
        ):  # fmt: skip
            return [], 0
        arr = np.frombuffer(buf, dtype=np.uint8, count=n * FRAME_LEN).reshape(n, FRAME_LEN)
        cycle = self._types_in_cycle.astype(np.uint8)
        if not (
            np.all(arr[:, 0] == HEADER)
            and np.array_equal(arr[:, 1].reshape(-1, k), np.broadcast_to(cycle, (n // k, k)))
        ):
            return [], 0
        csum = arr[:, 0].copy()
        for j in range(1, 10):
            csum += arr[:, j]  # uint8 arithmetic wraps: the sum & 0xFF
        if not np.array_equal(csum, arr[:, 10]):
            return [], 0
        n_rows = n // k
        first = (
            (self._last_row + 1 if self._last_row is not None else 0)
            if self._slot is None
            else self._slot // k + 1
        )
        values = np.full((n_rows, len(CHANNELS)), np.nan)
        for ftype, col, scale in self._column_map():
            r = int(self._rank[ftype])
            if r >= 0:
                raw = np.ndarray(
                    (n_rows, 3), "<i2", buffer=buf, offset=r * FRAME_LEN + 2, strides=(k * FRAME_LEN, 2)
                )
                np.multiply(raw, scale, out=values[:, col : col + 3])
        self._slot = (first + n_rows) * k - 1
        self._last_type = int(cycle[-1])
        self.stats.frames_ok += n
        return self._emit(first + np.arange(n_rows), values), n * FRAME_LEN

    def _feed_any(self, buf: bytes) -> list[CodecEvent]:
        """General path: frames anywhere, garbage, register replies, partial periods."""
        arr = np.frombuffer(buf, dtype=np.uint8)
        starts, bad = scan_frames(arr)
        if bad.size:  # failed checksums that are not just header-like bytes inside a good frame
            k = np.searchsorted(starts, bad, side="right") - 1
            inside = (k >= 0) & (bad < starts[np.maximum(k, 0)] + FRAME_LEN) if starts.size else bad < 0
            self.stats.crc_errors += int(np.count_nonzero(~inside))
        # what to keep: an incomplete frame at the end (from the first header after the last frame)
        last_end = int(starts[-1]) + FRAME_LEN if starts.size else 0
        tail_from = max(last_end, arr.size - (FRAME_LEN - 1))
        heads = np.flatnonzero(arr[tail_from:] == HEADER)
        keep_from = tail_from + int(heads[0]) if heads.size else arr.size
        self._buf = buf[keep_from:]

        # garbage bytes before each frame, and after the last one up to keep_from
        prev_end = np.concatenate(([0], starts[:-1] + FRAME_LEN))
        garbage = starts - prev_end
        trailing = keep_from - last_end
        discarded = int(garbage.sum()) + trailing
        if discarded:
            self.stats.bytes_discarded += discarded
            self.stats.resyncs += int(np.count_nonzero(garbage)) + (trailing > 0)
        self.stats.frames_ok += int(starts.size)

        events: list[CodecEvent] = []
        if starts.size == 0:
            self._gap_bytes += discarded
            return events
        if int(starts[-1] - starts[0]) == FRAME_LEN * (starts.size - 1):  # back to back: a view
            frames = arr[int(starts[0]) : int(starts[-1]) + FRAME_LEN].reshape(-1, FRAME_LEN)
        else:
            frames = arr[starts[:, None] + np.arange(FRAME_LEN)]
        types = frames[:, 1].astype(np.int64)
        words = np.ascontiguousarray(frames[:, 2:10]).view("<i2")

        is_reg = types == TYPE_REGISTER
        if np.any(is_reg):
            regs = np.ascontiguousarray(frames[is_reg, 2:10]).view("<u2")
            for row in regs:
                ev = self._register_reply(row)
                if ev is not None:
                    events.append(ev)
        stream = (types >= 0x50) & (types <= MAX_STREAM_TYPE)
        # learn frame types the device sends that the assumed content lacks
        present = np.zeros(256, dtype=bool)
        present[types[stream]] = True
        seen = np.flatnonzero(present)
        missing = seen[self._rank[seen] < 0]
        if missing.size:
            self._set_content(self.content | int(np.bitwise_or.reduce(1 << (missing - 0x50))))
        # bytes lost between consecutive stream frames (other frames do not count)
        g_cum = np.cumsum(garbage)
        st_idx = np.flatnonzero(stream)
        if st_idx.size:
            g_at = g_cum[st_idx]
            g_between = np.diff(np.concatenate(([0], g_at)))
            g_between[0] += self._gap_bytes
            self._gap_bytes = int(g_cum[-1] - g_at[-1]) + trailing
            events.extend(self._rows(types[st_idx], words[st_idx], g_between))
        else:
            self._gap_bytes += discarded
        return events

    def _register_reply(self, regs: np.ndarray) -> CodecEvent | None:
        if not self._pending:
            return None  # unsolicited reply: nothing to match it with
        purpose, register, expect = self._pending.popleft()
        v = int(regs[0])
        if purpose == "info":
            self.firmware = v
            return InfoReply(self.device_info(str(v)))
        if purpose == "battery":
            return BatteryReply(volts=v / 100.0)
        if purpose == "read":
            return Ack(f"read:{register:#04x}", True, "", float(np.int16(np.uint16(v))))
        ok = expect is None or v == expect
        err = "" if ok else f"register {register:#04x} reads {v:#06x}, expected {expect:#06x}"
        if ok and purpose == "setrate":
            self._change_rate(RATE_CODES[v])
        elif ok and purpose == "setcontent":
            self._set_content(v)
        value: float | None = RATE_CODES.get(v) if purpose in ("setrate", "start") else float(v)
        return Ack(purpose, ok, err, value)

    def _change_rate(self, rate_hz: float) -> None:
        if self._last_row is not None and self._row_anchor is not None:
            self._t_anchor = self._row_time(np.array([self._last_row + 1]))[0]
            self._row_anchor = self._last_row + 1
        self.rate_hz = rate_hz
        self._chip_anchor = None

    def _row_time(self, rows: np.ndarray) -> np.ndarray:
        return self._t_anchor + (rows - self._row_anchor) / self.rate_hz

    def _rows_from_chip_time(self, types: np.ndarray, words: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Correct row numbers with the chip clock of 0x50 frames (reveals whole lost periods)."""
        is_t = types == TYPE_TIME
        chip = chip_seconds(words[is_t])
        if self._chip_anchor is None:
            self._chip_anchor = (float(chip[0]), int(rows[is_t][0]))
        t0, r0 = self._chip_anchor
        expected = r0 + np.round((chip - t0) * self.rate_hz).astype(np.int64)
        delta = np.zeros(rows.size, dtype=np.int64)
        at = np.flatnonzero(is_t)
        delta[at] = expected - rows[at]
        # carry each correction forward to the frames after it (forward fill)
        idx = np.where(is_t, np.arange(rows.size), -1)
        idx = np.maximum.accumulate(idx)
        delta = np.where(idx >= 0, delta[np.maximum(idx, 0)], 0)
        return np.maximum.accumulate(rows + np.maximum(delta, 0))  # rows never go back

    def _rows_regular(self, pos: np.ndarray, words: np.ndarray) -> list[SampleBlock] | None:
        """Fast path: whole periods, every frame in its place, nothing lost (None if not so)."""
        k = self._k
        m = pos.size
        if m % k or self.content & RSW_TIME or (self._slot is not None and self._slot % k != k - 1):
            return None
        grid = pos.reshape(-1, k)
        if not np.array_equal(grid, np.broadcast_to(np.arange(k), grid.shape)):
            return None
        first = (
            0
            if self._slot is None and self._last_row is None
            else (self._last_row + 1 if self._slot is None else self._slot // k + 1)
        )
        n_rows = m // k
        self._slot = (first + n_rows) * k - 1
        self._last_type = int(self._types_in_cycle[-1])
        w = words.reshape(n_rows, k, 4)
        values = np.full((n_rows, len(CHANNELS)), np.nan)
        for ftype, col, scale in self._column_map():
            r = int(self._rank[ftype])
            if r >= 0:
                values[:, col : col + 3] = w[:, r, :3] * scale
        return self._emit(first + np.arange(n_rows), values)

    def _column_map(self) -> tuple[tuple[int, int, float], ...]:
        return (
            (TYPE_ACC, 0, ACC_G_PER_LSB * G_MS2),
            (TYPE_GYRO, 3, GYRO_DPS_PER_LSB),
            (TYPE_ANGLE, 6, ANGLE_DEG_PER_LSB),
            (TYPE_MAG, 9, self.mag_ut_per_lsb),
        )

    def _rows(self, types: np.ndarray, words: np.ndarray, g_between: np.ndarray) -> list[SampleBlock]:
        """Assign stream frames to sample rows and emit the complete rows."""
        k = self._k
        pos = self._rank[types]
        if self._partial is None and not g_between.any():
            blocks = self._rows_regular(pos, words)
            if blocks is not None:
                return blocks
        prev_pos = 0 if self._slot is None else int(self._slot % k)
        # slot step between consecutive frames: the smallest step matching the types,
        # plus whole cycles when the lost bytes say more frames went missing
        p_prev = np.concatenate(([prev_pos], pos[:-1]))
        step_min = (pos - p_prev - 1) % k + 1
        est = 1.0 + g_between / FRAME_LEN
        extra = np.maximum(0, np.round((est - step_min) / k)).astype(np.int64)
        step = step_min + k * extra
        if self._slot is None:  # first frame: a new row after any row already emitted
            step[0] = 0
            base = (0 if self._last_row is None else (self._last_row + 1) * k) + int(pos[0])
        else:
            base = self._slot
        slots = base + np.cumsum(step)
        rows = slots // k
        if TYPE_TIME in types:
            rows = self._rows_from_chip_time(types, words, rows)
            slots = rows * k + pos
        self._slot = int(slots[-1])
        self._last_type = int(types[-1])

        if self._partial is not None:
            pt, pw, pr = self._partial
            types = np.concatenate((pt, types))
            words = np.concatenate((pw, words))
            rows = np.concatenate((pr, rows))
            pos = self._rank[types]
            self._partial = None
        # the last row stays pending unless its final frame type has arrived
        last = rows[-1]
        if pos[-1] != k - 1:
            hold = rows == last
            self._partial = (types[hold], words[hold], rows[hold])
            types, words, rows = types[~hold], words[~hold], rows[~hold]
        if rows.size == 0:
            return []
        # rows never decrease: unique values and inverse from the change points
        change = np.concatenate(([True], rows[1:] != rows[:-1]))
        uniq = rows[change]
        inv = np.cumsum(change) - 1
        values = np.full((uniq.size, len(CHANNELS)), np.nan)
        for ftype, col, scale in self._column_map():
            sel = types == ftype
            if np.any(sel):
                values[inv[sel], col : col + 3] = words[sel, :3] * scale
        return self._emit(uniq, values)

    def _emit(self, uniq: np.ndarray, values: np.ndarray) -> list[SampleBlock]:
        """Rows (ascending numbers ``uniq``) -> blocks with device times and drop counts."""
        if self._row_anchor is None:
            self._row_anchor = int(uniq[0])
        prev = self._last_row
        jumps = np.diff(np.concatenate(([uniq[0] - 1 if prev is None else prev], uniq))) - 1
        jumps = np.maximum(jumps, 0)
        self._last_row = int(uniq[-1])
        times = self._row_time(uniq.astype(np.float64))
        # one block per contiguous run so that dropped_before is exact
        bounds = sorted({0, *np.flatnonzero(jumps > 0).tolist(), uniq.size})
        blocks = []
        for a, b in itertools.pairwise(bounds):
            drop = int(jumps[a])
            self.stats.dropped_samples += drop
            blocks.append(SampleBlock(times[a:b], values[a:b], seq=int(uniq[a]), dropped_before=drop))
        return blocks
