"""Sans-I/O codec of the motorlab open wire protocol (``firmware_notes/protocol.md``).

Frames are ``0x00 | COBS(type, token, payload, crc16) | 0x00`` with
CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF; ``binascii.crc_hqx``). The decoder
splits the byte stream at 0x00, so after garbage or a cut it resynchronises at
the next delimiter; sample payloads are decoded with one ``np.frombuffer`` per
frame (structured dtype), never per sample.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...recording import Channel, RecordingError
from ..base import (
    Ack,
    BatteryReply,
    CodecEvent,
    CodecStats,
    Command,
    DeviceError,
    DeviceInfo,
    GetBattery,
    GetInfo,
    InfoReply,
    SampleBlock,
    SetRate,
    Start,
    Stop,
    Tare,
)

PROTOCOL = "motorlab"
PROTOCOL_VERSION = 1

# message types
GET_INFO, START, STOP, SET_RATE, TARE, GET_BATTERY = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
ACK, INFO, SAMPLES, BATTERY, ERROR = 0x80, 0x81, 0x82, 0x83, 0x84

#: status / error codes (protocol.md section 4)
STATUS_NAMES = {
    0x00: "OK",
    0x01: "UNKNOWN_COMMAND",
    0x02: "BAD_LENGTH",
    0x03: "BAD_VALUE",
    0x04: "BAD_STATE",
    0x05: "SENSOR_FAULT",
    0x06: "NOT_SUPPORTED",
    0x07: "OVERFLOW",
}

MAX_BODY = 1023  # type + token + payload + crc
MAX_PAYLOAD = MAX_BODY - 4
MAX_ENCODED = MAX_BODY + (MAX_BODY + 253) // 254  # COBS worst case
SAMPLE_HEADER = 7  # seq u32, n u8, m u8, fmt u8

#: command type <-> abstract command (``Command.name``)
COMMAND_TYPES: dict[type[Command], int] = {
    GetInfo: GET_INFO,
    Start: START,
    Stop: STOP,
    SetRate: SET_RATE,
    Tare: TARE,
    GetBattery: GET_BATTERY,
}
COMMAND_NAMES: dict[int, str] = {code: cls().name for cls, code in COMMAND_TYPES.items()}

_U32 = 1 << 32
_TEXT_BYTES = bytes(range(32, 127)) + b"\r\n\t"


# ------------------------------------------------------------------ framing
def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (check value 0x29B1 for b"123456789")."""
    return binascii.crc_hqx(data, 0xFFFF)


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data`` (Cheshire & Baker 1999): the result contains no 0x00."""
    out = bytearray()
    start = 0
    n = len(data)
    while True:
        zero = data.find(b"\x00", start, min(start + 254, n))
        if zero >= 0:  # block ends with a zero
            out.append(zero - start + 1)
            out += data[start:zero]
            start = zero + 1
            continue
        end = min(start + 254, n)
        if end - start == 254:  # full block, no implied zero
            out.append(0xFF)
            out += data[start:end]
            start = end
            if start == n:  # canonical form: no empty block after a full one at the end
                break
            continue
        out.append(end - start + 1)
        out += data[start:end]
        break
    return bytes(out)


def cobs_decode(data: bytes) -> bytes | None:
    """Decode one COBS-encoded frame (no delimiters); ``None`` if it is not valid COBS."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            return None
        out += data[i + 1 : i + code]
        i += code
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def encode_frame(msg_type: int, token: int, payload: bytes = b"") -> bytes:
    """A complete wire frame: ``0x00 COBS(type token payload crc) 0x00``."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes((msg_type & 0xFF, token & 0xFF)) + payload
    body += struct.pack("<H", crc16(body))
    return b"\x00" + cobs_encode(body) + b"\x00"


# ------------------------------------------------------------------ payload helpers
class _Reader:
    """Bounds-checked little-endian reader; raises ``_Malformed`` past the end."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise _Malformed("payload too short")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        n = self.take("<B")
        if self.pos + n > len(self.data):
            raise _Malformed("string runs past the payload")
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8", errors="replace")


class _Malformed(Exception):
    pass


def _component(name: str) -> str:
    for suffix in ("x", "y", "z"):
        if name.endswith("_" + suffix):
            return suffix
    return "n/a"


@dataclass
class _StreamState:
    """What the decoder remembers between sample blocks."""

    next_seq: int | None = None
    last_t_raw: int | None = None
    last_t_ext: int = 0


