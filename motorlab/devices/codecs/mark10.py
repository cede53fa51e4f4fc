"""Sans-I/O codec for Mark-10 Series 4/5 force gauges (and OEM Omega DFG55, Checkline).

Wire format (Mark-10 Series 5 User's Guide §9.8; Series 4 §9.1.3-9.1.4):

* host -> gauge: ASCII commands ending in CR (or CR LF): ``?`` displayed value,
  ``?C`` current (real-time) value, units ``N`` ``LB`` ``KG`` ``OZ`` ``G`` ``MN``
  ``KN``, ``Z`` zero (tare) and clear peaks, ``RM``/``RV``/``RS`` model,
  firmware and serial, ``LIST`` settings.
* gauge -> host: one line per query ending in CR LF: ``value[ unit]`` such as
  ``-18.78 lbF`` or ``4.285 N`` (the unit is optional, set on the gauge); text
  for ``RM``/``RV``/``RS``; ``*10`` illegal command, ``*11`` not applicable,
  ``*12`` invalid specifier, ``*22`` value too large. Setting commands that
  succeed send nothing.

Replies carry no identifier, so the codec keeps the commands in flight in order
(serial links keep order): a reading answers the oldest poll, an error answers
the oldest command, and a setting still in flight when a later reply arrives
has succeeded.

**Sign convention.** By default the gauge reports compression as positive and
tension as negative (``-18.78 lbF`` = 18.78 lbF of tension). motorlab keeps
that: grip force (the hand compressing the gauge) is positive, in newtons.
A gauge set to inverted polarity is read with ``invert=True``.

**Device time.** The gauge has no clock on the link and sends nothing unless
polled, so a reading's device time is the poll's *scheduled* time given in
:class:`Poll` (the host's polling schedule, s from the start).
"""

from __future__ import annotations

import math
import re
from array import array
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...recording import Channel
from ...units import FORCE_UNITS_N
from ..base import (
    Ack,
    CodecEvent,
    CodecStats,
    Command,
    DeviceInfo,
    GetInfo,
    InfoReply,
    RowBlock,
    SampleBlock,
    Start,
    Stop,
    Tare,
)
from .blocks import join_runs, new_block

#: newtons per unit (lower-case keys)
UNIT_TO_N: dict[str, float] = FORCE_UNITS_N
#: unit command -> unit text the gauge prints after a value
UNIT_COMMANDS: dict[str, str] = {
    "N": "N",
    "MN": "mN",
    "KN": "kN",
    "LB": "lbF",
    "OZ": "ozF",
    "KG": "kgF",
    "G": "gF",
}
ERRORS = {"10": "illegal command", "11": "not applicable", "12": "invalid specifier", "22": "value too large"}

CHANNELS: tuple[Channel, ...] = (Channel("force", "MISC", "N", tracked_point="handle"),)

#: a reading line: number, optional unit
_READING = re.compile(rb"^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*([A-Za-z]*)\s*$")
_MAX_LINE = 128
#: answered polls kept before :class:`_InFlight` drops them
_COMPACT_AFTER = 4096
#: bytes a run of reading values may consist of (what ``_READING`` allows, plus separators)
_NUMBER_BYTES = b"0123456789.+- \t\n"
#: bytes of one reading value
_DIGITS = b"0123456789.+-"
#: what the line framer keeps after a whole line ending in CR LF (its LF), or after none
_AFTER_LINE = (b"\n", b"")


# ------------------------------------------------------------------ commands
@dataclass(frozen=True)
class Poll(Command):
    """Ask for a reading; ``device_time_s`` is the poll's scheduled time (s).

    ``skipped`` counts polls the host skipped just before this one (reported as
    ``dropped_before`` on the reading).
    """

    device_time_s: float = math.nan
    skipped: int = 0


@dataclass(frozen=True)
class Sync(Command):
    """A reading used as a round trip (handshake, confirmation); answered by ``Ack('sync', value=N)``."""


@dataclass(frozen=True)
class SetUnit(Command):
    """Select the display/output unit: one of ``N MN KN LB OZ KG G``."""

    unit: str = "N"


