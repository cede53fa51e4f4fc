"""Sans-I/O codec for the Activ5 (Activbody) isometric force sensor over BLE.

Sources (research/devices_clinic.md §1a): Activbody's JS SDK, npm
``activ5-device`` 1.1.0, Apache-2.0 (as shipped in bretthannigan/activ5-app
``activ5-app/node_modules/activ5-device/esm2015/a5-device-manager.js``; the
TypeScript source in andrewdnguyen/activ5-bluetooth-web ``src/a5-device-manager.ts``);
ActivBody/activ5-ble-ios README (values in newtons, integers; 7-minute
auto-off in stop mode); bretthannigan/activ5-app README (~10 Hz, host-timed;
the duplicate-samples fault); validity: Merry et al., Sensors 2021, 21:8399.

* GATT: service ``00005000-…-00805f9b34fb``; notify ``00005a01-…``; write ``00005a02-…``.
* Host -> device: ASCII commands wrapped as ``0x41 <text> 0x19``: ``TVGTIME``
  (handshake, sent once after connecting), ``ISOM!`` (start isometric
  streaming), ``TARE!``, ``STOP!``.
* Device -> host: ``IS<value>/IS`` in a notification (the SDK takes the first
  ``IS(.*)/IS`` match), value = force in **N** (integer in the iOS SDK;
  decimals are accepted). Other text (the handshake answer, whose layout is
  not published) is counted in ``stats.unknown_frames`` and kept in
  :attr:`Activ5Codec.last_message`. A reading cut across two notifications
  is joined (at most :data:`MAX_CARRY` bytes are carried).
* About 10 Hz, no device timestamps: samples are timed from host arrival
  times (:class:`~.host_timing.HostClock`), :attr:`Activ5Codec.rate_hz` is the
  running estimate.

**The duplicate-samples fault.** After n stop/restart cycles each sample is
delivered n+1 times until the device is re-paired (activ5-app README). In the
SDK, every ``startIsometric()`` attaches one more notification listener
(derived from the SDK source), so the copies arrive at the same instant; BlueZ
can also fire a callback twice after a reconnect (bleak#2002). A notification
identical to the previous one that arrives less than ``duplicate_window_s``
after it (default 30 ms, a third of the 100 ms period) is such a copy: it is
dropped and counted in ``stats.duplicates``. A genuinely repeated reading
comes a period later and is kept. This needs host times: without them no
copy can be told from a repeated value, and nothing is dropped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ...recording import Channel
from ..base import CodecEvent, Command, RowBlock, Start, Stop, Tare
from .blocks import new_block
from .host_timing import HostClock
from .integrity import IntegrityStats

SERVICE_UUID = "00005000-0000-1000-8000-00805f9b34fb"
NOTIFY_UUID = "00005a01-0000-1000-8000-00805f9b34fb"
WRITE_UUID = "00005a02-0000-1000-8000-00805f9b34fb"

WRAP_START, WRAP_END = 0x41, 0x19
CMD_HANDSHAKE, CMD_START, CMD_TARE, CMD_STOP = "TVGTIME", "ISOM!", "TARE!", "STOP!"
NOMINAL_RATE_HZ = 10.0
#: two identical notifications closer than this are one delivered twice, s
DUPLICATE_WINDOW_S = 0.3 / NOMINAL_RATE_HZ
#: the device switches off after 7 min in stop mode; the SDK's "evergreen" mode sends STOP! every 60 s
STOP_MODE_TIMEOUT_S = 420.0
EVERGREEN_PERIOD_S = 60.0
#: longest unfinished ``IS…`` kept for the next notification, bytes
MAX_CARRY = 24

CHANNELS: tuple[Channel, ...] = (Channel("force", "MISC", "N", tracked_point="handle"),)

#: ``IS<body>/IS`` with the ``IS`` nearest the ``/IS`` (a body never holds "IS" or "/")
_READING = re.compile(rb"IS((?:(?!IS)[^/])*)/IS")
_NUMBER = re.compile(rb"^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*$")
#: the usual notification, exactly: one reading, a number without spaces
_USUAL = re.compile(rb"IS([+-]?(?:\d+\.?\d*|\.\d+))/IS")
_NOISE = bytes((WRAP_START, WRAP_END)) + b"\r\n\0 \t"


@dataclass(frozen=True)
class Handshake(Command):
    """``TVGTIME``: sent once after connecting, before ``ISOM!``."""


def command_bytes(text: str) -> bytes:
    """``0x41 <text> 0x19`` (the SDK's ``formatCommand``)."""
    return bytes((WRAP_START,)) + text.encode("ascii") + bytes((WRAP_END,))


def parse_value(body: bytes) -> float | None:
    """What stands between ``IS`` and ``/IS`` -> newtons; ``None`` if not a number."""
    m = _NUMBER.match(body)
    return float(m.group(1)) if m else None


def reading_message(newtons: float) -> bytes:
    """One reading as the device sends it (emulators and tests; integer newtons)."""
    return b"IS" + str(round(newtons)).encode() + b"/IS"


class Activ5Codec:
    """Activ5 notifications -> force blocks (N) timed from host arrival times, copies dropped.

    Args:
        duplicate_window_s: identical notifications closer than this are one copy (see
            the module docstring); 0 turns de-duplication off.
    """

    protocol = "activ5"
    channels = CHANNELS

    def __init__(self, duplicate_window_s: float = DUPLICATE_WINDOW_S) -> None:
        self.duplicate_window_s = duplicate_window_s
        self.stats = IntegrityStats()
        self.clock = HostClock()
        self.last_message = ""
        self._carry = b""
        self._last_data = b""
        self._last_time = math.nan
        self._index = 0

    @property
    def rate_hz(self) -> float:
        """Running estimate of the sample rate (Hz) from host arrival times."""
        return self.clock.rate.rate_hz

    def encode(self, command: Command) -> bytes:
        if isinstance(command, Handshake):
            return command_bytes(CMD_HANDSHAKE)
        if isinstance(command, Start):
            self.clock.reset()
            self._index, self._carry, self._last_data = 0, b"", b""
            return command_bytes(CMD_START)
        if isinstance(command, Tare):
            return command_bytes(CMD_TARE)
        if isinstance(command, Stop):
            return command_bytes(CMD_STOP)
        raise ValueError(f"the Activ5 has no '{command.name}' command")

    def feed(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """Decode one notification; never raises.

        The usual notification, one whole ``IS<number>/IS`` reading that is not a copy, with
        nothing carried over, is decoded here in a few steps; the rest goes to
        :meth:`_feed_general`, which gives the same events and counts for any notification.
        """
        data = bytes(data)
        if (
            host_time is not None
            and not self._carry
            and (data != self._last_data or not self._is_copy(data, host_time))
        ):
            m = _USUAL.fullmatch(data)
            if m is not None:
                stats = self.stats
                stats.bytes_in += len(data)
                stats.frames_ok += 1
                self._last_data, self._last_time = data, host_time
                t = self.clock.one(host_time)
                arrival = math.nan if math.isnan(t) else host_time  # (t is nan iff host_time is not finite)
                blk = RowBlock((t,), (float(m[1]),), 1, self._index, 0, arrival)
                self._index += 1
                return [blk]
        return self._feed_general(data, host_time)

    def _feed_general(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """:meth:`feed` for any notification: copies, cut readings, several readings, other text."""
        data = bytes(data)
        self.stats.bytes_in += len(data)
        if self._is_copy(data, host_time):
            self.stats.duplicates += max(1, len(_READING.findall(data)))
            return []
        self._last_data = data
        self._last_time = math.nan if host_time is None else host_time
        buf = self._carry + data
        self._carry = b""
        values: list[float] = []
        pos = 0
        for m in _READING.finditer(buf):
            self._other(buf[pos : m.start()])
            pos = m.end()
            value = parse_value(m.group(1))
            if value is None:
                self.stats.malformed_frames += 1
            else:
                self.stats.frames_ok += 1
                values.append(value)
        tail = buf[pos:]
        cut = tail.rfind(b"IS")
        if cut < 0 or len(tail) - cut > MAX_CARRY or b"/IS" in tail[cut:]:
            cut = len(tail) - 1 if tail.endswith(b"I") else len(tail)  # maybe the "I" of "IS"
        self._other(tail[:cut])
        self._carry = tail[cut:]  # an unfinished reading: joined with the next notification
        if not values:
            return []
        blk = new_block(self.clock.times(len(values), host_time), values, 1, self._index)
        if host_time is not None and math.isfinite(host_time):
            blk.host_time = host_time
        self._index += len(values)
        return [blk]

    def _is_copy(self, data: bytes, host_time: float | None) -> bool:
        return (
            self.duplicate_window_s > 0
            and host_time is not None
            and data == self._last_data
            and 0.0 <= host_time - self._last_time < self.duplicate_window_s
        )

    def _other(self, text: bytes) -> None:
        """Bytes outside readings: a message the codec does not know (or only wrapper bytes)."""
        text = text.strip(_NOISE)
        if text:
            self.stats.unknown_frames += 1
            self.last_message = text.decode("ascii", "replace")