# ------------------------------------------------------------------ codec
class MotorlabCodec:
    """Bytes <-> events for the motorlab protocol. ``feed`` never raises.

    Contiguous SAMPLES frames that arrive in one ``feed`` call are decoded
    together into one :class:`SampleBlock` (``seq`` of its first sample); a
    sequence gap starts a new block whose ``dropped_before`` counts the missing
    samples. Sample values are scaled with the channel scales of the most recent INFO;
    sample blocks that arrive before any INFO are held (up to
    ``max_pending_blocks``) and released, scaled, right after it.
    """

    protocol = PROTOCOL
    max_pending_blocks = 1000

    def __init__(self) -> None:
        self.stats = CodecStats()
        #: frames with a valid CRC whose content made no sense (wrong length, unknown type…)
        self.malformed = 0
        self.info: DeviceInfo | None = None
        self._scales: np.ndarray | None = None
        self._fmt: int | None = None
        self._buf = bytearray()
        self._skipping = False  # an overlong frame: discard until the next 0x00
        self._stream = _StreamState()
        self._pending: list[SampleBlock] = []
        # contiguous SAMPLES frames of one feed() call, decoded together: (seq, n, m, fmt), record bytes
        self._run_head: tuple[int, int, int, int] | None = None
        self._run_parts: list[bytes] = []
        self._dtypes: dict[tuple[int, int], np.dtype] = {}
        self._text_in = 0  # printable ASCII bytes seen (to say "looks like text" on a mismatch)
        self.last_token = 0  # token of the last encoded command (1..255, never 0)

    @property
    def looked_like_text(self) -> bool:
        """True when no frame decoded and the input was mostly printable ASCII (another protocol)."""
        n = self.stats.bytes_in
        return self.stats.frames_ok == 0 and n > 0 and self._text_in / n > 0.9

    # -- encoding -------------------------------------------------------------------
    def encode(self, command: Command) -> bytes:
        code = COMMAND_TYPES.get(type(command))
        if code is None:
            raise DeviceError(f"the motorlab protocol has no command {command.name!r}")
        self.last_token = (self.last_token % 255) + 1
        payload = b""
        if isinstance(command, SetRate):
            payload = struct.pack("<I", max(0, min(int(round(command.rate_hz * 1000)), _U32 - 1)))
        return encode_frame(code, self.last_token, payload)

    # -- decoding -------------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode every complete frame in ``data`` (plus what was buffered)."""
        data = bytes(data)
        self.stats.bytes_in += len(data)
        self._text_in += len(data) - len(data.translate(None, _TEXT_BYTES))
        events: list[CodecEvent] = []
        pieces = data.split(b"\x00")
        tail = pieces.pop()  # bytes after the last delimiter (maybe empty)
        for piece in pieces:
            if self._skipping:  # the rest of an overlong frame
                self.stats.bytes_discarded += len(piece)
                self._skipping = False
                continue
            frame = bytes(self._buf) + piece if self._buf else piece
            self._buf.clear()
            if frame:
                self._frame(frame, events)
        self._flush_run(events)
        if self._skipping:
            self.stats.bytes_discarded += len(tail)
        else:
            self._buf += tail
            if len(self._buf) > MAX_ENCODED:
                self.stats.resyncs += 1
                self.stats.bytes_discarded += len(self._buf)
                self._buf.clear()
                self._skipping = True
        return events

    def _reject(self, frame: bytes, crc_error: bool = False) -> None:
        self.stats.resyncs += 1
        self.stats.bytes_discarded += len(frame)
        if crc_error:
            self.stats.crc_errors += 1

    def _frame(self, frame: bytes, events: list[CodecEvent]) -> None:
        body = cobs_decode(frame) if len(frame) <= MAX_ENCODED else None
        if body is None or len(body) < 4 or len(body) > MAX_BODY:
            self._reject(frame)
            return
        if crc16(body[:-2]) != int.from_bytes(body[-2:], "little"):
            self._reject(frame, crc_error=True)
            return
        msg_type, token, payload = body[0], body[1], body[2:-2]
        if msg_type == SAMPLES:
            if self._add_to_run(payload, events):
                self.stats.frames_ok += 1
            else:
                self.malformed += 1
                self.stats.bytes_discarded += len(frame)
            return
        self._flush_run(events)  # keep events in wire order
        try:
            ev = self._message(msg_type, token, payload)
        except (_Malformed, struct.error, ValueError, RecordingError):
            ev = None
        if ev is None:
            self.malformed += 1
            self.stats.bytes_discarded += len(frame)
            return
        self.stats.frames_ok += 1
        if isinstance(ev, list):
            events.extend(ev)
        else:
            events.append(ev)

    def _message(self, msg_type: int, token: int, payload: bytes) -> Any:
        if msg_type == ACK:
            r = _Reader(payload)
            cmd, status, value = r.take("<B"), r.take("<B"), r.take("<i")
            name = COMMAND_NAMES.get(cmd, f"0x{cmd:02x}")
            out_value: float | int = value / 1000.0 if cmd == SET_RATE else value
            return Ack(name, ok=status == 0, error="" if status == 0 else _status_name(status), value=out_value)
        if msg_type == INFO:
            return self._info(payload)
        if msg_type == BATTERY:
            r = _Reader(payload)
            pct, mv = r.take("<B"), r.take("<H")
            return BatteryReply(percent=None if pct > 100 else float(pct), volts=mv / 1000.0 if mv else None)
        if msg_type == ERROR:
            r = _Reader(payload)
            code = r.take("<B")
            text = r.string()
            return Ack("error", ok=False, error=f"{_status_name(code)}: {text}" if text else _status_name(code))
        return None

    def _info(self, payload: bytes) -> list[CodecEvent]:
        r = _Reader(payload)
        _version, fmt, m = r.take("<B"), r.take("<B"), r.take("<B")
        rate_mhz, _min_mhz, _max_mhz = r.take("<I"), r.take("<I"), r.take("<I")
        if fmt not in (2, 4) or not 1 <= m <= 32:
            raise _Malformed("bad sample format or channel count")
        model, serial, firmware, manufacturer = r.string(), r.string(), r.string(), r.string()
        channels, scales = [], []
        for _ in range(m):
            name, bids_type, unit, point = r.string(), r.string(), r.string(), r.string()
            scale = r.take("<f")
            channels.append(Channel(name, bids_type, unit, _component(name), point or "n/a"))
            scales.append(float(scale))
        info = DeviceInfo(
            model=model,
            serial=serial,
            firmware=firmware,
            channels=tuple(channels),
            nominal_rate_hz=rate_mhz / 1000.0,
            protocol=PROTOCOL,
            manufacturer=manufacturer or "n/a",
            scales=tuple(scales),
        )
        self.info, self._scales, self._fmt = info, np.asarray(scales, dtype=np.float64), fmt
        out: list[CodecEvent] = [InfoReply(info)]
        pending, self._pending = self._pending, []
        for blk in pending:
            if blk.values.shape[1] == m:
                blk.values = blk.values * self._scales
                out.append(blk)
            else:
                self.stats.dropped_samples += blk.n
        return out

    # -- sample blocks ------------------------------------------------------------
    def _add_to_run(self, payload: bytes, events: list[CodecEvent]) -> bool:
        """Validate a SAMPLES payload and queue its records; False if it is malformed."""
        if len(payload) < SAMPLE_HEADER:
            return False
        seq, n, m, fmt = struct.unpack_from("<IBBB", payload, 0)
        if fmt not in (2, 4) or m == 0 or n == 0 or len(payload) != SAMPLE_HEADER + n * (4 + m * fmt):
            return False
        if self._scales is not None and self._scales.size != m:
            return False  # disagrees with INFO
        head = self._run_head
        if head is not None and (head[2], head[3]) == (m, fmt) and (head[0] + head[1]) % _U32 == seq:
            self._run_head = (head[0], head[1] + n, m, fmt)
        else:
            self._flush_run(events)
            self._run_head = (seq, n, m, fmt)
        self._run_parts.append(payload[SAMPLE_HEADER:])
        return True

    def _flush_run(self, events: list[CodecEvent]) -> None:
        """Decode the queued records with one ``np.frombuffer`` into one :class:`SampleBlock`."""
        if self._run_head is None:
            return
        seq, n, m, fmt = self._run_head
        parts, self._run_parts, self._run_head = self._run_parts, [], None
        dtype = self._dtypes.get((m, fmt))
        if dtype is None:
            dtype = np.dtype([("t", "<u4"), ("v", "<i2" if fmt == 2 else "<i4", (m,))])
            self._dtypes[(m, fmt)] = dtype
        arr = np.frombuffer(parts[0] if len(parts) == 1 else b"".join(parts), dtype=dtype)
        device_time = self._unwrap(arr["t"])
        dropped = self._gap(seq, n)
        raw = arr["v"].astype(np.float64)
        blk = SampleBlock(device_time=device_time, values=raw, seq=seq, dropped_before=dropped)
        if self._scales is None:
            if len(self._pending) >= self.max_pending_blocks:
                lost = self._pending.pop(0)
                self.stats.dropped_samples += lost.n
            self._pending.append(blk)
            return
        blk.values = raw * self._scales
        events.append(blk)

    def _unwrap(self, t_raw: np.ndarray) -> np.ndarray:
        """u32 µs timestamps -> continuous device seconds (each step taken mod 2^32, signed)."""
        raw = t_raw.astype(np.int64)
        st = self._stream
        first = int(raw[0])
        if st.last_t_raw is None:
            ext0 = first
        else:
            step = (first - st.last_t_raw) % _U32
            ext0 = st.last_t_ext + (step - _U32 if step >= _U32 // 2 else step)
        if int(raw.max()) - int(raw.min()) < _U32 // 2:  # no wrap inside the block
            ext = raw + (ext0 - first)
        else:
            steps = np.diff(raw) % _U32
            steps = np.where(steps >= _U32 // 2, steps - _U32, steps)
            ext = np.concatenate(([ext0], ext0 + np.cumsum(steps)))
        st.last_t_raw, st.last_t_ext = int(raw[-1]), int(ext[-1])
        return ext.astype(np.float64) * 1e-6

    def _gap(self, seq: int, n: int) -> int:
        """Samples missing before a block starting at ``seq`` (0 on a stream restart)."""
        st = self._stream
        dropped = 0
        if st.next_seq is not None:
            delta = (seq - st.next_seq) % _U32
            if 0 < delta < _U32 // 2:
                dropped = delta
        st.next_seq = (seq + n) % _U32
        self.stats.dropped_samples += dropped
        return dropped


def _status_name(code: int) -> str:
    return STATUS_NAMES.get(code, f"error 0x{code:02x}")
