"""Sans-I/O codecs for Kinvent sensors: K-Force (BLE, K-Pull / K-Push / plates) and K-Grip over USB serial.

**Reverse-engineered, not documented by Kinvent.** Verify on a real unit; the
codecs count what they do not understand instead of failing.

Sources (research/devices_clinic.md §1b):

* BLE: laguinch/kine-capteurs (no licence; facts only) —
  ``ble/kinvent/kpull/protocol.py``@98d9b79 and ``ble/kinvent/kplates/protocol.py``
  (frame layout), ``scripts/kinvent_raw_hci.py`` (init writes),
  ``scripts/kinvent_kpull_hci.py`` (keep-alive ``FF`` every 10 s),
  ``scripts/kinvent_dual_hci.py`` (keep-alive every 5 s for plates; the u16 field
  converted as milliseconds), ``docs/protocol_kinvent.md`` (Microchip
  transparent-UART service ``49535343-fe7d-…``), README (K-Pull 9722.17 counts/kg).
* USB: itsmaxxst/KGrip ``main.js`` and ``config.json`` (package.json says ISC,
  no LICENSE file; facts only).

**K-Force over BLE.** 17-byte frames ``FF FF FE``, u16 big-endian counter,
then four signed 24-bit big-endian raw ADC channels (a plate uses all four
load cells; K-Pull reads channel 1). No units on the wire: motorlab does tare
and counts -> force with its calibration store. Host -> device: single bytes
``0x11`` sampling on, ``0x10`` off, ``0x21`` get coefficient; the official app
also writes the init sequence :data:`KFORCE_INIT_WRITES` (one write each) and a
keep-alive ``FF`` (:class:`KeepAlive`). The u16 field is called a sample
counter in devices_clinic.md, but the newer kine-capteurs client converts it
as milliseconds: :class:`KForceCodec` learns its step from the stream (so gaps
and duplicates are found either way) and converts it with ``counter_tick_s``
(default 1 ms, after kine-capteurs). The stream is a UART bridge, so a frame
cut across notifications is joined (:class:`~.sync_framer.SyncFramer`).

**K-Grip over USB serial** (115200 8N1). 11-byte frames ``FF FF FE``, the raw
value in bytes 3-4 as u16 big-endian (the source computes
``kg = |baseline - value| x coefficient``); bytes 5-10 are not documented
(the source's example ``FF FF FE 0D AC 00 00 00 00 00 40``; (derived) the
length would also fit the BLE layout "u16 + two int24" — check on a unit).
Commands: ``0x11`` sampling on, ``0x10`` off, ``0x21`` get coefficient
(answered by 6 ASCII digits, ÷1e6 = kg per count, sent while sampling is
off), ``0x7A`` power off. No counter and no timestamps: samples are timed
from host arrival times (:class:`~.host_timing.HostClock`) and the rate is
estimated, not assumed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ...recording import Channel
from ..base import Ack, CodecEvent, Command, SampleBlock, Start, Stop
from .blocks import new_block
from .host_timing import HostClock
from .integrity import CounterTracker, IntegrityStats, Step
from .sync_framer import SyncFramer

HEADER = b"\xff\xff\xfe"
KFORCE_FRAME_LEN = 17
KGRIP_FRAME_LEN = 11

#: a whole K-Force frame at once: header, u16 counter, and each int24 channel as its signed high
#: byte and unsigned low 16 bits (value = high x 65536 + low)
_KFORCE_FRAME = struct.Struct(">3sH" + "bH" * 4)
_DUPLICATE, _BACK = Step.DUPLICATE, Step.BACK

#: Microchip transparent-UART service seen on K-Force sensors (kine-capteurs docs/protocol_kinvent.md)
KFORCE_SERVICE_UUID = "49535343-fe7d-4ae5-8fa9-9fafd205e455"
KFORCE_UART_UUID = "49535343-1e4d-4bd9-ba61-23c647249616"  # notify + write without response
KFORCE_NAME_PREFIX = "KFORCE"  # KFORCELink… (K-Pull), KFORCEPlate…, KFORCEMuscle… (K-Push)

OP_SAMPLING_OFF, OP_SAMPLING_ON, OP_GET_COEFFICIENT, OP_POWER_OFF, OP_KEEP_ALIVE = (
    0x10,
    0x11,
    0x21,
    0x7A,
    0xFF,
)
#: what the official Android app writes after enabling notifications (kine-capteurs INIT_COMMANDS), one write each
KFORCE_INIT_WRITES: tuple[bytes, ...] = (
    b"\x10",
    b"\x09",
    b"\x21",
    b"\x76",
    b"\x11",
    b"\x10",
    b"\x10",
    b"\x56",
    bytes.fromhex("ac0054f8"),
    b"\x11",
)
#: keep-alive period, s: K-Pull client 10 s, plate client 5 s; send at most this far apart
KFORCE_KEEPALIVE_S = 5.0
#: counter tick assumed for device time, s (kine-capteurs converts the u16 field as ms)
KFORCE_TICK_S = 1e-3
#: K-Pull scale measured by kine-capteurs (12 kg reference): a starting point, never a calibration
KPULL_COUNTS_PER_KG = 9722.17

KGRIP_BAUD = 115200
KGRIP_COEFFICIENT_DIGITS = 6

KFORCE_CHANNELS: tuple[Channel, ...] = tuple(
    Channel(f"raw_{k}", "MISC", "counts", tracked_point="load_cell") for k in range(1, 5)
)
KGRIP_CHANNELS: tuple[Channel, ...] = (Channel("raw", "MISC", "counts", tracked_point="handle"),)


# ------------------------------------------------------------------ commands
@dataclass(frozen=True)
class KeepAlive(Command):
    """K-Force ``FF``: keep the link alive (every :data:`KFORCE_KEEPALIVE_S` s at most)."""


@dataclass(frozen=True)
class GetCoefficient(Command):
    """``0x21``: the device's stored kg-per-count coefficient (send with sampling off)."""


