"""Sans-I/O codec for graphics tablets (Wacom and others) on Linux: ``struct input_event`` bytes -> pen samples.

**Fully documented.** Sources (research/devices_clinic.md §1d): the kernel's
``include/uapi/linux/input.h`` (``struct input_event``, ``struct
input_absinfo`` and its resolution comment) and
``Documentation/input/event-codes.rst`` (SYN_REPORT, SYN_DROPPED), the event
codes of ``input-event-codes.h``, linuxwacom/input-wacom wiki "Kernel
Datastream Example" (an Intuos Pro pen node: ABS_X 0-44800 and ABS_Y 0-29600
at 200 units/mm, ABS_PRESSURE 0-8191, ABS_TILT_X/Y -64..63 at 57 units/rad,
ABS_DISTANCE 0-63), python-evdev docs (``AbsInfo``), libinput
``src/evdev-tablet.c`` (tilt and pressure conventions).

* Bytes: a stream of ``struct input_event`` in native byte order: ``struct
  timeval`` (seconds and microseconds as two native ``long``) then u16 type,
  u16 code, s32 value — 24 bytes on 64-bit Linux (16 with 4-byte longs). Reads
  may cut an event anywhere; the rest is carried over.
* A sample is everything up to ``EV_SYN``/``SYN_REPORT``; its time is the
  kernel timestamp of the SYN_REPORT (s, relative to the first report;
  :attr:`EvdevTabletCodec.time_origin_s` is the absolute kernel time). The
  kernel only sends axes that changed: the codec keeps the state.
* Units, from the absinfo the driver reads (python-evdev ``device.absinfo(code)``)
  and passes to the constructor: x, y in **mm** = (value - min) / resolution,
  resolution in units/mm (origin top-left, y grows towards the user);
  pressure and hover distance as fractions of their declared range (0-1; no
  physical unit, as libinput does). Tilt in **rad** = value / resolution when
  the resolution is set and the range straddles 0 (units/rad: the HID core
  converts the descriptor's degrees to radians). With resolution 0 the kernel
  gives no unit; libinput then maps the declared range linearly onto
  -64..+64 degrees (Wacom's physical range) — not "degrees" — and so does this
  codec, listing ``tilt_range_assumed`` in :attr:`EvdevTabletCodec.assumptions`
  (``tilt_fallback_deg=None`` drops tilt instead).
* Keys: ``BTN_TOOL_PEN`` (or another pen-type tool: rubber, brush, pencil,
  airbrush) = pen in range (proximity), ``BTN_TOUCH`` = tip contact,
  ``BTN_STYLUS`` = barrel button.
* **A tablet without a declared resolution for ABS_X/ABS_Y is refused** (one-line
  :class:`~motorlab.errors.DeviceError`): positions could not be given in mm
  (libinput ignores such tablets too: Evidlo/remarkable_mouse#18).
* ``SYN_DROPPED``: the kernel's buffer overflowed and events were lost. As the
  kernel documentation says, everything up to and including the next
  SYN_REPORT is ignored; the next sample carries ``dropped_before`` (at least 1,
  estimated from the report rate) and :attr:`EvdevTabletCodec.needs_resync` is
  set until the driver passes the current state (EVIOCGABS/EVIOCGKEY, i.e.
  python-evdev ``absinfo``/``active_keys``) to :meth:`EvdevTabletCodec.resync`.
* The report rate is not fixed (about 133-266 reports/s, higher while the tip
  presses): :attr:`EvdevTabletCodec.rate_hz` is a running estimate from the
  kernel timestamps. Kernel timestamps are CLOCK_REALTIME unless the driver
  selects CLOCK_MONOTONIC (EVIOCSCLOCKID), which it should; a step back (a
  clock change) is re-anchored and counted in ``stats.out_of_order``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ...errors import DeviceError
from ...recording import Channel
from ..base import CodecEvent, Command, SampleBlock, Start, Stop
from .blocks import new_block
from .host_timing import RateEstimator
from .integrity import IntegrityStats

# linux/input-event-codes.h
EV_SYN, EV_KEY, EV_ABS, EV_MSC, EV_MAX = 0x00, 0x01, 0x03, 0x04, 0x1F
SYN_REPORT, SYN_CONFIG, SYN_MT_REPORT, SYN_DROPPED = 0, 1, 2, 3
ABS_X, ABS_Y, ABS_PRESSURE, ABS_DISTANCE, ABS_TILT_X, ABS_TILT_Y = 0x00, 0x01, 0x18, 0x19, 0x1A, 0x1B
BTN_TOOL_PEN, BTN_TOOL_RUBBER, BTN_TOOL_BRUSH, BTN_TOOL_PENCIL, BTN_TOOL_AIRBRUSH = (
    0x140,
    0x141,
    0x142,
    0x143,
    0x144,
)
BTN_TOUCH, BTN_STYLUS = 0x14A, 0x14B
PEN_TOOLS = frozenset({BTN_TOOL_PEN, BTN_TOOL_RUBBER, BTN_TOOL_BRUSH, BTN_TOOL_PENCIL, BTN_TOOL_AIRBRUSH})

#: libinput's default physical tilt range when the resolution is 0 (Wacom: -64..+64 degrees)
TILT_FALLBACK_DEG = 64.0
#: reads of up to this many events (all axes and SYN_REPORT) take :meth:`EvdevTabletCodec.feed`'s fast path
FAST_REPORT_EVENTS = 16
#: native ``long`` size: 8 on 64-bit Linux, 4 on 32-bit
NATIVE_LONG = struct.calcsize("l")


class AbsInfoLike(Protocol):
    """What the codec needs of an axis: python-evdev's ``AbsInfo`` or :class:`AbsAxis`."""

    @property
    def min(self) -> int: ...

    @property
    def max(self) -> int: ...

    @property
    def resolution(self) -> int: ...


