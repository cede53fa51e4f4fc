"""Sans-I/O codec for the standard Bluetooth Weight Scale profile (DIY grip dynamometers).

**Standard.** Bluetooth SIG Weight Scale Service ``0x181D``, Weight Measurement
characteristic ``0x2A9D`` (indicated; GATT Specification Supplement,
"Weight Measurement"), and the User Data Service's Weight characteristic
``0x2A98`` that some builds notify instead. DIY builds: an HX711 load cell on
an ESP32 (fbuttner/ForceGrip README; research/devices_clinic.md §1a).

Weight Measurement layout (little-endian):

* Flags (u8): bit 0 units (0 = SI, 1 = imperial), bit 1 time stamp present,
  bit 2 user ID present, bit 3 BMI and height present; bits 4-7 reserved.
* Weight (u16): SI 0.005 kg per unit, imperial 0.01 lb per unit (two
  different resolutions, not a unit conversion). 0xFFFF = "measurement
  unsuccessful".
* Time stamp (7 bytes, if flagged): Date Time — year u16, month, day, hours,
  minutes, seconds (0 = unknown).
* User ID (u8, if flagged): 0xFF = unknown user.
* BMI (u16, 0.1 kg/m²) and height (u16: SI 0.001 m, imperial 0.1 inch), if flagged.

The Weight characteristic ``0x2A98`` is one u16 in 0.005 kg.

A weight is a force here: kg is read as kgf, lb as lbf, and converted to N.
The profile's time stamp has 1 s resolution and is kept in
:attr:`WeightScaleCodec.last_measurement`, not used for sample times: samples
are timed from host arrival times (:class:`~.host_timing.HostClock`), and
:attr:`WeightScaleCodec.rate_hz` estimates the build's real rate.

**Integrity.** A value shorter than its flags require (or with reserved flag
bits set) is counted in ``malformed_frames``; "measurement unsuccessful" gives
``Ack('weight', ok=False, …)`` and no sample. There is no counter: lost or
repeated indications cannot be detected.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from ...recording import Channel
from ...units import FORCE_UNITS_N
from ..base import Ack, CodecEvent, Command, RowBlock, Start, Stop
from .blocks import new_block
from .host_timing import HostClock
from .integrity import IntegrityStats

SERVICE_UUID = "0000181d-0000-1000-8000-00805f9b34fb"
WEIGHT_MEASUREMENT_UUID = "00002a9d-0000-1000-8000-00805f9b34fb"  # indicate
WEIGHT_UUID = "00002a98-0000-1000-8000-00805f9b34fb"  # User Data Service "Weight"
WEIGHT_FEATURE_UUID = "00002a9e-0000-1000-8000-00805f9b34fb"

FLAG_IMPERIAL, FLAG_TIME, FLAG_USER, FLAG_BMI = 0x01, 0x02, 0x04, 0x08
KG_PER_UNIT = 0.005
LB_PER_UNIT = 0.01
M_PER_UNIT = 0.001
INCH_PER_UNIT = 0.1
INCH_M = 0.0254
UNSUCCESSFUL = 0xFFFF
UNKNOWN_USER = 0xFF
#: a Weight Measurement without optional fields: flags, weight (u16)
_SI_WEIGHT = struct.Struct("<BH")
_KGF_N = FORCE_UNITS_N["kg"]

CHANNELS: tuple[Channel, ...] = (Channel("force", "MISC", "N", tracked_point="handle"),)


@dataclass(frozen=True)
class WeightMeasurement:
    """A decoded Weight Measurement (``weight`` is ``nan`` when the measurement was unsuccessful).

    Attributes:
        weight: in ``unit`` ("kg" or "lb").
        timestamp: (year, month, day, hours, minutes, seconds) as sent (0 = unknown), or ``None``.
        user_id: ``None`` if absent (0xFF = unknown user).
        bmi_kg_m2, height_m: ``None`` if absent (height converted to metres).
    """

    weight: float
    unit: str
    timestamp: tuple[int, int, int, int, int, int] | None = None
    user_id: int | None = None
    bmi_kg_m2: float | None = None
    height_m: float | None = None

    @property
    def newtons(self) -> float:
        return self.weight * FORCE_UNITS_N[self.unit]


def _u16(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 2], "little")


def parse_weight_measurement(data: bytes) -> WeightMeasurement | None:
    """A ``0x2A9D`` value -> :class:`WeightMeasurement`; ``None`` if malformed."""
    if len(data) < 3 or data[0] & 0xF0:
        return None
    flags = data[0]
    imperial = bool(flags & FLAG_IMPERIAL)
    need = 3 + 7 * bool(flags & FLAG_TIME) + bool(flags & FLAG_USER) + 4 * bool(flags & FLAG_BMI)
    if len(data) != need:
        return None
    raw = _u16(data, 1)
    unit = "lb" if imperial else "kg"
    weight = math.nan if raw == UNSUCCESSFUL else raw * (LB_PER_UNIT if imperial else KG_PER_UNIT)
    pos = 3
    timestamp = user = bmi = height = None
    if flags & FLAG_TIME:
        timestamp = (
            _u16(data, pos),
            data[pos + 2],
            data[pos + 3],
            data[pos + 4],
            data[pos + 5],
            data[pos + 6],
        )
        pos += 7
    if flags & FLAG_USER:
        user = data[pos]
        pos += 1
    if flags & FLAG_BMI:
        bmi = _u16(data, pos) * 0.1
        height = _u16(data, pos + 2) * (INCH_PER_UNIT * INCH_M if imperial else M_PER_UNIT)
    return WeightMeasurement(weight, unit, timestamp, user, bmi, height)


def parse_weight(data: bytes) -> WeightMeasurement | None:
    """A ``0x2A98`` Weight value (u16, 0.005 kg) -> :class:`WeightMeasurement`; ``None`` if not 2 bytes."""
    if len(data) != 2:
        return None
    return WeightMeasurement(_u16(data, 0) * KG_PER_UNIT, "kg")


def weight_measurement(
    weight: float,
    imperial: bool = False,
    timestamp: tuple[int, int, int, int, int, int] | None = None,
    user_id: int | None = None,
    bmi_height: tuple[float, float] | None = None,
) -> bytes:
    """Encode a ``0x2A9D`` value (emulators and tests); ``bmi_height`` = (kg/m², m or inch)."""
    flags = (
        FLAG_IMPERIAL * imperial
        | FLAG_TIME * (timestamp is not None)
        | FLAG_USER * (user_id is not None)
        | FLAG_BMI * (bmi_height is not None)
    )
    raw = UNSUCCESSFUL if math.isnan(weight) else round(weight / (LB_PER_UNIT if imperial else KG_PER_UNIT))
    out = bytes((flags,)) + raw.to_bytes(2, "little")
    if timestamp is not None:
        out += timestamp[0].to_bytes(2, "little") + bytes(timestamp[1:])
    if user_id is not None:
        out += bytes((user_id,))
    if bmi_height is not None:
        height_unit = INCH_PER_UNIT if imperial else M_PER_UNIT
        out += round(bmi_height[0] / 0.1).to_bytes(2, "little")
        out += round(bmi_height[1] / height_unit).to_bytes(2, "little")
    return out


class WeightScaleCodec:
    """Weight Measurement (or Weight) values, one per call -> force blocks (N) timed from host arrival times.

    Args:
        characteristic: ``"2a9d"`` (Weight Measurement, default) or ``"2a98"`` (Weight).
    """

    protocol = "ble-weight-scale"
    channels = CHANNELS

    def __init__(self, characteristic: str = "2a9d") -> None:
        key = characteristic.lower().removeprefix("0x")
        if key not in ("2a9d", "2a98"):
            raise ValueError(f"characteristic {characteristic!r} is neither 2a9d nor 2a98")
        self._parse = parse_weight_measurement if key == "2a9d" else parse_weight
        self._measurements = key == "2a9d"  # (the fast path reads Weight Measurement values)
        self.stats = IntegrityStats()
        self.clock = HostClock()
        self._last_value = b""  # the last well-formed value, parsed only when asked for
        self._last_parsed: WeightMeasurement | None = None
        self._index = 0

    @property
    def last_measurement(self) -> WeightMeasurement | None:
        """The last well-formed value, decoded (time stamp, user, BMI...); ``None`` before one."""
        if self._last_parsed is None and self._last_value:
            self._last_parsed = self._parse(self._last_value)
        return self._last_parsed

    @property
    def rate_hz(self) -> float:
        """Running estimate of the measurement rate (Hz) from host arrival times."""
        return self.clock.rate.rate_hz

    def encode(self, command: Command) -> bytes:
        """Nothing to write: the profile streams while indications are on (Start/Stop restart the timing)."""
        if isinstance(command, Start):
            self.clock.reset()
            self._index = 0
            return b""
        if isinstance(command, Stop):
            return b""
        raise ValueError(f"the Weight Scale profile has no '{command.name}' command")

    def feed(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """Decode one indication/notification value; never raises.

        The usual value, a Weight Measurement in SI units with no optional fields, is decoded
        here in a few steps; the rest goes to :meth:`_feed_general`, which gives the same events,
        counts and :attr:`last_measurement` for any value.
        """
        if host_time is not None and self._measurements and len(data) == 3:
            flags, raw = _SI_WEIGHT.unpack(data)
            if flags == 0 and raw != UNSUCCESSFUL:
                stats = self.stats
                stats.bytes_in += 3
                stats.frames_ok += 1
                self._last_value, self._last_parsed = bytes(data), None
                t = self.clock.one(host_time)
                arrival = math.nan if math.isnan(t) else host_time  # (t is nan iff host_time is not finite)
                blk = RowBlock((t,), (raw * KG_PER_UNIT * _KGF_N,), 1, self._index, 0, arrival)
                self._index += 1
                return [blk]
        return self._feed_general(data, host_time)

    def _feed_general(self, data: bytes, host_time: float | None = None) -> list[CodecEvent]:
        """:meth:`feed` for any value."""
        self.stats.bytes_in += len(data)
        value = bytes(data)
        m = self._parse(value)
        if m is None:
            self.stats.malformed_frames += 1
            self.stats.bytes_discarded += len(data)
            return []
        self.stats.frames_ok += 1
        self._last_value, self._last_parsed = value, m
        if math.isnan(m.weight):
            return [Ack("weight", ok=False, error="measurement unsuccessful")]
        blk = new_block(self.clock.times(1, host_time), [m.newtons], 1, self._index)
        if host_time is not None and math.isfinite(host_time):
            blk.host_time = host_time
        self._index += 1
        return [blk]