@dataclass(frozen=True)
class PowerOff(Command):
    """K-Grip ``0x7A``: switch the device off."""


# ------------------------------------------------------------------ pure parsing
def parse_kforce_frame(frame: bytes) -> tuple[int, tuple[int, int, int, int]] | None:
    """A 17-byte K-Force frame -> (u16 counter, four signed raw channels); ``None`` if not one."""
    if len(frame) != KFORCE_FRAME_LEN or not frame.startswith(HEADER):
        return None
    counter = int.from_bytes(frame[3:5], "big")
    ch = tuple(int.from_bytes(frame[k : k + 3], "big", signed=True) for k in (5, 8, 11, 14))
    return counter, (ch[0], ch[1], ch[2], ch[3])


def kforce_frame(counter: int, channels: tuple[int, int, int, int]) -> bytes:
    """Encode one K-Force frame (emulators and tests)."""
    body = b"".join(int(v).to_bytes(3, "big", signed=True) for v in channels)
    return HEADER + (counter & 0xFFFF).to_bytes(2, "big") + body


def parse_kgrip_frame(frame: bytes) -> int | None:
    """An 11-byte K-Grip frame -> the raw u16 value (bytes 3-4); ``None`` if not one."""
    if len(frame) != KGRIP_FRAME_LEN or not frame.startswith(HEADER):
        return None
    return int.from_bytes(frame[3:5], "big")


def kgrip_frame(value: int, tail: bytes = bytes(6)) -> bytes:
    """Encode one K-Grip frame (emulators and tests); ``tail`` = the 6 undocumented bytes."""
    return HEADER + (value & 0xFFFF).to_bytes(2, "big") + tail[:6].ljust(6, b"\0")


def parse_coefficient(digits: bytes) -> float | None:
    """6 ASCII digits -> kg per count (÷1e6); ``None`` if not 6 digits."""
    if len(digits) != KGRIP_COEFFICIENT_DIGITS or not digits.isdigit():
        return None
    return int(digits) / 1e6