@dataclass(frozen=True)
class Raw(Command):
    """Any other command text, e.g. ``CUR`` or ``FLTC3``; answered by ``Ack(text)`` when done."""

    text: str = "CUR"


def parse_unit(text: str) -> float | None:
    """Newtons per unit for a unit string (case-insensitive), or None if not a force unit."""
    return UNIT_TO_N.get(text.strip().lower())


class _InFlight:
    """Commands in flight, oldest first, with the polls stored compactly.

    Polls are kept apart from the other commands: their payloads (scheduled time
    s, polls skipped before it) in two typed arrays, answered up to ``_head``;
    each other command remembers how many polls were sent before it. So a poll
    heads the queue while ``_head < _limit`` (the polls sent before the oldest
    other command), one reading is matched with two index operations, and a burst
    of readings with array slices (a poll held costs no Python objects).
    """

    def __init__(self) -> None:
        self._times = array("d")
        self._skipped = array("q")
        self._head = 0  # polls answered (index into _times/_skipped)
        self._limit = 0  # polls sent before the oldest other command (all polls if none)
        self._others: deque[tuple[int, str, Any]] = deque()  # (polls sent before it, kind, payload)

    def __len__(self) -> int:
        return len(self._times) - self._head + len(self._others)

    def append(self, item: tuple[str, Any]) -> None:
        kind, payload = item
        if kind == "reading":
            t, skipped = payload
            self._times.append(t)
            self._skipped.append(skipped)
            if not self._others:
                self._limit += 1
        else:
            self._others.append((len(self._times), kind, payload))

    def head_kind(self) -> str | None:
        if self._head < self._limit:
            return "reading"
        return self._others[0][1] if self._others else None

    def reading_run(self) -> int:
        """Polls at the head of the queue."""
        return self._limit - self._head

    def pop_poll(self) -> tuple[float, int] | None:
        """The oldest command if it is a poll: (scheduled time s, polls skipped), now answered; else
        None (nothing changed). The one-reading path of :meth:`Mark10Codec.feed`."""
        a = self._head
        if a >= self._limit:
            return None
        self._head = a + 1
        poll = self._times[a], self._skipped[a]
        if a >= _COMPACT_AFTER and 2 * a > len(self._times):
            self._compact()
        return poll

    def popleft(self) -> tuple[str, Any]:
        """The oldest command (there must be one): its kind and payload, now answered."""
        if self._head < self._limit:
            return "reading", self.pop_poll()
        _, kind, payload = self._others.popleft()
        self._limit = self._others[0][0] if self._others else len(self._times)
        return kind, payload

    def pop_readings(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` oldest polls (they must head the queue): times (s) and skipped counts."""
        a = self._head
        t = np.frombuffer(self._times, dtype=np.float64, count=n, offset=8 * a).copy()
        skipped = np.frombuffer(self._skipped, dtype=np.int64, count=n, offset=8 * a).copy()
        self._head = a + n
        if self._head >= _COMPACT_AFTER and 2 * self._head > len(self._times):
            self._compact()
        return t, skipped

    def _compact(self) -> None:
        """Drop the answered polls (now and then: it moves the rest)."""
        a = self._head
        del self._times[:a], self._skipped[:a]
        self._head, self._limit = 0, self._limit - a
        self._others = deque((k - a, kind, payload) for k, kind, payload in self._others)

    def clear(self) -> None:
        del self._times[:], self._skipped[:]
        self._head = self._limit = 0
        self._others.clear()


# ------------------------------------------------------------------ replay: decimals in NumPy
def _bytes8(value: int) -> np.uint64:
    """A 64-bit word with ``value`` in each of its 8 bytes."""
    return np.uint64(value * 0x0101010101010101)


_ALL_BYTES = np.uint64(0xFFFFFFFFFFFFFFFF)


def _divisors() -> np.ndarray:
    """Divisor of a number's mantissa by the exponent field of ``float(1 << 8 * b)`` (b = byte
    of its dot in its word; field 0: no dot): 10 ** (7 - b), or 1. (10 ** k is a double without
    rounding up to k = 22.)"""
    table = np.ones(2048)
    for b in range(8):
        table[1023 + 8 * b] = 10.0 ** (7 - b)
    return table


_DIVISORS = _divisors()


def parse_decimals(buf: bytes, ends: np.ndarray, lengths: np.ndarray) -> np.ndarray | None:
    """The ASCII decimals ``buf[ends[i] - lengths[i] : ends[i]]`` -> float64, each bit-identical
    to ``float(text)``; None unless every one is ``[+-]?`` then digits with at most one ``.``
    (at least one digit), 1 to 8 bytes long (what ``_READING`` takes).

    Every number is read as one little-endian 64-bit word: the 8 bytes that end where it
    ends, so its first byte is the word's lowest one that belongs to it. With 8-bit lanes
    of such words (SWAR) the bytes before the number and its sign are cleared, the one dot
    is found and taken out, every remaining byte is checked to be a digit, and the 8 digits
    are combined into the integer mantissa ``m`` with three multiplications (D. Lemire's
    eight-digit parse, as in simdjson). The value is then ``m / 10**k`` for ``k`` digits
    after the dot: ``m < 10**8`` and ``10**k`` are exact doubles and IEEE division rounds
    correctly, so the result is the double nearest the decimal, as ``float()`` gives.
    """
    if lengths.min() < 1 or lengths.max() > 8:
        return None
    # the word of each number from the two aligned words it straddles (8 zero bytes in front,
    # so that there is a word before the first number; 8 behind, so that the last has two)
    aligned = np.frombuffer(bytes(8) + buf + bytes(16 - len(buf) % 8), dtype="<u8")
    index = ends >> 3  # (each word starts at ends - 8 + 8 in the padded buffer)
    offset = ((ends & 7) << 3).astype(np.uint64)  # bits
    x = np.right_shift(aligned[index], offset)
    x |= (aligned[1:][index] << np.uint64(1)) << (np.uint64(63) - offset)  # (two steps: never by 64)
    # (operations in place where they can be: fewer fresh arrays)
    before = (8 * (8 - lengths)).astype(np.uint64)  # bits of the bytes before the number
    first = np.right_shift(x, before)
    first &= np.uint64(0xFF)
    negative = first == ord("-")
    signed = negative | (first == ord("+"))
    # y: digits as 0-9, the dot as 0x1E; the bytes before the number and its sign as 0 (a
    # shift by 64, a lone sign, gives 0: NumPy defines it; then no digit is left, see below)
    before += signed * np.uint64(8)
    keep = np.left_shift(_ALL_BYTES, before, out=before)
    y = x
    y ^= _bytes8(0x30)
    y &= keep
    # the dot: 0x80 in its byte (exact zero-byte test of y ^ 0x1E..1E), none if it has none
    z = np.bitwise_xor(y, _bytes8(0x1E), out=first)
    dot = np.bitwise_and(z, _bytes8(0x7F), out=keep)
    dot += _bytes8(0x7F)
    dot |= z
    dot |= _bytes8(0x7F)
    np.invert(dot, out=dot)
    if (np.bitwise_and(dot, dot - np.uint64(1), out=z)).any():  # two dots
        return None
    has_dot = dot != 0
    unit = np.right_shift(dot, np.uint64(7), out=dot)  # 1 << 8 * (the dot's byte), 0 without a dot
    # the divisor 10 ** (digits after the dot), found by the exponent field of the double
    # 1 << 8 * (the dot's byte)
    divisor = _DIVISORS[unit.astype(np.float64).view(np.int64) >> 52]
    below = np.subtract(unit, has_dot, out=z)  # the bytes before the dot
    after = np.multiply(unit, np.uint64(0xFF), out=unit)
    after |= below
    np.invert(after, out=after)  # the bytes after the dot (all bytes without a dot)
    below &= y
    below <<= np.uint64(8)
    digits = y
    digits &= after
    digits |= below  # the dot taken out: the digits before it moved up a byte
    check = np.add(digits, _bytes8(0x76), out=after)
    check |= digits
    if (check & _bytes8(0x80)).any():  # a byte that is not 0-9
        return None
    if (lengths - signed - has_dot < 1).any():  # no digit
        return None
    pairs = np.multiply(digits, np.uint64(10), out=check)
    digits >>= np.uint64(8)
    pairs += digits
    mask = np.uint64(0x000000FF000000FF)
    high = np.right_shift(pairs, np.uint64(16), out=digits)
    high &= mask
    high *= np.uint64(1 + (10000 << 32))
    pairs &= mask
    pairs *= np.uint64(100 + (1000000 << 32))
    pairs += high
    mantissa = np.right_shift(pairs, np.uint64(32), out=pairs)
    values = mantissa.astype(np.float64)
    values /= divisor
    np.copysign(values, 0.5 - negative, out=values)  # (the value itself is >= 0: -(m / d) exactly)
    return values


class Mark10Codec:
    """Line codec for Mark-10 gauges: replies in, force in N out (one channel ``force``).

    Args:
        query: reading command, ``?C`` (current value, Series 5) or ``?`` (displayed
            value, every series).
        invert: the gauge is set to inverted polarity (tension positive).
        unit: unit assumed for readings printed without one.
    """

    protocol = "mark10"

    def __init__(self, query: str = "?C", invert: bool = False, unit: str = "N"):
        self.stats = CodecStats()
        self.query = query
        self.sign = -1.0 if invert else 1.0
        self.unit = unit
        self.framer = LineFramer(self.stats)
        #: commands in flight, oldest first: (kind, payload)
        self._pending = _InFlight()
        self._info: dict[str, str] = {}
        self._dropped = 0  # polls lost since the last reading
        #: unit text of the last reading ("" = the gauge printed none; None = no reading yet)
        self.last_unit: str | None = None
        #: force unit the gauge printed, with CR LF -> (as str, newtons per unit x sign), as seen
        self._units: dict[bytes, tuple[str, float]] = {}

    # -- encode -----------------------------------------------------------------
    def encode(self, command: Command) -> bytes:
        if isinstance(command, Poll):
            self._pending.append(("reading", (float(command.device_time_s), int(command.skipped))))
            return self.query.encode() + b"\r\n"
        if isinstance(command, Sync):
            self._pending.append(("sync", None))
            return self.query.encode() + b"\r\n"
        if isinstance(command, GetInfo):
            self._info = {}
            for field in ("RM", "RV", "RS"):
                self._pending.append(("info", field))
            return b"RM\r\nRV\r\nRS\r\n"
        if isinstance(command, SetUnit):
            cmd = command.unit.upper()
            if cmd not in UNIT_COMMANDS:
                raise ValueError(
                    f"unit {command.unit!r} is not a Mark-10 force unit ({', '.join(UNIT_COMMANDS)})"
                )
            self._pending.append(("setting", ("setunit", UNIT_COMMANDS[cmd])))
            return cmd.encode() + b"\r\n"
        if isinstance(command, Tare):
            self._pending.append(("setting", ("tare", None)))
            return b"Z\r\n"
        if isinstance(command, Raw):
            self._pending.append(("setting", (command.text, None)))
            return command.text.encode("ascii") + b"\r\n"
        if isinstance(command, (Start, Stop)):
            return b""  # the gauge is polled; the host's schedule starts and stops
        raise ValueError(f"Mark-10 has no '{command.name}' command")

    def clear_pending(self) -> None:
        """Forget commands in flight (their replies were lost)."""
        self._pending.clear()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def device_info(self) -> DeviceInfo:
        return DeviceInfo(
            model=self._info.get("RM", "n/a"),
            serial=self._info.get("RS", "n/a"),
            firmware=self._info.get("RV", "n/a"),
            channels=CHANNELS,
            nominal_rate_hz=float("nan"),  # set by the host's polling rate
            protocol=self.protocol,
            manufacturer="Mark-10",
        )

    # -- decode -----------------------------------------------------------------
    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode reply lines; never raises.

        Fast path, the usual read while polling: one whole ``value unit`` or ``value`` line (one
        space, CR LF) answering the poll at the head of the queue, nothing buffered but the last
        line's LF. It is decoded here with the same block and counters as :meth:`_feed_general`
        (framer + :meth:`parse`), which takes every other read.
        """
        if type(data) is not bytes:
            data = bytes(data)
        if self.framer.buffer in _AFTER_LINE:
            number, space, tail = data.partition(b" ")
            if space:  # tail: the unit, CR LF
                known = self._units.get(tail) or self._unit(tail)
            else:  # a bare number (number: it, CR LF)
                known = self._unit(number[-2:])
                number = number[:-2]
            # digits, signs and dots only: what _READING takes, once float takes it
            if known is not None and not number.translate(None, _DIGITS):
                try:  # (x * scale * sign: sign is +-1, so x * (scale * sign) is the same double)
                    value = float(number) * known[1]
                except ValueError:  # e.g. '1.2.3', a lone '-' or no number
                    return self._feed_general(data)
                poll = self._pending.pop_poll()
                if poll is not None:
                    t, drop = poll  # (polls skipped before it)
                    self.framer.buffer = b"\n"  # (all the framer would keep of this line)
                    self.last_unit = known[0]
                    stats = self.stats
                    stats.bytes_in += len(data)
                    stats.frames_ok += 1
                    if drop or self._dropped:
                        drop += self._dropped
                        self._dropped = 0
                        stats.dropped_samples += drop
                    return [RowBlock((t,), (value,), 1, None, drop)]
        return self._feed_general(data)

    def _feed_general(self, data: bytes) -> list[CodecEvent]:
        """Any bytes: :class:`LineFramer`, then :meth:`parse` on each line."""
        data = bytes(data)  # (the same object when it is bytes already)
        self.stats.bytes_in += len(data)
        events: list[CodecEvent] = []
        for line in self.framer.feed(data):
            events += self.parse(line)
        return join_runs(events)

    def _unit(self, tail: bytes) -> tuple[str, float] | None:
        """What follows the number (and its space) on a reading line: the unit and CR LF, or CR
        LF alone (no unit: the gauge's unit) -> (the unit as str, newtons per unit times the sign
        convention); None if that is not a force unit (or not letters only: then a blank or CR
        is inside the line) or not followed by CR LF. A unit the gauge printed is kept for the
        next lines."""
        unit = tail[:-2]
        if tail[-2:] != b"\r\n" or not (unit.isalpha() or not unit):
            return None
        text = unit.decode()
        scale = parse_unit(text or self.unit)
        if scale is None:
            return None
        if unit:
            self._units[tail] = (text, scale * self.sign)
        return text, scale * self.sign

    def parse(self, line: bytes) -> list[CodecEvent]:
        """One reply line (from :class:`LineFramer`, blanks stripped) against the oldest command
        in flight -> its events."""
        events: list[CodecEvent] = []
        self._line(line, events)
        return events

    def _line(self, line: bytes, events: list[CodecEvent]) -> None:
        if line.startswith(b"*"):
            code = line[1:].decode("ascii", "replace").strip()
            error = f"*{code} {ERRORS.get(code, 'error')}"
            if not self._pending:
                self.stats.bytes_discarded += len(line)
                return
            kind, payload = self._pending.popleft()
            self._resolve_failed(kind, payload, error, events)
            return
        # settings still in flight before a reply have succeeded (they send nothing)
        while self._pending.head_kind() == "setting":
            _, payload = self._pending.popleft()
            name, unit = payload
            if name == "setunit":
                self.unit = unit
            events.append(Ack(name, True, "", unit))
        if not self._pending:
            self.stats.bytes_discarded += len(line)  # unsolicited (DATA key) or a late reply
            return
        kind, payload = self._pending.popleft()
        if kind == "info":
            text = line.decode("ascii", "replace")
            if not text.isprintable():
                self.stats.crc_errors += 1
                text = "n/a"
            self._info[str(payload)] = text
            self._maybe_info(payload, events)
            return
        m = _READING.match(line)
        unit = m.group(2).decode() if m else ""
        scale = parse_unit(unit or self.unit) if m else None
        if m is None or scale is None:
            self.stats.crc_errors += 1
            error = f"unreadable reply {line[:40].decode('ascii', 'replace')!r}"
            self._resolve_failed(kind, payload, error, events)
            return
        value_n = float(m.group(1)) * scale * self.sign
        self.last_unit = unit
        if kind == "sync":
            events.append(Ack("sync", True, "", value_n))
            return
        t, skipped = payload
        drop = skipped + self._dropped
        self._dropped = 0
        self.stats.dropped_samples += drop
        self.stats.frames_ok += 1
        events.append(new_block((t,), (value_n,), 1, None, drop))

    def _resolve_failed(self, kind: str, payload: Any, error: str, events: list[CodecEvent]) -> None:
        if kind == "reading":
            self._dropped += 1 + payload[1]
            events.append(Ack("poll", False, error))
        elif kind == "sync":
            events.append(Ack("sync", False, error))
        elif kind == "info":
            self._info[str(payload)] = "n/a"  # Series 4 knows only '?'
            self._maybe_info(payload, events)
        else:
            name, _ = payload
            events.append(Ack(name, False, error))

    def _maybe_info(self, field: object, events: list[CodecEvent]) -> None:
        if field == "RS":
            events.append(InfoReply(self.device_info()))

    # -- a replayed capture ---------------------------------------------------------
    def feed_bulk(self, data: bytes) -> list[CodecEvent]:
        """Decode many reply lines at once (a replayed log), with the same events and statistics
        as :meth:`feed`: a run of reading lines answering a run of polls is parsed at once (in
        NumPy, :func:`parse_decimals`, or with C-level passes); any other line goes through
        :meth:`parse`."""
        data = bytes(data)
        self.stats.bytes_in += len(data)
        text = self.framer.complete(data)
        events: list[CodecEvent] = []
        pos = 0
        while pos < len(text):
            run = self._pending.reading_run()
            if run > 1:
                pos = self._bulk_readings(text, pos, run, events)
                if pos >= len(text):
                    break
            nxt = text.find(b"\r", pos)
            line = text[pos:nxt].strip()
            pos = nxt + 1
            if line:
                events += self.parse(line)
        return join_runs(events)

    def _bulk_readings(self, text: bytes, pos: int, run: int, events: list[CodecEvent]) -> int:
        """The rest of ``text`` as reading lines, parsed at once.

        Taken only when every remaining line is ``value unit`` (one space) or a bare
        ``value`` and there is a poll for each; otherwise the caller's
        line-by-line path takes over. Returns the new position.
        """
        span = text[pos:]
        arr = np.frombuffer(span, dtype=np.uint8)
        cr = np.flatnonzero(arr == 13)
        n_lines = len(cr)
        if n_lines > run or n_lines < 2:
            return pos
        parsed = (
            self._decimal_lines(span, arr, cr)
            or self._same_unit_values(span, n_lines)
            or self._mixed_unit_values(span, n_lines)
        )
        if parsed is None:
            return pos
        v, last_unit = parsed
        self.last_unit = last_unit.decode("ascii", "replace")
        t, skipped = self._pending.pop_readings(n_lines)
        self._emit(t, v * self.sign, skipped, events)
        return len(text)

    def _decimal_lines(self, span: bytes, arr: np.ndarray, cr: np.ndarray) -> tuple[np.ndarray, bytes] | None:
        """The usual capture, every line ``LF number unit CR`` with the first line's unit (or every
        line a bare number): the numbers parsed in NumPy (:func:`parse_decimals`)."""
        first = _READING.match(span[: cr[0]])
        if first is None:
            return None
        unit = first.group(2)
        scale = parse_unit(unit.decode("ascii") if unit else self.unit)
        if scale is None:
            return None
        # every CR has the unit before it, and an LF after it but the last (which ends the span):
        # counted with whole-buffer comparisons
        suffix = b" " + unit if unit else b""
        at_end = arr == 13
        at_end[: len(suffix)] = False
        for i, byte in enumerate(reversed(suffix), 1):
            at_end[i:] &= arr[:-i] == byte
        lf_after = at_end[:-1] & (arr[1:] == 10)
        if np.count_nonzero(at_end) != len(cr) or np.count_nonzero(lf_after) != len(cr) - 1:
            return None
        ends = cr - len(suffix)
        starts = np.empty_like(cr)
        starts[0] = 1 if arr[0] == 10 else 0
        starts[1:] = cr[:-1] + 2
        values = parse_decimals(span, ends, ends - starts)
        if values is None:
            return None
        return values * scale, unit

    def _same_unit_values(self, span: bytes, n_lines: int) -> tuple[np.ndarray, bytes] | None:
        """Lines that all end in the first line's unit: whole-buffer replace, check, one float pass."""
        first = _READING.match(span[: span.find(b"\r")])
        if first is None:
            return None
        unit = first.group(2)
        scale = parse_unit(unit.decode("ascii") if unit else self.unit)
        suffix = b" " + unit + b"\r" if unit else b"\r"
        if scale is None or span.count(suffix) != n_lines:
            return None
        numbers = span.replace(suffix, b" ")
        if numbers.translate(None, _NUMBER_BYTES):  # anything but digits, signs, dots, blanks
            return None
        tokens = numbers.split()
        if len(tokens) != n_lines:
            return None
        try:
            v = np.array(list(map(float, tokens)))
        except ValueError:  # e.g. '1.2.3' or a lone '-'
            return None
        return v * scale, unit

    def _mixed_unit_values(self, span: bytes, n_lines: int) -> tuple[np.ndarray, bytes] | None:
        """Lines with units that differ (the gauge's unit was changed mid-burst), checked line by line."""
        tokens = span.split()
        arr = np.frombuffer(span, dtype=np.uint8)
        line_of = np.cumsum(arr == 13) - (arr == 13)  # CR belongs to its own line
        spaces = np.bincount(line_of[arr == 32], minlength=n_lines)
        if len(tokens) == 2 * n_lines and np.all(spaces == 1):
            values, units = tokens[0::2], tokens[1::2]
        elif len(tokens) == n_lines and not spaces.any():
            values, units = tokens, [b""] * n_lines
        else:
            return None
        if b"".join(values).translate(None, _NUMBER_BYTES):
            return None
        try:
            v = np.array(list(map(float, values)))
        except ValueError:  # an error reply or text among them
            return None
        scales = self._scales(units)
        if np.isnan(scales).any():
            return None
        return v * scales, units[-1]

    def _scales(self, units: list[bytes]) -> np.ndarray:
        table = {u: parse_unit(u.decode("ascii", "replace") if u else self.unit) for u in set(units)}
        return np.array([np.nan if table[u] is None else table[u] for u in units], dtype=np.float64)

    def _emit(self, t: np.ndarray, v: np.ndarray, skipped: np.ndarray, events: list[CodecEvent]) -> None:
        """Readings -> blocks, cut where :meth:`parse` would start a new one (a skipped poll, a
        poll time that does not increase), so ``dropped_before`` is exact and the events the same."""
        cut = np.flatnonzero((skipped[1:] != 0) | ~(t[1:] > t[:-1])) + 1
        for a, b in zip([0, *cut.tolist()], [*cut.tolist(), len(skipped)]):
            drop = int(skipped[a]) + (self._dropped if a == 0 else 0)
            self.stats.dropped_samples += drop
            self.stats.frames_ok += b - a
            events.append(SampleBlock(t[a:b], v[a:b, None], dropped_before=drop))
        self._dropped = 0


class LineFramer:
    """Serial bytes -> reply lines: CR ends a line (LF is whitespace), blanks are stripped and
    empty lines skipped. Text with no CR within ``_MAX_LINE`` bytes is dropped (``stats``)."""

    def __init__(self, stats: CodecStats):
        self.stats = stats
        self.buffer = b""

    def complete(self, data: bytes) -> bytes:
        """What was buffered plus ``data``, up to and including the last CR; the rest is kept."""
        buf = self.buffer + data if self.buffer else data
        end = buf.rfind(b"\r")
        if end < 0:
            self.buffer = buf
            if len(buf) > _MAX_LINE:  # no terminator in sight: not a Mark-10 reply
                self.stats.bytes_discarded += len(buf)
                self.stats.resyncs += 1
                self.buffer = b""
            return b""
        self.buffer = buf[end + 1 :]
        return buf[: end + 1]

    def feed(self, data: bytes) -> list[bytes]:
        return [line for line in (raw.strip() for raw in self.complete(data).split(b"\r")) if line]