@dataclass(frozen=True)
class AbsAxis:
    """Declared range and resolution of one absolute axis (``struct input_absinfo``)."""

    min: int
    max: int
    resolution: int = 0
    value: int | None = None  # current value, if known


def event_dtype(long_bytes: int = NATIVE_LONG) -> np.dtype:
    """``struct input_event`` as a numpy dtype (native byte order)."""
    long_t = {8: "=i8", 4: "=i4"}[long_bytes]
    return np.dtype([("sec", long_t), ("usec", long_t), ("type", "=u2"), ("code", "=u2"), ("value", "=i4")])


def pack_events(events: Iterable[tuple[int, int, int, int, int]], long_bytes: int = NATIVE_LONG) -> bytes:
    """(sec, usec, type, code, value) tuples -> ``struct input_event`` bytes (emulators and tests)."""
    rows = list(events)
    arr = np.zeros(len(rows), dtype=event_dtype(long_bytes))
    for k, (sec, usec, etype, code, value) in enumerate(rows):
        arr[k] = (sec, usec, etype, code, value)
    return arr.tobytes()


@dataclass(frozen=True)
class _Axis:
    """value -> unit: (value - offset) * scale; fraction axes are then clipped to 0-1."""

    code: int
    offset: float
    scale: float
    initial: float


