"""Sans-I/O codec for the CTS500 climbing training scale ("Jlyscales CTS500") over BLE.

**Reverse-engineered.** Source: Stevie-Ray/hangtime-grip-connect (BSD-2)
``packages/core/src/models/device/cts500.model.ts`` and
``packages/docs/src/devices/cts500.md`` (research/devices_clinic.md §1a).

devices_clinic.md calls the CTS500 a Progressor copy: it copies the product,
**not the protocol**. Its frames share nothing with the Tindeq TLV frames
(:mod:`.tindeq`), so the Tindeq codec cannot be reused.

* GATT: a MY-BT102 UART bridge, service ``0000ffe0-…``, notify ``ffe1``, write
  ``ffe2``; names "CTS500" or "CTS-300". The bridge forwards a byte stream, so
  frames may be cut across notifications (the reference client buffers);
  this codec joins them (carry < 7 bytes).
* Every frame starts with ``0x05`` and ends with an additive checksum (sum of
  the bytes before it, modulo 256).
* Commands, 6 bytes ``05 op p0 p1 p2 cs``: ``AA`` start weight upload, ``AB``
  stop, ``A6`` tare, ``A9`` read weight once, ``86`` set zero, ``A4`` MCU
  firmware, ``C4`` battery, ``C5`` temperature, ``C1`` A/D rate (payload code
  0-5 = 10, 20, 40, 80, 160, 320 Hz).
* Replies: a 6-byte echo of the command, or a typed 7-byte answer
  ``05 80 op d0 d1 d2 cs`` (battery: volts = (d1 << 8 | d2) / 100;
  temperature: d2 in sign-magnitude °C; firmware: d0-d2).
* Weight frames, 7 bytes ``05 xx w0 w1 w2 w3 cs`` with ``xx`` neither ``80``
  nor a command opcode: weight = big-endian bytes 2-5 / 100 kg, converted to N.
  The reference reads them unsigned; here they are read as signed 32-bit
  (derived: identical for every non-negative load, and a small negative load
  after tare stays small instead of becoming 42.9 million kg).
* About 80 Hz, **no timestamps and no counter**: samples are timed from host
  arrival times (:class:`~.host_timing.HostClock`; :attr:`Cts500Codec.rate_hz`).
* A notification that is whole checksummed frames on its own starts afresh: a
  partial frame left by an earlier notification is dropped, not joined to it,
  so garbage never costs the valid notifications after it.

**Driver notes.** The scale keeps uploading across power cycles until it gets
stop (``05 AB``), even without a connection's start: a driver must send stop
before every disconnect (and wait up to ~2 s for the answer), and expect
weight frames before it sent start. Start itself is answered by weight frames
only; tare by one weight frame.

**Integrity.** A frame whose checksum fails is skipped one byte at a time
(``crc_errors``); checksummed 7-byte frames of an unknown kind count in
``unknown_frames``. Lost or duplicated frames cannot be detected (no counter).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from ...recording import Channel
from ...units import KGF_N
from ..base import (
    Ack,
    BatteryReply,
    CodecEvent,
    Command,
    GetBattery,
    GetInfo,
    RowBlock,
    SampleBlock,
    SetRate,
    Start,
    Stop,
    Tare,
)
from .blocks import new_block
from .host_timing import HostClock
from .integrity import IntegrityStats

SERVICE_UUID = "0000ffe0-0000-1000-8000-00805f9b34fb"
NOTIFY_UUID = "0000ffe1-0000-1000-8000-00805f9b34fb"
WRITE_UUID = "0000ffe2-0000-1000-8000-00805f9b34fb"
NAMES = ("CTS500", "CTS-300")

HEADER = 0x05
RESPONSE = 0x80
ACK_LEN, DATA_LEN = 6, 7
NOMINAL_RATE_HZ = 80.0
#: wait this long for the answer to stop before closing the link, s (reference client)
STOP_TIMEOUT_S = 2.0

OP_ZERO, OP_FIRMWARE, OP_TARE, OP_READ_WEIGHT, OP_START, OP_STOP = 0x86, 0xA4, 0xA6, 0xA9, 0xAA, 0xAB
OP_SET_RATE, OP_BATTERY, OP_TEMPERATURE = 0xC1, 0xC4, 0xC5
#: every opcode the reference knows; a 6-byte echo starts 05 <one of these>
OPCODES: dict[int, str] = {
    0x81: "range",
    0x82: "division",
    0x83: "calibration weight 1",
    0x84: "calibration weight 2",
    0x85: "power-on reset",
    OP_ZERO: "zero",
    0xA1: "calibration 1",
    0xA2: "calibration 2",
    OP_FIRMWARE: "firmware",
    OP_TARE: "tare",
    0xA7: "no-load calibration",
    OP_READ_WEIGHT: "weight",
    OP_START: "start",
    OP_STOP: "stop",
    0xC0: "baud rate",
    OP_SET_RATE: "rate",
    0xC3: "shutdown time",
    OP_BATTERY: "battery",
    OP_TEMPERATURE: "temperature",
    0xC6: "upper temperature",
    0xC7: "lower temperature",
    0xCA: "peak mode",
    0xD1: "max weight",
    0xD2: "min weight",
    0xD3: "alarm mode",
    0xD4: "alarm output",
}
#: byte 1 of a 7-byte frame that is not a weight frame (a typed answer, or an echo's opcode)
_NOT_WEIGHT = frozenset((RESPONSE, *OPCODES))
#: a weight frame: header, kind, weight (big-endian i32, 0.01 kg), checksum
_WEIGHT = struct.Struct(">2xi")
RATE_CODES: dict[float, int] = {10.0: 0, 20.0: 1, 40.0: 2, 80.0: 3, 160.0: 4, 320.0: 5}

CHANNELS: tuple[Channel, ...] = (Channel("force", "MISC", "N", tracked_point="handle"),)


@dataclass(frozen=True)
class Zero(Command):
    """``86``: set the hardware zero point."""


@dataclass(frozen=True)
class ReadWeight(Command):
    """``A9``: one weight frame now."""


@dataclass(frozen=True)
class GetTemperature(Command):
    """``C5``: answered by ``Ack('temperature', value=°C)``."""


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def command_frame(opcode: int, payload: bytes = b"\0\0\0") -> bytes:
    body = bytes((HEADER, opcode)) + payload[:3].ljust(3, b"\0")
    return body + bytes((checksum(body),))


def weight_frame(kg: float, kind: int = 0x00) -> bytes:
    """One 7-byte weight frame (emulators and tests); ``kind`` = byte 1 (not 80, not an opcode)."""
    body = bytes((HEADER, kind)) + int(round(kg * 100)).to_bytes(4, "big", signed=True)
    return body + bytes((checksum(body),))


def response_frame(opcode: int, d: bytes) -> bytes:
    """A typed 7-byte answer ``05 80 op d0 d1 d2 cs`` (emulators and tests)."""
    body = bytes((HEADER, RESPONSE, opcode)) + d[:3].ljust(3, b"\0")
    return body + bytes((checksum(body),))


def parse_frame(frame: bytes) -> CodecEvent | float | None:
    """A checksummed frame -> weight in kg (float), a reply event, or ``None`` if unknown."""
    if len(frame) == ACK_LEN:
        name = OPCODES.get(frame[1])
        return None if name is None else Ack(name)
    if len(frame) != DATA_LEN:
        return None
    if frame[1] == RESPONSE:
        op = frame[2]
        if op == OP_BATTERY:
            return BatteryReply(volts=(frame[4] << 8 | frame[5]) / 100.0)
        if op == OP_TEMPERATURE:
            t = frame[5]
            return Ack("temperature", value=float(-(t - 0x80) if t >= 0x80 else t))
        if op == OP_FIRMWARE:
            return Ack("firmware", value=frame[3:6].hex(" ").upper())
        name = OPCODES.get(op)
        return None if name is None else Ack(name)
    if frame[1] in OPCODES:
        return None
    return int.from_bytes(frame[2:6], "big", signed=True) / 100.0


@dataclass
class FrameCut:
    """What :func:`split_frames` found: checksummed frames, where parsing stopped, what was skipped."""

    frames: list[bytes]
    end: int  # bytes from here on may start a frame: carry them to the next notification
    crc_errors: int = 0
    discarded: int = 0
    resyncs: int = 0


def split_frames(buf: bytes) -> FrameCut:
    """Bytes -> checksummed 6- and 7-byte frames (a 6-byte echo needs a known opcode at byte 1).

    Bytes before a ``05`` are skipped; a ``05`` that starts no frame with a valid
    checksum is skipped one byte at a time (``crc_errors``).
    """
    cut = FrameCut([], 0)
    pos, n = 0, len(buf)
    while n - pos >= ACK_LEN:
        if buf[pos] != HEADER:
            nxt = buf.find(bytes((HEADER,)), pos + 1)
            new = n if nxt < 0 else nxt
            cut.discarded += new - pos
            cut.resyncs += 1
            pos = new
            continue
        if buf[pos + 1] in OPCODES and checksum(buf[pos : pos + 5]) == buf[pos + 5]:
            size = ACK_LEN
        elif n - pos < DATA_LEN:
            break  # maybe a 7-byte frame: wait for its last byte
        elif checksum(buf[pos : pos + 6]) == buf[pos + 6]:
            size = DATA_LEN
        else:
            cut.crc_errors += 1
            cut.discarded += 1
            cut.resyncs += 1
            pos += 1
            continue
        cut.frames.append(buf[pos : pos + size])
        pos += size
    cut.end = pos
    return cut


def _whole_frames(data: bytes) -> bool:
    """Is ``data`` nothing but checksummed frames?"""
    cut = split_frames(data)
    return bool(cut.frames) and cut.end == len(data) and not cut.discarded


class Cts500Codec:
    """CTS500 notifications -> force blocks (N) timed from host arrival times, and replies.

    ``feed(data, host_time)``: ``host_time`` = host clock (s) at the notification
    callback; without it sample times are ``nan``.
    """

    protocol = "cts500"
    channels = CHANNELS

    def __init__(self) -> None:
        self.stats = IntegrityStats()
        self.clock = HostClock()
        self._carry = b""
        self._index = 0

    @property
    def rate_hz(self) -> float:
        """Running estimate of the upload rate (Hz) from host arrival times."""
        return self.clock.rate.rate_hz

    def encode(self, command: Command) -> bytes:
        if isinstance(command, Start):
            self.clock.reset()
            self._index = 0
            return command_frame(OP_START)
        if isinstance(command, SetRate):
            code = RATE_CODES.get(float(command.rate_hz))
            if code is None:
                raise ValueError(f"the CTS500 samples at {sorted(RATE_CODES)} Hz, not {command.rate_hz}")
            return command_frame(OP_SET_RATE, bytes((0, 0, code)))
        ops: dict[type[Command], int] = {
            Stop: OP_STOP,
            Tare: OP_TARE,
            Zero: OP_ZERO,
            ReadWeight: OP_READ_WEIGHT,
            GetBattery: OP_BATTERY,
            GetInfo: OP_FIRMWARE,
            GetTemperature: OP_TEMPERATURE,
        }
        op = ops.get(type(command))
        if op is None:
            raise ValueError(f"the CTS500 has no '{command.name}' command")
        return command_frame(op)

    def feed(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """Decode one notification (frames may continue from the previous one); never raises.

        The usual notification, one checksummed weight frame with nothing carried over, is
        decoded here in a few steps; everything else goes to :meth:`_feed_general`, which gives
        the same events and counts for that notification too.
        """
        if (
            host_time is not None
            and not self._carry
            and len(data) == DATA_LEN
            and data[0] == HEADER
            and data[1] not in _NOT_WEIGHT
            and sum(data[:6]) & 0xFF == data[6]
        ):
            stats = self.stats
            stats.bytes_in += DATA_LEN
            stats.frames_ok += 1
            t = self.clock.one(host_time)
            arrival = math.nan if math.isnan(t) else host_time  # (t is nan iff host_time is not finite)
            newtons = _WEIGHT.unpack_from(data)[0] / 100.0 * KGF_N
            blk = RowBlock((t,), (newtons,), 1, self._index, 0, arrival)
            self._index += 1
            return [blk]
        return self._feed_general(data, host_time)

    def _feed_general(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """:meth:`feed` for any notification: joins cut frames, skips junk, decodes replies."""
        data = bytes(data)
        self.stats.bytes_in += len(data)
        buf = self._carry + data
        if self._carry and _whole_frames(data):  # a fresh start: the stale partial frame is not joined
            self._discard(len(self._carry))
            buf = data
        self._carry = b""
        cut = split_frames(buf)
        self.stats.crc_errors += cut.crc_errors
        self.stats.bytes_discarded += cut.discarded
        self.stats.resyncs += cut.resyncs
        self._carry = buf[cut.end :]
        events: list[CodecEvent] = []
        kg: list[float] = []
        for frame in cut.frames:
            parsed = parse_frame(frame)
            if parsed is None:
                self.stats.unknown_frames += 1
                continue
            self.stats.frames_ok += 1
            if isinstance(parsed, float):
                kg.append(parsed)
                continue
            if kg:  # keep replies and samples in order
                events.append(self._block(kg, host_time))
                kg = []
            events.append(parsed)
        if kg:
            events.append(self._block(kg, host_time))
        return events

    def _discard(self, n_bytes: int) -> None:
        if n_bytes > 0:
            self.stats.bytes_discarded += n_bytes
            self.stats.resyncs += 1

    def _block(self, kg: list[float], host_time: float | None) -> SampleBlock:
        blk = new_block(self.clock.times(len(kg), host_time), [v * KGF_N for v in kg], 1, self._index)
        if host_time is not None and math.isfinite(host_time):
            blk.host_time = host_time
        self._index += len(kg)
        return blk