# ------------------------------------------------------------------ K-Force (BLE)
class KForceCodec:
    """K-Force notifications -> blocks of four raw channels (counts) timed by the device counter.

    Args:
        counter_tick_s: seconds per unit of the u16 counter (device time = unwrapped
            counter x tick). Default 1 ms (kine-capteurs); if a unit turns out to count
            samples, pass ``1 / rate``.

    Feed one notification per call. Duplicated counters are dropped (``stats.duplicates``),
    gaps start a new block with ``dropped_before`` (``stats.dropped_samples``), steps back
    are re-anchored (``stats.out_of_order``); frames that are not ``FF FF FE`` frames of 17
    bytes are skipped and their bytes counted (``stats.bytes_discarded``); 6-digit ASCII
    coefficient replies are recognised, other skipped runs are ``stats.unknown_frames``.
    """

    protocol = "kinvent-kforce"
    channels = KFORCE_CHANNELS

    def __init__(self, counter_tick_s: float = KFORCE_TICK_S) -> None:
        self.stats = IntegrityStats()
        self.counter_tick_s = counter_tick_s
        self.kg_per_count: float | None = None
        self._framer = SyncFramer(HEADER, KFORCE_FRAME_LEN, datagrams=True)
        self._counter = CounterTracker(bits=16)

    def encode(self, command: Command) -> bytes:
        if isinstance(command, Start):
            self._counter.reset()
            return bytes((OP_SAMPLING_ON,))
        if isinstance(command, Stop):
            return bytes((OP_SAMPLING_OFF,))
        if isinstance(command, KeepAlive):
            return bytes((OP_KEEP_ALIVE,))
        if isinstance(command, GetCoefficient):
            return bytes((OP_GET_COEFFICIENT,))
        raise ValueError(f"K-Force sensors have no '{command.name}' command")

    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode one notification; never raises.

        The usual notification, one whole frame with nothing carried over from the one
        before, is decoded here in one unpack; anything else takes :meth:`_feed_general`
        (same events and stats for the same input).
        """
        if len(data) == KFORCE_FRAME_LEN and not self._framer.carry:
            head, counter, h1, l1, h2, l2, h3, l3, h4, l4 = _KFORCE_FRAME.unpack(data)
            if head == HEADER:
                stats = self.stats
                stats.bytes_in += KFORCE_FRAME_LEN
                stats.frames_ok += 1
                kind, unwrapped, missing = self._counter.advance(counter)
                if kind is _DUPLICATE:
                    stats.duplicates += 1
                    return []
                if kind is _BACK:
                    stats.out_of_order += 1
                stats.dropped_samples += missing
                row = [h1 * 65536.0 + l1, h2 * 65536.0 + l2, h3 * 65536.0 + l3, h4 * 65536.0 + l4]
                return [new_block([unwrapped * self.counter_tick_s], row, 4, unwrapped, missing)]
        return self._feed_general(data)

    def _feed_general(self, data: bytes) -> list[CodecEvent]:
        """:meth:`feed` for any bytes: frames cut across notifications, several frames, junk, replies."""
        self.stats.bytes_in += len(data)
        frames, junk = self._framer.push(bytes(data))
        self.stats.bytes_discarded = self._framer.bytes_discarded
        self.stats.resyncs = self._framer.resyncs
        events: list[CodecEvent] = [ev for run in junk if (ev := self._junk(run)) is not None]
        rows: list[tuple[int, int, int, int]] = []
        ticks: list[int] = []
        dropped = 0
        for frame in frames:
            parsed = parse_kforce_frame(frame)
            if parsed is None:  # cannot happen for framer output; kept for safety
                self.stats.malformed_frames += 1
                continue
            self.stats.frames_ok += 1
            kind, unwrapped, missing = self._counter.advance(parsed[0])
            if kind is Step.DUPLICATE:
                self.stats.duplicates += 1
                continue
            if kind is Step.BACK:
                self.stats.out_of_order += 1
            if missing:
                self.stats.dropped_samples += missing
                if rows:
                    events.append(self._block(rows, ticks, dropped))
                rows, ticks, dropped = [], [], missing
            rows.append(parsed[1])
            ticks.append(unwrapped)
        if rows:
            events.append(self._block(rows, ticks, dropped))
        return events

    def _junk(self, run: bytes) -> CodecEvent | None:
        coefficient = parse_coefficient(run.strip())
        if coefficient is not None:
            self.kg_per_count = coefficient
            return Ack("coefficient", value=coefficient)
        self.stats.unknown_frames += 1
        return None

    def _block(self, rows: list[tuple[int, int, int, int]], ticks: list[int], dropped: int) -> SampleBlock:
        tick = self.counter_tick_s
        values = [float(v) for row in rows for v in row]
        return new_block([k * tick for k in ticks], values, 4, ticks[0], dropped)


# ------------------------------------------------------------------ K-Grip (USB serial)
class KGripUsbCodec:
    """K-Grip serial stream -> blocks of one raw channel (counts), timed from host arrival times.

    ``feed(data, host_time)``: ``host_time`` is the host clock (s) when the bytes were
    read; without it times are ``nan``. The running rate estimate is :attr:`rate_hz`.
    The coefficient reply (after :class:`GetCoefficient`) is ``Ack('coefficient',
    value=kg_per_count)`` and is kept in :attr:`kg_per_count`. Bytes between frames
    that are not a coefficient are counted in ``stats.unknown_frames``.
    """

    protocol = "kinvent-kgrip"
    channels = KGRIP_CHANNELS

    def __init__(self) -> None:
        self.stats = IntegrityStats()
        self.clock = HostClock()
        self.kg_per_count: float | None = None
        self._framer = SyncFramer(HEADER, KGRIP_FRAME_LEN)
        self._awaiting_coefficient = False
        self._digits = b""
        self._index = 0

    @property
    def rate_hz(self) -> float:
        """Running estimate of the device's sample rate from host arrival times (``nan`` early on)."""
        return self.clock.rate.rate_hz

    def encode(self, command: Command) -> bytes:
        if isinstance(command, Start):
            self.clock.reset()
            self._index = 0
            return bytes((OP_SAMPLING_ON,))
        if isinstance(command, Stop):
            return bytes((OP_SAMPLING_OFF,))
        if isinstance(command, GetCoefficient):
            self._awaiting_coefficient, self._digits = True, b""
            return bytes((OP_GET_COEFFICIENT,))
        if isinstance(command, PowerOff):
            return bytes((OP_POWER_OFF,))
        raise ValueError(f"the K-Grip has no '{command.name}' command")

    def feed(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """Decode serial bytes cut anywhere; never raises.

        The usual read, one whole frame with nothing carried over from the read before, is
        decoded here; anything else takes :meth:`_feed_general` (same events and stats).
        """
        if len(data) == KGRIP_FRAME_LEN and not self._framer.carry and data[:3] == HEADER:
            stats = self.stats
            stats.bytes_in += KGRIP_FRAME_LEN
            stats.frames_ok += 1
            blk = new_block(self.clock.times(1, host_time), [float(data[3] << 8 | data[4])], 1, self._index)
            if host_time is not None:
                blk.host_time = host_time
            self._index += 1
            return [blk]
        return self._feed_general(data, host_time)

    def _feed_general(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """:meth:`feed` for any bytes: cut frames, several frames, junk, coefficient replies."""
        self.stats.bytes_in += len(data)
        frames, junk = self._framer.push(bytes(data))
        self.stats.bytes_discarded = self._framer.bytes_discarded
        self.stats.resyncs = self._framer.resyncs
        events: list[CodecEvent] = [ev for run in junk if (ev := self._junk(run)) is not None]
        raw = [v for f in frames if (v := parse_kgrip_frame(f)) is not None]
        self.stats.frames_ok += len(raw)
        if raw:
            blk = new_block(self.clock.times(len(raw), host_time), [float(v) for v in raw], 1, self._index)
            if host_time is not None:
                blk.host_time = host_time
            self._index += len(raw)
            events.append(blk)
        return events

    def _junk(self, run: bytes) -> CodecEvent | None:
        """Bytes between frames: digits of an awaited coefficient (maybe cut across reads), else unknown."""
        if self._awaiting_coefficient and run.isdigit():
            self._digits += run
            if len(self._digits) < KGRIP_COEFFICIENT_DIGITS:
                return None
            coefficient = parse_coefficient(self._digits[:KGRIP_COEFFICIENT_DIGITS])
            self._awaiting_coefficient, self._digits = False, b""
            if coefficient is not None:
                self.kg_per_count = coefficient
                return Ack("coefficient", value=coefficient)
        self.stats.unknown_frames += 1
        return None