class EvdevTabletCodec:
    """Pen-node ``input_event`` bytes -> pen sample blocks in physical units.

    Args:
        absinfo: declared axes by ABS code (python-evdev ``{code: device.absinfo(code)}``
            or :class:`AbsAxis`); ABS_X and ABS_Y with a resolution are required.
        name: the device path or name, used in error messages.
        tilt_fallback_deg: physical tilt range assumed when the tilt resolution is 0
            (libinput's 64 degrees); ``None`` leaves tilt out instead.
        long_bytes: size of a native ``long`` in the event struct (8 on 64-bit Linux).

    Raises:
        DeviceError: ABS_X/ABS_Y missing or without resolution, or an axis whose
            maximum is not above its minimum.
    """

    protocol = "evdev-tablet"

    def __init__(
        self,
        absinfo: Mapping[int, AbsInfoLike],
        name: str = "tablet",
        tilt_fallback_deg: float | None = TILT_FALLBACK_DEG,
        long_bytes: int = NATIVE_LONG,
    ) -> None:
        self.name = name
        self.stats = IntegrityStats()
        self.rate = RateEstimator()
        self._dtype = event_dtype(long_bytes)
        self._size = self._dtype.itemsize
        #: ``struct input_event`` x k by read size, for the usual read of one report of up to
        #: :data:`FAST_REPORT_EVENTS` events (:meth:`feed`'s fast path)
        event = "qqHHi" if long_bytes == 8 else "iiHHi"  # (the dtype above, as struct codes)
        #: and the event types of the usual report of k events: EV_ABS x (k - 1), EV_SYN
        self._reports = {
            k * self._size: (struct.Struct("=" + event * k), (EV_ABS,) * (k - 1) + (EV_SYN,))
            for k in range(1, FAST_REPORT_EVENTS + 1)
        }
        assumptions: list[str] = []
        axes: list[_Axis] = []
        channels: list[Channel] = []
        for code, comp in ((ABS_X, "x"), (ABS_Y, "y")):
            info = absinfo.get(code)
            if info is None or not info.resolution or info.resolution <= 0:
                raise DeviceError(
                    f"{name}: the tablet declares no resolution for ABS_{comp.upper()}, so positions "
                    "cannot be given in mm (a udev hwdb entry can add it); motorlab refuses such tablets"
                )
            _check_range(name, f"ABS_{comp.upper()}", info)
            axes.append(_Axis(code, info.min, 1.0 / info.resolution, _initial(info)))
            channels.append(Channel(f"pos_{comp}", "POS", "mm", comp, "pentip"))
        for code, label in ((ABS_PRESSURE, "pressure"), (ABS_DISTANCE, "distance")):
            info = absinfo.get(code)
            if info is not None:
                _check_range(name, label, info)
                axes.append(_Axis(code, info.min, 1.0 / (info.max - info.min), _initial(info)))
                channels.append(Channel(label, "MISC", "1", tracked_point="pentip"))
        for code, comp in ((ABS_TILT_X, "x"), (ABS_TILT_Y, "y")):
            info = absinfo.get(code)
            if info is None:
                continue
            _check_range(name, f"ABS_TILT_{comp.upper()}", info)
            if info.resolution and info.resolution > 0 and info.min < 0 < info.max:
                axes.append(_Axis(code, 0.0, 1.0 / info.resolution, _initial(info)))
            elif tilt_fallback_deg is not None:
                half = (info.max - info.min) / 2.0
                scale = math.radians(tilt_fallback_deg) / half
                axes.append(_Axis(code, info.min + half, scale, _initial(info)))
                if "tilt_range_assumed" not in assumptions:
                    assumptions.append("tilt_range_assumed")
            else:
                continue
            channels.append(Channel(f"tilt_{comp}", "ORNT", "rad", comp, "pen"))
        channels += [
            Channel("in_range", "MISC", "n/a", tracked_point="pen"),
            Channel("tip_contact", "MISC", "n/a", tracked_point="pentip"),
            Channel("barrel_button", "MISC", "n/a", tracked_point="pen"),
        ]
        self.channels: tuple[Channel, ...] = tuple(channels)
        self._n_channels = len(channels)
        #: conventions the numbers rely on beyond the declared absinfo (for the recording's metadata)
        self.assumptions: tuple[str, ...] = tuple(assumptions)
        self._axes = axes
        self._fractions = {ABS_PRESSURE, ABS_DISTANCE}
        #: by ABS code: (slot, offset, scale, clipped to 0-1) of the axis (:meth:`_set_axis`)
        self._axis_of = {
            a.code: (k, float(a.offset), a.scale, a.code in self._fractions) for k, a in enumerate(axes)
        }
        self._n_axes = len(axes)
        self._vals = [math.nan] * len(axes)  # current axis values in units (nan until known)
        for a in axes:
            self._set_axis(a.code, a.initial)
        self._tools: set[int] = set()  # pen-type tools in proximity
        self._touch = False
        self._stylus = False
        self._key_values = (0.0, 0.0, 0.0)  # in range, tip contact, barrel button (:meth:`_keys_changed`)
        self._carry = b""
        self.needs_resync = False
        self._skipping = False  # after SYN_DROPPED, until the next SYN_REPORT
        self._lost = False  # a SYN_DROPPED happened since the last emitted report
        self.time_origin_s = math.nan
        self._offset = 0.0  # re-anchoring after a step back of the kernel clock
        self._last_step = 1e-3  # last interval between reports, s (used when the rate is not known yet)
        self._last_t = math.nan
        self._last_row: tuple[float, ...] | None = None
        self._index = 0

    # -- public ------------------------------------------------------------------------
    @property
    def rate_hz(self) -> float:
        """Running estimate of the report rate (Hz) from kernel timestamps."""
        return self.rate.rate_hz

    def encode(self, command: Command) -> bytes:
        """An input device takes no commands: Start/Stop only restart the timing."""
        if isinstance(command, Start):
            self.rate.reset()
            self.time_origin_s, self._offset, self._last_t, self._last_step = math.nan, 0.0, math.nan, 1e-3
            self._last_row, self._index = None, 0
            return b""
        if isinstance(command, Stop):
            return b""
        raise ValueError(f"{self.name}: an input device has no '{command.name}' command")

    def resync(self, abs_values: Mapping[int, int], keys: Iterable[int]) -> None:
        """Set the full state after SYN_DROPPED: current axis values and the keys held down."""
        for code, value in abs_values.items():
            self._set_axis(code, value)
        down = set(keys)
        self._tools = {k for k in down if k in PEN_TOOLS}
        self._touch = BTN_TOUCH in down
        self._stylus = BTN_STYLUS in down
        self._keys_changed()
        self.needs_resync = False

    def feed(self, data: bytes) -> list[CodecEvent]:
        """Decode ``input_event`` bytes cut anywhere; never raises.

        The usual read is one whole report: a few EV_ABS events, then SYN_REPORT.
        It is decoded here with one precompiled :class:`struct.Struct`, straight
        into a one-sample block; every other read (several reports, keys, a cut
        event, SYN_DROPPED, values no kernel sends, a repeated report...) goes
        through :meth:`_feed_general`, with the same events and statistics.
        """
        report = self._reports.get(len(data)) if type(data) is bytes else None
        if report is not None and not (self._carry or self._skipping or self._lost):
            layout, types = report
            fields = layout.unpack(data)  # sec, usec, type, code, value of each event in turn
            usec = fields[-4]
            if (
                fields[2::5] == types
                and fields[-2] == SYN_REPORT
                and 0 <= usec < 1_000_000
                and fields[1::5].count(usec) == len(types)  # (the kernel stamps a report's events alike)
            ):  # axis values then SYN_REPORT, times well formed: the general path's steps, in its order
                self.stats.bytes_in += len(data)
                vals, axis_of = self._vals, self._axis_of
                for i in range(3, len(fields) - 5, 5):  # code, value of each axis event (_set_axis, inlined)
                    axis = axis_of.get(fields[i])
                    if axis is not None:
                        slot, offset, scale, fraction = axis
                        v = (fields[i + 1] - offset) * scale
                        if fraction and not 0.0 < v <= 1.0:
                            v = 1.0 if v > 1.0 else 0.0
                        vals[slot] = v
                kernel_s = fields[-5] + usec * 1e-6
                t = kernel_s - self.time_origin_s + self._offset
                if t > self._last_t:  # (_time's usual step, inlined)
                    self._last_step = t - self._last_t
                else:
                    t = self._time(kernel_s)
                row = (*vals, *self._key_values)  # (_row, inlined)
                if t == self._last_t and row == self._last_row:
                    self.stats.duplicates += 1
                    return []
                self.stats.frames_ok += 1
                self._last_row, self._last_t = row, t
                times = [t]
                self.rate.add_finite(times)  # (== rate.add of a one-sample block: t is finite)
                blk = new_block(times, row, self._n_channels, self._index)
                self._index += 1
                return [blk]
        return self._feed_general(data)

    def _feed_general(self, data: bytes) -> list[CodecEvent]:
        """:meth:`feed` for any bytes: carried-over parts of events, many reports, keys, resyncs."""
        self.stats.bytes_in += len(data)
        buf = self._carry + bytes(data)
        whole = len(buf) - len(buf) % self._size
        self._carry = buf[whole:]
        if not whole:
            return []
        ev = np.frombuffer(buf, dtype=self._dtype, count=whole // self._size)
        return self.feed_events(
            zip(
                ev["sec"].tolist(),
                ev["usec"].tolist(),
                ev["type"].tolist(),
                ev["code"].tolist(),
                ev["value"].tolist(),
            )
        )

    def feed_events(self, events: Iterable[tuple[int, int, int, int, int]]) -> list[CodecEvent]:
        """Decode (sec, usec, type, code, value) tuples (e.g. from python-evdev); never raises."""
        rows: list[tuple[float, ...]] = []
        times: list[float] = []
        out: list[CodecEvent] = []
        dropped = 0
        for sec, usec, etype, code, value in events:
            if etype > EV_MAX or not 0 <= usec < 1_000_000:
                self.stats.malformed_frames += 1
                continue
            if etype == EV_SYN:
                if code == SYN_DROPPED:
                    self.stats.resyncs += 1
                    self._skipping = self._lost = self.needs_resync = True
                elif code == SYN_REPORT:
                    if self._skipping:
                        self._skipping = False
                        continue
                    t = self._time(sec + usec * 1e-6)
                    row = self._row()
                    if row == self._last_row and t == self._last_t:
                        self.stats.duplicates += 1
                        continue
                    if self._lost:
                        self._lost = False
                        missing = self._missing(t)
                        self.stats.dropped_samples += missing
                        if rows:
                            out.append(self._block(rows, times, dropped))
                        rows, times, dropped = [], [], missing
                    self.stats.frames_ok += 1
                    rows.append(row)
                    times.append(t)
                    self._last_row, self._last_t = row, t
                continue
            if self._skipping:
                continue
            if etype == EV_ABS:
                self._set_axis(code, value)
            elif etype == EV_KEY:
                self._key(code, value)
        if rows:
            out.append(self._block(rows, times, dropped))
        return out

    # -- internals -------------------------------------------------------------------
    def _key(self, code: int, value: int) -> None:
        down = value != 0  # 1 press, 2 autorepeat, 0 release
        if code in PEN_TOOLS:
            if down:
                self._tools.add(code)
            else:
                self._tools.discard(code)
        elif code == BTN_TOUCH:
            self._touch = down
        elif code == BTN_STYLUS:
            self._stylus = down
        self._keys_changed()

    def _keys_changed(self) -> None:
        self._key_values = (
            1.0 if self._tools else 0.0,
            1.0 if self._touch else 0.0,
            1.0 if self._stylus else 0.0,
        )

    def _set_axis(self, code: int, value: float) -> None:
        """An ABS value (raw units) -> its axis' value in units; codes of no axis are ignored."""
        axis = self._axis_of.get(code)
        if axis is not None:
            slot, offset, scale, fraction = axis
            v = (value - offset) * scale  # (the offset is a float: value - offset is float(value) - offset)
            if fraction and not 0.0 < v <= 1.0:  # pressure, distance: clipped to 0-1 (nan -> 0)
                v = 1.0 if v > 1.0 else 0.0
            self._vals[slot] = v

    def _row(self) -> tuple[float, ...]:
        """The current state: the axes in units, then in range, tip contact, barrel button (0/1)."""
        return (*self._vals, *self._key_values)

    def _time(self, kernel_s: float) -> float:
        """Kernel time -> s since the first report, kept increasing across clock steps."""
        t = kernel_s - self.time_origin_s + self._offset
        if t > self._last_t:  # the usual step forward (False while either is still nan)
            self._last_step = t - self._last_t
            return t
        if math.isnan(self.time_origin_s):
            self.time_origin_s = kernel_s
        t = kernel_s - self.time_origin_s + self._offset
        if math.isnan(self._last_t):
            return t
        if t < self._last_t:
            self.stats.out_of_order += 1
            rate = self.rate.rate_hz
            step = 1.0 / rate if rate > 0 else self._last_step
            self._offset += self._last_t + step - t
            return self._last_t + step
        if t > self._last_t:
            self._last_step = t - self._last_t
        return t

    def _missing(self, t: float) -> int:
        """Reports lost in a SYN_DROPPED before time ``t``: at least 1, estimated from the rate."""
        rate = self.rate.rate_hz
        if math.isnan(self._last_t) or not rate > 0:
            return 1
        return max(1, round((t - self._last_t) * rate) - 1)

    def _block(self, rows: list[tuple[float, ...]], times: list[float], dropped: int) -> SampleBlock:
        """The reports of one call as one block (the floats kept: arrays are made on first use)."""
        self.rate.add(times, skipped=dropped)
        flat = rows[0] if len(rows) == 1 else [v for row in rows for v in row]
        blk = new_block(times, flat, len(self.channels), self._index, dropped)
        self._index += len(rows) + dropped
        return blk


def _initial(info: AbsInfoLike) -> float:
    value = getattr(info, "value", None)
    return float(value) if isinstance(value, (int, float)) else math.nan


def _check_range(name: str, label: str, info: AbsInfoLike) -> None:
    if info.max <= info.min:
        raise DeviceError(f"{name}: {label} declares maximum {info.max} <= minimum {info.min}")
