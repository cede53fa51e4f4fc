"""Sans-I/O codec of the motorlab open wire protocol (``firmware_notes/protocol.md``).

Frames are ``0x00 | COBS(type, token, payload, crc16) | 0x00`` with
CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF; ``binascii.crc_hqx``). The decoder
splits the byte stream at 0x00 (:class:`CobsFramer`), so after garbage or a cut
it resynchronises at the next delimiter; :meth:`MotorlabCodec.parse` checks one
frame, and the sample records of a run of contiguous SAMPLES frames are decoded
with one ``np.frombuffer`` (structured dtype), never per sample.

:meth:`MotorlabCodec.feed_bulk` replays a long capture: all delimiters, COBS
code chains, CRCs and sample headers are handled with NumPy across frames
(:mod:`.bulk_framing`); every other frame goes through :meth:`~MotorlabCodec.parse`
in wire order, so events and statistics are the same as :meth:`~MotorlabCodec.feed`'s.
"""

from __future__ import annotations

import binascii
import itertools
import math
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
from .bulk_framing import SAMPLE_HEADER, cobs_code_chains, crc16_rows, row_views, sample_headers, without

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


# ------------------------------------------------------------------ framing
class CobsFramer:
    """Serial bytes -> COBS frames: the bytes between two 0x00 delimiters (never empty).

    A frame cut by the end of a call is kept for the next one; a run longer than
    :data:`MAX_ENCODED` without a delimiter cannot be a frame and is dropped up to
    the next delimiter (one ``resyncs``, its bytes in ``bytes_discarded``).
    """

    def __init__(self, stats: CodecStats):
        self.stats = stats
        self.buffer = bytearray()
        self.skipping = False  # inside an overlong run: drop until the next 0x00

    def feed(self, data: bytes) -> list[bytes]:
        pieces = data.split(b"\x00")
        tail = pieces.pop()  # bytes after the last delimiter (maybe empty)
        frames = [frame for frame in map(self.piece, pieces) if frame]
        self.keep(tail)
        return frames

    def piece(self, piece: bytes) -> bytes:
        """One run of bytes that ended at a delimiter, joined to what was buffered (b"": none)."""
        if self.skipping:  # the rest of an overlong frame
            self.stats.bytes_discarded += len(piece)
            self.skipping = False
            return b""
        if not self.buffer:
            return piece
        frame = bytes(self.buffer) + piece
        self.buffer.clear()
        return frame

    def keep(self, tail: bytes) -> None:
        """Bytes after the last delimiter: the start of the next frame."""
        if self.skipping:
            self.stats.bytes_discarded += len(tail)
            return
        self.buffer += tail
        if len(self.buffer) > MAX_ENCODED:
            self.stats.resyncs += 1
            self.stats.bytes_discarded += len(self.buffer)
            self.buffer.clear()
            self.skipping = True


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
    #: complete frames ``feed_bulk`` needs before the vectorised path is used (None: never)
    bulk_min_frames: int | None = 16
    #: frames of one body length needed before their CRCs are computed column-wise
    #: (below that ``binascii.crc_hqx`` per frame is faster)
    bulk_crc_min_frames = 256

    def __init__(self) -> None:
        self.stats = CodecStats()
        #: frames with a valid CRC whose content made no sense (wrong length, unknown type…)
        self.malformed = 0
        self.info: DeviceInfo | None = None
        self._scales: np.ndarray | None = None
        self._fmt: int | None = None
        self.framer = CobsFramer(self.stats)
        self._stream = _StreamState()
        self._pending: list[SampleBlock] = []
        # contiguous SAMPLES frames of one feed() call, decoded together: (seq, n, m, fmt), record bytes
        self._run_head: tuple[int, int, int, int] | None = None
        self._run_parts: list[bytes | np.ndarray] = []
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
        """The command's frame; raises DeviceError for a command or rate the protocol lacks."""
        code = COMMAND_TYPES.get(type(command))
        if code is None:
            raise DeviceError(f"the motorlab protocol has no command {command.name!r}")
        payload = b""
        if isinstance(command, SetRate):
            if not math.isfinite(command.rate_hz) or command.rate_hz <= 0:
                raise DeviceError(f"the motorlab protocol cannot sample at {command.rate_hz:g} Hz")
            payload = struct.pack("<I", min(int(round(command.rate_hz * 1000)), _U32 - 1))
        self.last_token = (self.last_token % 255) + 1
        return encode_frame(code, self.last_token, payload)

    # -- decoding -------------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode every complete frame in ``data`` (plus what was buffered); never raises."""
        data = self._count(data)
        events: list[CodecEvent] = []
        for frame in self.framer.feed(data):
            events += self.parse(frame)
        self._flush_run(events)
        return events

    def _count(self, data: bytes) -> bytes:
        data = bytes(data)  # (the same object when it is bytes already)
        self.stats.bytes_in += len(data)
        if self.stats.frames_ok == 0:  # only needed for looked_like_text
            self._text_in += len(data) - len(data.translate(None, _TEXT_BYTES))
        return data

    def _reject(self, frame: bytes, crc_error: bool = False) -> None:
        self.stats.resyncs += 1
        self.stats.bytes_discarded += len(frame)
        if crc_error:
            self.stats.crc_errors += 1

    def parse(self, frame: bytes) -> list[CodecEvent]:
        """One COBS frame (from :class:`CobsFramer`, delimiters removed) -> the events it completes.

        Contiguous SAMPLES frames are queued and decoded together when their run
        ends (:meth:`_flush_run`): at a gap, at any other frame (whose events then
        follow the run's block, in wire order) and at the end of ``feed``.
        """
        events: list[CodecEvent] = []
        body = cobs_decode(frame) if len(frame) <= MAX_ENCODED else None
        if body is None or len(body) < 4 or len(body) > MAX_BODY:
            self._reject(frame)
            return events
        if crc16(body[:-2]) != int.from_bytes(body[-2:], "little"):
            self._reject(frame, crc_error=True)
            return events
        msg_type, token, payload = body[0], body[1], body[2:-2]
        if msg_type == SAMPLES:
            if self._add_to_run(payload, events):
                self.stats.frames_ok += 1
            else:
                self.malformed += 1
                self.stats.bytes_discarded += len(frame)
            return events
        self._flush_run(events)  # keep events in wire order
        try:
            ev = self._message(msg_type, token, payload)
        except (_Malformed, struct.error, ValueError, RecordingError):
            ev = None
        if ev is None:
            self.malformed += 1
            self.stats.bytes_discarded += len(frame)
            return events
        self.stats.frames_ok += 1
        if isinstance(ev, list):
            events.extend(ev)
        else:
            events.append(ev)
        return events

    def _message(self, msg_type: int, token: int, payload: bytes) -> Any:
        if msg_type == ACK:
            r = _Reader(payload)
            cmd, status, value = r.take("<B"), r.take("<B"), r.take("<i")
            name = COMMAND_NAMES.get(cmd, f"0x{cmd:02x}")
            out_value: float | int = value / 1000.0 if cmd == SET_RATE else value
            return Ack(
                name, ok=status == 0, error="" if status == 0 else _status_name(status), value=out_value
            )
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
            return Ack(
                "error", ok=False, error=f"{_status_name(code)}: {text}" if text else _status_name(code)
            )
        return None

    def _info(self, payload: bytes) -> list[CodecEvent]:
        r = _Reader(payload)
        fmt, m = r.take("<xB"), r.take("<B")  # after the protocol version byte
        rate_mhz = r.take("<I")
        r.take("<I"), r.take("<I")  # min and max rate (mHz): not used
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
        """Decode the queued records with one ``np.frombuffer`` into one :class:`SampleBlock`.

        A part is the records' bytes: ``bytes``, or from the bulk path a (frames, bytes) uint8
        array whose rows are contiguous.
        """
        if self._run_head is None:
            return
        seq, n, m, fmt = self._run_head
        parts, self._run_parts, self._run_head = self._run_parts, [], None
        if len(parts) == 1 and isinstance(parts[0], np.ndarray):  # one bulk run
            # the records read straight from the bulk rows: the times with one conversion, the
            # values' bytes copied once (whole records, unaligned is fine), then read contiguous
            arr = parts[0].view(self._record_dtype(m, fmt))
            values = np.ascontiguousarray(arr["v"]).view("<i2" if fmt == 2 else "<i4").reshape(-1, m)
        else:  # (a join of one bytes object returns it as it is)
            arr = np.frombuffer(
                b"".join(p if isinstance(p, bytes) else p.tobytes() for p in parts), dtype=self._dtype(m, fmt)
            )
            values = arr["v"]
        device_time = self._unwrap(arr["t"]).reshape(-1)
        dropped = self._gap(seq, n)
        if self._scales is None:
            blk = SampleBlock(device_time, _as_float(values, None), seq=seq, dropped_before=dropped)
            if len(self._pending) >= self.max_pending_blocks:
                lost = self._pending.pop(0)
                self.stats.dropped_samples += lost.n
            self._pending.append(blk)
            return
        events.append(
            SampleBlock(device_time, _as_float(values, self._scales), seq=seq, dropped_before=dropped)
        )

    def _dtype(self, m: int, fmt: int) -> np.dtype:
        """Structured dtype of one sample record: ``t_us`` u32, then ``m`` int16/int32 values."""
        dtype = self._dtypes.get((m, fmt))
        if dtype is None:
            dtype = np.dtype([("t", "<u4"), ("v", "<i2" if fmt == 2 else "<i4", (m,))])
            self._dtypes[(m, fmt)] = dtype
        return dtype

    def _record_dtype(self, m: int, fmt: int) -> np.dtype:
        """One sample record as ``t_us`` u32 and its ``m`` values as raw bytes (one copyable field)."""
        key = (m, -fmt)
        dtype = self._dtypes.get(key)
        if dtype is None:
            dtype = np.dtype({"names": ["t", "v"], "formats": ["<u4", f"V{m * fmt}"], "offsets": [0, 4]})
            self._dtypes[key] = dtype
        return dtype

    def _unwrap(self, t_raw: np.ndarray) -> np.ndarray:
        """u32 µs timestamps (any shape, in order) -> continuous device seconds (each step taken
        mod 2^32, signed)."""
        st = self._stream
        # float64 holds every u32 exactly; one contiguous copy serves the checks and the result
        seconds = t_raw.astype(np.float64).reshape(-1)
        first, last = int(seconds[0]), int(seconds[-1])
        if st.last_t_raw is None:
            ext0 = first
        else:
            step = (first - st.last_t_raw) % _U32
            ext0 = st.last_t_ext + (step - _U32 if step >= _U32 // 2 else step)
        if seconds.max() - seconds.min() < _U32 // 2:  # no wrap inside the block
            # in place (exact: integers far below 2**53 µs): one array, not four
            seconds += ext0 - first
            seconds *= 1e-6
            st.last_t_raw, st.last_t_ext = last, last + ext0 - first
            return seconds
        raw = seconds.astype(np.int64)
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

    # -- a replayed capture: many complete frames at once ---------------------------------
    def feed_bulk(self, data: bytes) -> list[CodecEvent]:
        """Decode a long capture (a replayed log, a large read) with the same events and statistics
        as :meth:`feed`.

        The delimiters, COBS code chains, CRCs and sample headers of all frames
        are handled with NumPy across frames (:mod:`.bulk_framing`) and the
        well-formed SAMPLES frames decoded together; every other frame goes
        through :meth:`parse` in wire order. Fewer than :attr:`bulk_min_frames`
        frames go through :meth:`feed`'s frame-by-frame path.
        """
        data = self._count(data)
        events: list[CodecEvent] = []
        found = self._bulk_delimiters(data)
        if found is None:
            for frame in self.framer.feed(data):
                events += self.parse(frame)
        else:
            delims = found[0]
            first = self.framer.piece(data[: delims[0]])
            if first:
                events += self.parse(first)
            self._bulk(data, *found, events)
            self.framer.keep(data[int(delims[-1]) + 1 :])
        self._flush_run(events)
        return events

    def _bulk_delimiters(self, data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """If ``data`` holds enough frames for the bulk path: the positions of its 0x00 delimiters,
        the steps between them, and the indices of the steps with a frame (not 0x00 0x00)."""
        least = self.bulk_min_frames
        if least is None or len(data) < 4 * least:
            return None
        delims = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0)
        if delims.size <= least:
            return None
        gaps = np.diff(delims)
        between = np.flatnonzero(gaps > 1)  # 0x00 0x00 (two delimiters in a row) is no frame
        if between.size < least:
            return None
        return delims, gaps, between

    def _bulk(
        self,
        data: bytes,
        delims: np.ndarray,
        gaps: np.ndarray,
        between: np.ndarray,
        events: list[CodecEvent],
    ) -> None:
        """Decode the frames between the first and last delimiter of ``data``.

        Same outcome as :meth:`_frame` on each frame in order: frames that are
        dropped (bad COBS, bad length, bad CRC, malformed SAMPLES) only change
        counters, so they are counted in bulk; well-formed SAMPLES frames are
        decoded together; everything else goes through :meth:`parse` in place.
        """
        buf = np.frombuffer(data, dtype=np.uint8)
        starts, ends, size = (
            delims[between] + 1,
            delims[between + 1],
            gaps[between] - 1,
        )  # size: encoded bytes
        stats = self.stats

        # COBS: one walk over all code chains; codes become the zeros they stand for, and the
        # codes after a 0xFF code (which stand for nothing) are taken out: then the body of
        # frame i is work[at[i] + 1 : at[i] + 1 + body_len[i]]
        if int(size.max()) <= MAX_ENCODED:  # (the usual case: no frame too long to be one)
            code_pos, valid, dropped = cobs_code_chains(buf, starts, ends)
        else:
            short = size <= MAX_ENCODED
            valid = np.zeros(starts.size, dtype=bool)
            code_pos, valid[short], dropped = cobs_code_chains(buf, starts[short], ends[short])
        work = buf.copy()
        work[code_pos] = 0
        at, body_len = starts, size - 1
        if dropped.size:  # (sorted)
            work = without(work, dropped)
            before_start = np.searchsorted(dropped, starts)  # codes taken out before each frame
            at = starts - before_start
            body_len = body_len - (np.searchsorted(dropped, ends) - before_start)
        if self._bulk_one_run(work, at, body_len, valid, events):
            return  # the usual capture: nothing to reject, one run of samples
        reject = ~valid | (body_len < 4) | (body_len > MAX_BODY)
        stats.resyncs += int(np.count_nonzero(reject))
        stats.bytes_discarded += int(size[reject].sum())
        simple = np.flatnonzero(~reject)

        crc_ok = self._bulk_crc_ok(work, at[simple], body_len[simple])
        bad_crc = simple[~crc_ok]
        stats.resyncs += bad_crc.size
        stats.crc_errors += bad_crc.size
        stats.bytes_discarded += int(size[bad_crc].sum())
        simple = simple[crc_ok]

        # SAMPLES headers (body offsets: type 0, token 1, seq 2..5, n 6, m 7, fmt 8)
        is_samples = work[at[simple] + 1] == SAMPLES
        others = simple[~is_samples]  # every other message goes through parse, in wire order
        cand = simple[is_samples]
        seq, n, m, fmt = sample_headers(work, at[cand] + 3)
        length_ok = body_len[cand] - 4 == SAMPLE_HEADER + n * (4 + m * fmt)
        well_formed = (
            (body_len[cand] >= 4 + SAMPLE_HEADER) & ((fmt == 2) | (fmt == 4)) & (m > 0) & (n > 0) & length_ok
        )
        self.malformed += int(np.count_nonzero(~well_formed))
        stats.bytes_discarded += int(size[cand[~well_formed]].sum())
        keep_cand = well_formed
        cand, seq, n, m, fmt = cand[keep_cand], seq[keep_cand], n[keep_cand], m[keep_cand], fmt[keep_cand]

        # wire order: sample runs in bulk, every other frame one by one through parse
        frames = _BulkFrames(work, at, size, body_len, cand, seq, n, m, fmt)
        cuts = np.searchsorted(cand, others)
        first = 0
        for frame_index, cut in zip(others.tolist(), cuts.tolist()):
            self._bulk_samples(frames, first, cut, events)
            events += self.parse(data[starts[frame_index] : ends[frame_index]])
            first = cut
        self._bulk_samples(frames, first, cand.size, events)

    def _bulk_one_run(
        self,
        work: np.ndarray,
        at: np.ndarray,
        body_len: np.ndarray,
        valid: np.ndarray,
        events: list[CodecEvent],
    ) -> bool:
        """The usual capture in fewer NumPy steps than the general ones of :meth:`_bulk`.

        When every frame is valid COBS with one body length, a well-formed
        SAMPLES frame of one layout (n, m, fmt) that agrees with INFO and
        continues the one before, and has a good CRC, the frames are queued as
        one run, as :meth:`_bulk_samples` would queue them. Anything else:
        False, nothing changed, and the general steps decide frame by frame.
        """
        count = at.size
        if count < max(1, self.bulk_crc_min_frames):
            return False
        length = int(body_len[0])
        if not 4 + SAMPLE_HEADER <= length <= MAX_BODY:
            return False
        if not (valid.all() and (body_len == length).all()):
            return False
        body = row_views(work, at + 1, length)  # (frames, type token seq n m fmt records crc)
        msg_type, n, m, fmt = (int(x) for x in body[0, [0, 6, 7, 8]])
        well_formed = fmt in (2, 4) and m > 0 and n > 0 and length - 4 == SAMPLE_HEADER + n * (4 + m * fmt)
        if msg_type != SAMPLES or not well_formed or (self._scales is not None and self._scales.size != m):
            return False
        if not (body[:, [0, 6, 7, 8]] == (SAMPLES, n, m, fmt)).all():
            return False
        seq = body[:, 2:6].view("<u4")[:, 0]
        if not (np.diff(seq) == n).all():  # each frame continues the one before (uint32: mod 2^32)
            return False
        if not (crc16_rows(body[:, :-2]) == body[:, -2:].view("<u2")[:, 0]).all():
            return False  # (rare: the general steps then find the damaged frames)
        self.stats.frames_ok += count
        run = (int(seq[0]), n * count, m, fmt)
        head = self._run_head
        if head is not None and (head[2], head[3]) == (m, fmt) and (head[0] + head[1]) % _U32 == run[0]:
            self._run_head = (head[0], head[1] + run[1], m, fmt)
        else:
            self._flush_run(events)
            self._run_head = run
        self._run_parts.append(body[:, 2 + SAMPLE_HEADER : length - 2])
        return True

    def _bulk_crc_ok(self, work: np.ndarray, starts: np.ndarray, body_len: np.ndarray) -> np.ndarray:
        """Whether each body ``work[start + 1 : start + 1 + len]`` ends with the CRC of the rest."""
        body_end = starts + 1 + body_len
        stored = work[body_end - 2].astype(np.uint16) | work[body_end - 1].astype(np.uint16) << 8
        # the usual case: one body length for all frames, no grouping needed
        if starts.size and starts.size >= self.bulk_crc_min_frames and body_len.min() == body_len.max():
            return crc16_rows(row_views(work, starts + 1, int(body_len[0]) - 2)) == stored
        crc = np.empty(starts.size, dtype=np.uint16)
        lengths, inverse, counts = np.unique(body_len, return_inverse=True, return_counts=True)
        by_row = counts[inverse] >= self.bulk_crc_min_frames
        for k in np.flatnonzero(counts >= self.bulk_crc_min_frames):
            group = np.flatnonzero(inverse == k)
            crc[group] = crc16_rows(row_views(work, starts[group] + 1, int(lengths[k]) - 2))
        one_by_one = np.flatnonzero(~by_row)
        if one_by_one.size:
            view = work.data
            crc_hqx = binascii.crc_hqx
            first, last = starts[one_by_one] + 1, body_end[one_by_one] - 2
            crc[one_by_one] = [crc_hqx(view[a:b], 0xFFFF) for a, b in zip(first.tolist(), last.tolist())]
        return crc == stored

    def _bulk_samples(self, frames: _BulkFrames, first: int, last: int, events: list[CodecEvent]) -> None:
        """Queue the well-formed SAMPLES frames ``frames.cand[first:last]`` as :meth:`_add_to_run` would."""
        if last <= first:
            return
        sl = slice(first, last)
        idx, seq, n, m, fmt = frames.cand[sl], frames.seq[sl], frames.n[sl], frames.m[sl], frames.fmt[sl]
        if self._scales is not None:  # must agree with the latest INFO
            fits = m == self._scales.size
            if not fits.all():
                self.malformed += int(np.count_nonzero(~fits))
                self.stats.bytes_discarded += int(frames.size[idx[~fits]].sum())
                idx, seq, n, m, fmt = idx[fits], seq[fits], n[fits], m[fits], fmt[fits]
                if not idx.size:
                    return
        self.stats.frames_ok += idx.size
        follows = (m[1:] == m[:-1]) & (fmt[1:] == fmt[:-1]) & (seq[1:] == (seq[:-1] + n[:-1]) % _U32)
        bounds = [0, *(np.flatnonzero(~follows) + 1).tolist(), idx.size]
        for a, b in itertools.pairwise(bounds):
            run = (int(seq[a]), int(n[a:b].sum()), int(m[a]), int(fmt[a]))
            head = self._run_head
            if head is not None and (head[2], head[3]) == run[2:] and (head[0] + head[1]) % _U32 == run[0]:
                self._run_head = (head[0], head[1] + run[1], run[2], run[3])
            else:
                self._flush_run(events)
                self._run_head = run
            rows = idx[a:b]
            self._run_parts.append(_bulk_records(frames.work, frames.at[rows], frames.body_len[rows]))


@dataclass(frozen=True)
class _BulkFrames:
    """The decoded bodies of one bulk call and the headers of its well-formed SAMPLES frames."""

    work: np.ndarray  # decoded bodies: frame i's is work[at[i] + 1 : at[i] + 1 + body_len[i]]
    at: np.ndarray
    size: np.ndarray  # encoded bytes per frame (for the statistics)
    body_len: np.ndarray
    cand: np.ndarray  # indices of the well-formed SAMPLES frames, and their headers
    seq: np.ndarray
    n: np.ndarray
    m: np.ndarray
    fmt: np.ndarray


def _bulk_records(work: np.ndarray, at: np.ndarray, body_len: np.ndarray) -> np.ndarray:
    """The sample record bytes of SAMPLES frames as (frames, bytes) uint8 rows (one row if
    the frames differ in length)."""
    first = at + 1 + 2 + SAMPLE_HEADER  # records start after type, token and the sample header
    nbytes = body_len - 2 - SAMPLE_HEADER - 2
    if bool(np.all(nbytes == nbytes[0])):
        return row_views(work, first, int(nbytes[0]))
    offsets = np.cumsum(nbytes) - nbytes
    return work[np.repeat(first - offsets, nbytes) + np.arange(int(nbytes.sum()))][None, :]


def _as_float(raw: np.ndarray, scales: np.ndarray | None) -> np.ndarray:
    """Integer sample values (..., channels) -> float64 (samples, channels), times ``scales``.

    One conversion, then the scaling in place over rows of many samples (the
    scales repeated along a row): a NumPy loop over the few channels of one
    sample costs several times more than the same work over long rows.
    """
    channels = raw.shape[-1]
    if scales is None:
        return raw.astype(np.float64, order="C").reshape(-1, channels)
    if raw.flags.c_contiguous:  # (the bulk path) converted and scaled in one pass
        raw = raw.reshape(-1, channels)
        out = np.empty(raw.shape, dtype=np.float64)
    else:
        out = raw.astype(np.float64, order="C").reshape(-1, channels)  # (a view: scaled in place below)
        raw = out
    per_row = max(1, _SCALE_ROW // channels)  # samples per row
    whole = out.shape[0] - out.shape[0] % per_row
    if whole:
        shape = (-1, per_row * channels)
        # == float64(raw) * scale, value by value
        np.multiply(raw[:whole].reshape(shape), np.tile(scales, per_row), out=out[:whole].reshape(shape))
    if whole < out.shape[0]:
        np.multiply(raw[whole:], scales, out=out[whole:])
    return out


#: values per row when :func:`_as_float` scales (about a few KiB of float64)
_SCALE_ROW = 512


def _status_name(code: int) -> str:
    return STATUS_NAMES.get(code, f"error 0x{code:02x}")
