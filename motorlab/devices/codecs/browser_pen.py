"""Sans-I/O codec for a stylus in a web browser: Pointer Events batches (JSON) -> pen samples.

The capture page (``motorlab/ui/web/static/pen.js``) listens to ``pointerdown``,
``pointermove`` (every entry of ``getCoalescedEvents()``, never the predicted ones),
``pointerup``, ``pointercancel``, ``pointerover`` and ``pointerout`` on the writing
surface and sends batches over the app's WebSocket::

    {"type": "samples", "seq": 12, "samples": [[t_ms, x_px, y_px, pressure, tilt_x, tilt_y,
      altitude_rad, azimuth_rad, twist, tangential, buttons, pointer_type, pointer_id, kind], ...]}

Field order is :data:`WIRE_FIELDS` (the page sends the list in its ``start`` message and
the server refuses a different one). Facts (research/tablet.md §1.1-1.5, W3C Pointer
Events [PE], CDP ``Input.dispatchMouseEvent``):

* ``t_ms`` is ``event.timeStamp`` (ms since ``performance.timeOrigin``, 5 µs resolution
  on a cross-origin-isolated page); the recording's time is ``(t_ms - t0_ms) / 1000`` s,
  ``t0_ms`` being the page's clock when the recording started.
* ``x_px``/``y_px`` are CSS px from the writing surface's top-left corner. They become
  ``pos_x``/``pos_y`` in cm with the screen calibration (mm per CSS px), x to the right,
  **y up the page** (from the surface's bottom edge), as the pen path expects.
* Tip contact is ``buttons & 1`` (not ``pressure > 0``); a pen in range with no contact is
  hover (``pen_down`` 0, pressure 0 by the spec).
* ``altitude``/``azimuth`` are taken from the browser (radians) and stored in degrees;
  when the browser has none (``null``) they are computed from the tilt with the spec's
  conversion (:func:`tilt_to_altitude_azimuth`).
* ``pointer_type`` 0 pen, 1 mouse, 2 touch, 3 unknown: only pen samples are stored;
  mouse and touch samples are refused and counted (:attr:`BrowserPenStats.refused_mouse`,
  ``refused_touch``), so a finger or palm never draws.
* ``kind`` 0 move, 1 down, 2 up (samples), 3 cancel (the browser suppressed the stream:
  pen out of range, palm rejection), 4 enter range (over), 5 leave range (out): these
  three repeat a sample's position and become :class:`PenEvent` s (event rows), not samples.

The codec never raises on input: a malformed message or row is counted in
``stats.malformed`` and skipped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...recording import Channel

#: column order of a sample row on the wire (the page must send exactly this list)
WIRE_FIELDS: tuple[str, ...] = (
    "t_ms",
    "x_px",
    "y_px",
    "pressure",
    "tilt_x_deg",
    "tilt_y_deg",
    "altitude_rad",
    "azimuth_rad",
    "twist_deg",
    "tangential_pressure",
    "buttons",
    "pointer_type",
    "pointer_id",
    "kind",
)
POINTER_TYPES = ("pen", "mouse", "touch", "unknown")
KINDS = ("move", "down", "up", "cancel", "over", "out")
KIND_CANCEL = 3
#: kinds that are samples (the others are events only: they repeat a sample's position)
SAMPLE_KINDS = (0, 1, 2)
#: the tip-contact bit of ``PointerEvent.buttons`` [PE]
TIP_BIT = 1

#: channels as stored (order of the columns)
CHANNELS: tuple[Channel, ...] = (
    Channel("pos_x", "POS", "cm", "x", "pentip"),
    Channel("pos_y", "POS", "cm", "y", "pentip"),
    Channel("pressure", "MISC", "1", tracked_point="pentip"),
    Channel("pen_down", "MISC", "n/a", tracked_point="pentip"),
    Channel("tilt_x", "ORNT", "deg", "x", "pen"),
    Channel("tilt_y", "ORNT", "deg", "y", "pen"),
    Channel("altitude", "ORNT", "deg", tracked_point="pen"),
    Channel("azimuth", "ORNT", "deg", tracked_point="pen"),
    Channel("twist", "ORNT", "deg", tracked_point="pen"),
    Channel("tangential_pressure", "MISC", "1", tracked_point="pen"),
    Channel("buttons", "MISC", "n/a", tracked_point="pen"),
    Channel("pos_x_px", "MISC", "px", tracked_point="pentip"),
    Channel("pos_y_px", "MISC", "px", tracked_point="pentip"),
)
CHANNEL_NAMES = tuple(c.name for c in CHANNELS)
#: CSS px per inch by definition (CSS Values 4); the uncalibrated fallback, **not** a physical size
CSS_PX_PER_INCH = 96.0
MM_PER_INCH = 25.4
UNCALIBRATED_MM_PER_PX = MM_PER_INCH / CSS_PX_PER_INCH


def tilt_to_altitude_azimuth(tilt_x_deg: np.ndarray, tilt_y_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pointer Events tiltX/tiltY (deg) -> (altitude, azimuth) in rad, the spec's conversion.

    azimuth = atan2(tan tiltY, tan tiltX) wrapped into [0, 2π) (π/2 or 3π/2 when tiltX = 0 by the
    sign of tiltY; 0 when both are 0); altitude = atan(1 / sqrt(tan²tiltX + tan²tiltY)), π/2 when
    both are 0, and 0 when either is ±90° (W3C Pointer Events, "Converting between tiltX/tiltY and
    altitudeAngle/azimuthAngle").
    """
    tx = np.radians(np.asarray(tilt_x_deg, dtype=np.float64))
    ty = np.radians(np.asarray(tilt_y_deg, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = np.tan(tx), np.tan(ty)
        az = np.mod(np.arctan2(b, a), 2 * math.pi)
        alt = np.arctan(1.0 / np.hypot(a, b))
    flat = (np.abs(np.abs(tilt_x_deg) - 90.0) < 1e-9) | (np.abs(np.abs(tilt_y_deg) - 90.0) < 1e-9)
    alt = np.where(flat, 0.0, alt)
    zero = (np.asarray(tilt_x_deg) == 0) & (np.asarray(tilt_y_deg) == 0)
    return np.where(zero, math.pi / 2, alt), np.where(zero, 0.0, az)


@dataclass
class BrowserPenStats:
    """What the codec saw (counts of samples and messages)."""

    batches: int = 0
    received: int = 0
    stored: int = 0
    hover: int = 0
    refused_mouse: int = 0
    refused_touch: int = 0
    refused_unknown: int = 0
    cancels: int = 0
    malformed: int = 0
    angles_computed: int = 0
    seq_gaps: int = 0


@dataclass(frozen=True)
class PenEvent:
    """A pointer event worth an event row (``pointercancel``): recording time in s and kind."""

    t_s: float
    kind: str


@dataclass(frozen=True)
class PenBatch:
    """Samples decoded from one message: times (n,) in s and values (n, len(CHANNELS))."""

    t_s: np.ndarray
    values: np.ndarray
    events: tuple[PenEvent, ...] = ()


@dataclass
class BrowserPenCodec:
    """Decodes the page's sample batches into stored pen samples.

    Args:
        t0_ms: the page's clock (ms since ``performance.timeOrigin``) at the recording's t = 0.
        mm_per_px: screen calibration, mm per CSS px (:data:`UNCALIBRATED_MM_PER_PX` when the
            screen is not calibrated: the recording must then say so).
        surface_height_px: height of the writing surface, CSS px (y is flipped about it).
    """

    t0_ms: float
    mm_per_px: float = UNCALIBRATED_MM_PER_PX
    surface_height_px: float = 0.0
    stats: BrowserPenStats = field(default_factory=BrowserPenStats)
    _next_seq: int = 0

    def feed(self, message: str | bytes | Mapping[str, Any]) -> PenBatch:
        """One ``samples`` message (JSON text or decoded) -> the pen samples to store."""
        empty = PenBatch(np.zeros(0), np.zeros((0, len(CHANNELS))))
        try:
            msg = json.loads(message) if isinstance(message, (str, bytes)) else message
            rows = msg["samples"]
            if not isinstance(rows, list):
                raise TypeError("samples is not a list")
            seq = msg.get("seq")
        except (ValueError, KeyError, TypeError):
            self.stats.malformed += 1
            return empty
        self.stats.batches += 1
        if isinstance(seq, int):
            if seq != self._next_seq:
                self.stats.seq_gaps += 1
            self._next_seq = seq + 1
        good = [r for r in rows if self._row_ok(r)]
        self.stats.malformed += len(rows) - len(good)
        self.stats.received += len(good)
        if not good:
            return empty
        arr = np.array([[np.nan if v is None else float(v) for v in r] for r in good], dtype=np.float64)
        return self._decode(arr)

    @staticmethod
    def _row_ok(row: Any) -> bool:
        if not isinstance(row, Sequence) or isinstance(row, str) or len(row) != len(WIRE_FIELDS):
            return False
        for i, v in enumerate(row):
            if v is None and WIRE_FIELDS[i] in ("altitude_rad", "azimuth_rad"):
                continue
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                return False
        return True

    def _decode(self, a: np.ndarray) -> PenBatch:
        col = {name: a[:, i] for i, name in enumerate(WIRE_FIELDS)}
        ptype = col["pointer_type"].astype(int)
        kind = col["kind"].astype(int)
        is_sample = np.isin(kind, SAMPLE_KINDS)
        self.stats.refused_mouse += int(np.count_nonzero(is_sample & (ptype == 1)))
        self.stats.refused_touch += int(np.count_nonzero(is_sample & (ptype == 2)))
        self.stats.refused_unknown += int(np.count_nonzero(is_sample & ((ptype < 0) | (ptype > 2))))
        pen = ptype == 0
        t_s = (col["t_ms"] - self.t0_ms) / 1000.0
        self.stats.cancels += int(np.count_nonzero(pen & (kind == KIND_CANCEL)))
        events = tuple(
            PenEvent(float(t), "pointer" + KINDS[k])
            for t, k in zip(t_s[pen & ~is_sample], kind[pen & ~is_sample])
            if 0 <= k < len(KINDS)
        )
        keep = pen & is_sample
        if not np.any(keep):
            return PenBatch(np.zeros(0), np.zeros((0, len(CHANNELS))), events)
        c = {k: v[keep] for k, v in col.items()}
        buttons = c["buttons"]
        down = (buttons.astype(np.int64) & TIP_BIT) > 0
        alt, az = c["altitude_rad"], c["azimuth_rad"]
        missing = ~np.isfinite(alt) | ~np.isfinite(az)
        if np.any(missing):
            alt_c, az_c = tilt_to_altitude_azimuth(c["tilt_x_deg"], c["tilt_y_deg"])
            alt, az = np.where(missing, alt_c, alt), np.where(missing, az_c, az)
            self.stats.angles_computed += int(np.count_nonzero(missing))
        cm_per_px = self.mm_per_px / 10.0
        values = np.column_stack(
            [
                c["x_px"] * cm_per_px,
                (self.surface_height_px - c["y_px"]) * cm_per_px,
                np.where(down, c["pressure"], 0.0),
                down.astype(np.float64),
                c["tilt_x_deg"],
                c["tilt_y_deg"],
                np.degrees(alt),
                np.degrees(az),
                c["twist_deg"],
                c["tangential_pressure"],
                buttons,
                c["x_px"],
                c["y_px"],
            ]
        )
        self.stats.stored += int(values.shape[0])
        self.stats.hover += int(np.count_nonzero(~down))
        return PenBatch(t_s[keep], values, events)


__all__ = [
    "CHANNELS",
    "CHANNEL_NAMES",
    "KINDS",
    "POINTER_TYPES",
    "UNCALIBRATED_MM_PER_PX",
    "WIRE_FIELDS",
    "BrowserPenCodec",
    "BrowserPenStats",
    "PenBatch",
    "PenEvent",
    "tilt_to_altitude_azimuth",
]
