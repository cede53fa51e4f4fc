"""Sans-I/O codec for the Jamar Smart hand dynamometer (BLE, Nordic UART service).

**Semi-public.** Sources (research/devices_clinic.md §1a): Delsys' worked
example delsys-inc/DelsysAPI-WindowsBTExample ``Custom Peripheral/MainWindow.xaml.cs``
(no licence found; facts only) and the user guide (usermanual.wiki/Patterson-Medical/81669928).

* GATT: Nordic UART service ``6E400001-B5A3-F393-E0A9-E50E24DCCA9E``, notify
  TX ``6E400003-…``, write RX ``6E400002-…``; the name contains "Jamar".
  Delsys only subscribes to TX; no host -> device command is documented.
* Payload: ASCII ``::VAL 1,<x.x>``, force in **lb** (converted here to N with
  :data:`motorlab.units.LBF_N`). Delsys splits at the comma and keeps digits
  and ``.``, so the exact terminator is not known; this codec accepts CR, LF
  and NUL as terminators, and a message also ends where the next ``::``
  starts. A unit word after the number (``lb``/``kg``/``N``) is honoured
  (derived: a unit set to kg might be sent so; unverified). Range 0-90 kg.
* **The sample rate is not documented** and there are no device timestamps:
  samples are timed from host arrival times (:class:`~.host_timing.HostClock`)
  and :attr:`JamarCodec.rate_hz` is a running estimate of the real rate.

**Messages split across notifications.** The Nordic UART bridge forwards
bytes, so a message may be cut anywhere. An unterminated message at the end of
a notification is held until the next notification shows where it ends (a
terminator, or the next ``::``), so a number cut in the middle is never read
short. A held message keeps the arrival time of its last byte. Call
:meth:`JamarCodec.flush` when the stream goes quiet or stops, to release the
last message of a device that sends no terminator.

**Integrity.** Other ``::TAG …`` messages are counted in ``stats.unknown_frames``
(the last one is kept in :attr:`JamarCodec.last_unknown`); a ``VAL`` message
without a number, or bytes outside any message, in ``malformed_frames`` /
``bytes_discarded``. Without sequence numbers, lost or duplicated
notifications cannot be detected; a gap shows as a longer interval in the
host times.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ...recording import Channel
from ...units import FORCE_UNITS_N
from ..base import CodecEvent, Command, RowBlock, Start, Stop
from .blocks import new_block
from .host_timing import HostClock
from .integrity import IntegrityStats

SERVICE_UUID = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
TX_UUID = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"  # notify (device -> host)
RX_UUID = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"  # write (host -> device)
NAME_CONTAINS = "jamar"  # compare in lower case (Delsys: name contains "Jamar")

START = b"::"
TERMINATORS = b"\r\n\0"
#: longest message held across notifications, bytes (a VAL message is ~14)
MAX_MESSAGE = 64
#: device range (user guide): 0-200 lb / 0-90 kg
RANGE_LB = 200.0

CHANNELS: tuple[Channel, ...] = (Channel("force", "MISC", "N", tracked_point="handle"),)

_VAL = re.compile(rb"^::VAL\s*(\d+)\s*,\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*([A-Za-z]*)\s*$")
_TAG = re.compile(rb"^::([A-Za-z]+)")
#: the usual notification, exactly: one VAL message with an unsigned number, no unit, CR LF
_USUAL = re.compile(rb"::VAL \d+,(\d+\.?\d*|\.\d+)\r\n")


@dataclass(frozen=True)
class JamarReading:
    """One ``::VAL`` message: the number after ``VAL`` and the force in its unit."""

    channel: int
    value: float
    unit: str  # lower case key of motorlab.units.FORCE_UNITS_N

    @property
    def newtons(self) -> float:
        return self.value * FORCE_UNITS_N[self.unit]


def parse_message(message: bytes, default_unit: str = "lb") -> JamarReading | str | None:
    """One message (``::`` up to its end, terminator excluded) -> a reading, the tag of
    another message (str), or ``None`` if it is a malformed ``VAL``/not a message."""
    m = _VAL.match(message)
    if m is not None:
        unit = (m.group(3).decode() or default_unit).lower()
        if unit not in FORCE_UNITS_N:
            return None
        return JamarReading(int(m.group(1)), float(m.group(2)), unit)
    tag = _TAG.match(message)
    if tag is None or tag.group(1).upper() == b"VAL":
        return None
    return tag.group(1).decode()


def val_message(lb: float, channel: int = 1, terminator: bytes = b"\r\n") -> bytes:
    """Encode one reading as the device does (emulators and tests)."""
    return f"::VAL {channel},{lb:.1f}".encode() + terminator


class JamarCodec:
    """Jamar Smart notifications -> force blocks (N), timed from host arrival times.

    Args:
        unit: force unit of numbers that carry no unit word (the research says lb).

    ``feed(data, host_time)``: ``host_time`` = host clock (s) at the notification
    callback; without it sample times are ``nan``.
    """

    protocol = "jamar"
    channels = CHANNELS

    def __init__(self, unit: str = "lb") -> None:
        if unit.lower() not in FORCE_UNITS_N:
            raise ValueError(f"unknown force unit {unit!r}")
        self.unit = unit.lower()
        self.stats = IntegrityStats()
        self.clock = HostClock()
        self.last_unknown = ""
        self._held = b""
        self._held_time: float | None = None
        self._index = 0

    @property
    def rate_hz(self) -> float:
        """Running estimate of the device's sample rate (Hz) from host arrival times."""
        return self.clock.rate.rate_hz

    def encode(self, command: Command) -> bytes:
        """Start/Stop are host-side (the device streams while notifications are on): nothing to send."""
        if isinstance(command, Start):
            self.clock.reset()
            self._index = 0
            self._held, self._held_time = b"", None
            return b""
        if isinstance(command, Stop):
            return b""
        raise ValueError(f"the Jamar Smart has no '{command.name}' command")

    def feed(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """Decode one notification; never raises.

        The usual notification, one whole ``::VAL <channel>,<number>`` CR LF message (no sign, no
        unit) and nothing held, is decoded here in a few steps; the rest goes to :meth:`_feed_general`,
        which gives the same events and counts for any notification.
        """
        data = bytes(data)
        if host_time is not None and not self._held:
            m = _USUAL.fullmatch(data)
            if m is not None:
                stats = self.stats
                stats.bytes_in += len(data)
                stats.frames_ok += 1
                t = self.clock.one(host_time)
                arrival = math.nan if math.isnan(t) else host_time  # (t is nan iff host_time is not finite)
                newtons = float(m[1]) * FORCE_UNITS_N[self.unit]
                blk = RowBlock((t,), (newtons,), 1, self._index, 0, arrival)
                self._index += 1
                return [blk]
        return self._feed_general(data, host_time)

    def _feed_general(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """:meth:`feed` for any notification: held and cut messages, other tags, junk."""
        data = bytes(data)
        self.stats.bytes_in += len(data)
        if not self._held and data.startswith(START) and data.endswith(b"\r\n") and _single(data):
            return self._decode_one(data[:-2], host_time)  # one whole message: the usual case
        held = len(self._held)
        buf = self._held + data
        held_time = self._held_time
        self._held, self._held_time = b"", None
        messages: list[tuple[bytes, bool]] = []  # (message, completed by held bytes only)
        pos, n = 0, len(buf)
        while pos < n:
            start = buf.find(START, pos)
            if start < 0:
                tail = buf[pos:]
                keep = 1 if tail.endswith(b":") else 0  # maybe half of the next "::"
                self._skip(tail[: len(tail) - keep])
                if keep:
                    self._hold(tail[-1:], host_time)
                break
            self._skip(buf[pos:start])
            end = _message_end(buf, start)
            if end < 0:
                self._hold(buf[start:], host_time)
                break
            messages.append((buf[start:end], end <= held))
            pos = end
        return self._decode(messages, held_time, host_time)

    def flush(self, host_time: float | None = None) -> list[CodecEvent]:
        """Release a held message as complete (the stream went quiet or stopped); never raises."""
        message, when = self._held, self._held_time
        self._held, self._held_time = b"", None
        if not message.startswith(START):
            self._skip(message)
            return []
        return self._decode([(message, True)], when, host_time)

    # -- internals ------------------------------------------------------------------
    def _hold(self, tail: bytes, host_time: float | None) -> None:
        if len(tail) > MAX_MESSAGE:
            self.stats.malformed_frames += 1
            self._skip(tail)
            return
        self._held, self._held_time = tail, host_time

    def _skip(self, junk: bytes) -> None:
        junk = junk.strip(TERMINATORS + b" \t")
        if junk:
            self.stats.bytes_discarded += len(junk)
            self.stats.resyncs += 1

    def _decode_one(self, message: bytes, host_time: float | None) -> list[CodecEvent]:
        """:meth:`_decode` of one message completed by this notification, for a reading."""
        m = _VAL.match(message)  # (what parse_message does, without its JamarReading)
        scale = FORCE_UNITS_N.get((m.group(3).decode() or self.unit).lower()) if m is not None else None
        if m is None or scale is None:
            return self._decode([(message, False)], None, host_time)
        self.stats.frames_ok += 1
        arrival = host_time if host_time is not None and math.isfinite(host_time) else math.nan
        blk = RowBlock(
            self.clock.times(1, host_time), (float(m.group(2)) * scale,), 1, self._index, 0, arrival
        )
        self._index += 1
        return [blk]

    def _decode(
        self, messages: list[tuple[bytes, bool]], held_time: float | None, host_time: float | None
    ) -> list[CodecEvent]:
        early: list[float] = []  # readings completed by bytes that arrived before this feed
        late: list[float] = []
        for message, from_held in messages:
            parsed = parse_message(message, self.unit)
            if isinstance(parsed, JamarReading):
                self.stats.frames_ok += 1
                (early if from_held else late).append(parsed.newtons)
            elif isinstance(parsed, str):
                self.stats.unknown_frames += 1
                self.last_unknown = message.decode("ascii", "replace")
            else:
                self.stats.malformed_frames += 1
        if not early and not late:
            return []
        times = self.clock.times(len(early), held_time) + self.clock.times(len(late), host_time)
        values = early + late
        blk = new_block(times, values, 1, self._index)
        if host_time is not None and math.isfinite(host_time):
            blk.host_time = host_time
        self._index += len(values)
        return [blk]


def _message_end(buf: bytes, start: int) -> int:
    """End (exclusive) of the message starting at ``start``: a terminator or the next ``::``; -1 if unknown yet."""
    ends = [i for i in (buf.find(bytes((t,)), start + 2) for t in TERMINATORS) if i >= 0]
    nxt = buf.find(START, start + 2)
    if nxt >= 0:
        ends.append(nxt)
    return min(ends) if ends else -1


def _single(data: bytes) -> bool:
    """Is ``data`` (``::`` ... CR LF) one message with no other start or terminator inside?"""
    body = data[2:-2]
    return b"::" not in body and b"\r" not in body and b"\n" not in body and b"\0" not in body
