"""Sans-I/O decoder for WH-C06-style scales that only advertise (Weiheng WH-C06, "MAT Muscle Meter").

**Reverse-engineered, code-confirmed.** Source: Stevie-Ray/hangtime-grip-connect
(BSD-2) ``packages/core/src/models/device/wh-c06.model.ts`` and
``packages/docs/src/devices/wh-c06.md`` (research/devices_clinic.md §1a;
research/devices.md §6).

* There is no GATT data and no connection: the scale broadcasts its weight in
  the manufacturer-specific data of its advertisements, company ID ``0x0100``.
* Input to :meth:`WhC06Codec.feed` is that field's data **after** the 2-byte
  company ID, as bleak gives it (``advertisement_data.manufacturer_data[0x0100]``)
  and as the reference reads it (Web Bluetooth ``manufacturerData.get(0x0100)``);
  :func:`split_manufacturer_field` cuts a raw AD field (company ID little-endian
  first) into the two.
* Weight: bytes 10-11, big-endian, ÷100 = kg (converted here to N). The
  reference leaves a commented-out reading of byte 14 (high nibble "stable",
  low nibble "unit"); it is not used here (unverified). A scale set to pounds
  may send pounds (unverified).
* About 8 advertisements per second (a secondary source, unverified): samples
  are timed from host receive times (:class:`~.host_timing.HostClock`),
  :attr:`WhC06Codec.rate_hz` is the running estimate.

**Driver notes.** Filter scan results on the device address and company
``0x0100`` (shared with other products; TomTom holds the ID). A silence of
:data:`SILENCE_TIMEOUT_S` (10 s in the reference) without an advertisement is a
link loss. There is nothing to write: start and stop mean starting and stopping
the scan.

**Integrity.** Data shorter than 12 bytes is counted in ``malformed_frames``.
Advertisements carry no counter, so a lost one cannot be detected, and an
unchanged advertisement cannot be told from an unchanged weight: nothing is
de-duplicated (a scanner set to report duplicates repeats the latest weight).
"""

from __future__ import annotations

import math
import struct

from ...recording import Channel
from ...units import KGF_N
from ..base import CodecEvent, Command, RowBlock, Start, Stop
from .blocks import new_block
from .host_timing import HostClock
from .integrity import IntegrityStats

COMPANY_ID = 0x0100
WEIGHT_OFFSET = 10
#: the weight at WEIGHT_OFFSET: big-endian u16, 0.01 kg
_WEIGHT = struct.Struct(">H")
#: no advertisement for this long = link loss (reference client), s
SILENCE_TIMEOUT_S = 10.0
NOMINAL_RATE_HZ = 8.0

CHANNELS: tuple[Channel, ...] = (Channel("force", "MISC", "N", tracked_point="handle"),)


def split_manufacturer_field(field: bytes) -> tuple[int, bytes] | None:
    """A raw manufacturer-specific AD field -> (company ID, data); ``None`` if shorter than the ID."""
    if len(field) < 2:
        return None
    return int.from_bytes(field[:2], "little"), bytes(field[2:])


def parse_weight_kg(data: bytes) -> float | None:
    """Manufacturer data (after the company ID) -> weight in kg; ``None`` if too short."""
    if len(data) < WEIGHT_OFFSET + 2:
        return None
    return int.from_bytes(data[WEIGHT_OFFSET : WEIGHT_OFFSET + 2], "big") / 100.0


def manufacturer_data(kg: float, length: int = 16) -> bytes:
    """Manufacturer data carrying ``kg`` (emulators and tests); other bytes zero."""
    data = bytearray(max(length, WEIGHT_OFFSET + 2))
    data[WEIGHT_OFFSET : WEIGHT_OFFSET + 2] = int(round(kg * 100)).to_bytes(2, "big")
    return bytes(data)


class WhC06Codec:
    """Manufacturer data of one advertisement per call -> a one-sample force block (N)."""

    protocol = "wh-c06"
    channels = CHANNELS

    def __init__(self) -> None:
        self.stats = IntegrityStats()
        self.clock = HostClock()
        self._index = 0

    @property
    def rate_hz(self) -> float:
        """Running estimate of the advertisement rate (Hz) from host receive times."""
        return self.clock.rate.rate_hz

    def encode(self, command: Command) -> bytes:
        """Nothing is ever sent: Start/Stop only restart the timing (the driver scans)."""
        if isinstance(command, Start):
            self.clock.reset()
            self._index = 0
            return b""
        if isinstance(command, Stop):
            return b""
        raise ValueError(f"the WH-C06 only advertises; it has no '{command.name}' command")

    def feed(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """Decode one advertisement's manufacturer data; never raises.

        The usual call (a weight and a host time) is decoded here in a few steps; the rest goes
        to :meth:`_feed_general`, which gives the same events and counts for any call.
        """
        size = len(data)
        if host_time is not None and size >= WEIGHT_OFFSET + 2:
            stats = self.stats
            stats.bytes_in += size
            stats.frames_ok += 1
            t = self.clock.one(host_time)
            arrival = math.nan if math.isnan(t) else host_time  # (t is nan iff host_time is not finite)
            newtons = _WEIGHT.unpack_from(data, WEIGHT_OFFSET)[0] / 100.0 * KGF_N
            blk = RowBlock((t,), (newtons,), 1, self._index, 0, arrival)
            self._index += 1
            return [blk]
        return self._feed_general(data, host_time)

    def _feed_general(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """:meth:`feed` for any call (too short, no host time)."""
        self.stats.bytes_in += len(data)
        kg = parse_weight_kg(bytes(data))
        if kg is None:
            self.stats.malformed_frames += 1
            self.stats.bytes_discarded += len(data)
            return []
        self.stats.frames_ok += 1
        blk = new_block(self.clock.times(1, host_time), [kg * KGF_N], 1, self._index)
        if host_time is not None and math.isfinite(host_time):
            blk.host_time = host_time
        self._index += 1
        return [blk]
