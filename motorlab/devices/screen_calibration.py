"""Physical size of a pen surface in a browser: millimetres per CSS pixel, stored per screen.

No web API gives a screen's physical size, and a CSS ``px`` (1/96 inch by definition) need
not match real millimetres (research/tablet.md §1.5). The therapist calibrates each screen
once, in one of two ways:

* **card**: lay an ISO/IEC 7810 ID-1 card (a bank card, 85.60 x 53.98 mm) on a pen display
  and resize the on-screen box until it matches; ``mm_per_px = 85.60 / box width`` (and the
  height gives a second estimate, 53.98 / box height, whose disagreement is stored);
* **line**: on an opaque tablet (its area mapped onto the monitor) draw along a ruler of
  known length; ``mm_per_px = length_mm / drawn length in CSS px``.

The result is a :class:`~motorlab.devices.calibration.Calibration` of kind ``"screen"`` with
``gain = {"pos_x": mm_per_px, "pos_y": mm_per_px}`` and zero offsets, kept in the ordinary
calibration store under the screen's key (:func:`screen_key`: screen size in CSS px and
``devicePixelRatio``, so a change of zoom or display needs a new calibration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .calibration import Calibration, CalibrationError, CalibrationStore, make_calibration_id, now_iso

#: ISO/IEC 7810 ID-1 card size, mm
ID1_WIDTH_MM = 85.60
ID1_HEIGHT_MM = 53.98
#: plausible range of mm per CSS px (a 4K phone ~0.05; a 1024x768 projector ~1.5)
MM_PER_PX_RANGE = (0.02, 2.0)
#: card width and height estimates must agree within this fraction
CARD_ASPECT_TOLERANCE = 0.05


@dataclass(frozen=True)
class ScreenInfo:
    """What the page reports about its screen (CSS px and the device pixel ratio)."""

    width_px: int
    height_px: int
    device_pixel_ratio: float

    def key(self) -> str:
        return screen_key(self.width_px, self.height_px, self.device_pixel_ratio)


def screen_key(width_px: int, height_px: int, device_pixel_ratio: float) -> str:
    """The store key of a screen, e.g. ``screen-1280x800-dpr2``."""
    if width_px <= 0 or height_px <= 0 or not (device_pixel_ratio > 0):
        raise CalibrationError(
            f"screen {width_px}x{height_px} at ratio {device_pixel_ratio}: not a screen size"
        )
    return f"screen-{int(width_px)}x{int(height_px)}-dpr{device_pixel_ratio:g}"


def _check(mm_per_px: float, what: str) -> float:
    lo, hi = MM_PER_PX_RANGE
    if not (math.isfinite(mm_per_px) and lo <= mm_per_px <= hi):
        raise CalibrationError(f"{what}: {mm_per_px:.4g} mm per CSS px is outside {lo}-{hi}; measure again")
    return mm_per_px


def card_mm_per_px(box_width_px: float, box_height_px: float) -> tuple[float, float]:
    """``(mm_per_px, relative disagreement)`` from a box fitted over an ID-1 card."""
    if not (box_width_px > 0 and box_height_px > 0):
        raise CalibrationError(f"card box {box_width_px} x {box_height_px} px: sizes must be positive")
    w, h = ID1_WIDTH_MM / box_width_px, ID1_HEIGHT_MM / box_height_px
    disagreement = abs(w - h) / w
    if disagreement > CARD_ASPECT_TOLERANCE:
        raise CalibrationError(
            f"card box {box_width_px:g} x {box_height_px:g} px is not card-shaped (width and height give "
            f"{w:.4f} and {h:.4f} mm/px); fit the whole card"
        )
    return _check(w, "card"), disagreement


def line_mm_per_px(length_mm: float, length_px: float) -> float:
    """mm per CSS px from a line of known length (mm) drawn or measured as ``length_px``."""
    if not (length_mm > 0 and length_px > 0):
        raise CalibrationError(f"line {length_mm} mm over {length_px} px: lengths must be positive")
    return _check(length_mm / length_px, "line")


def screen_calibration(
    screen: ScreenInfo,
    mm_per_px: float,
    method: str,
    points: list[dict[str, float]] | None = None,
    notes: str = "",
) -> Calibration:
    """A ``"screen"`` calibration record for ``screen`` (store it with :func:`save_screen_calibration`)."""
    created = now_iso()
    key = screen.key()
    return Calibration(
        id=make_calibration_id(key, "screen", created),
        device_serial=key,
        device_model="browser pen surface",
        kind="screen",
        created=created,
        gain={"pos_x": mm_per_px, "pos_y": mm_per_px},
        offset={"pos_x": 0.0, "pos_y": 0.0},
        points=list(points or []),
        notes=notes,
        extra={
            "method": method,
            "mm_per_px": mm_per_px,
            "screen_width_px": screen.width_px,
            "screen_height_px": screen.height_px,
            "device_pixel_ratio": screen.device_pixel_ratio,
        },
    )


def save_screen_calibration(cal: Calibration, store: CalibrationStore | None = None) -> Calibration:
    return (store or CalibrationStore()).save(cal)


def latest_screen_calibration(
    screen: ScreenInfo, store: CalibrationStore | None = None
) -> Calibration | None:
    """The newest calibration of this screen (same size and pixel ratio), or None."""
    return (store or CalibrationStore()).latest(screen.key(), "screen")


__all__ = [
    "ID1_HEIGHT_MM",
    "ID1_WIDTH_MM",
    "ScreenInfo",
    "card_mm_per_px",
    "latest_screen_calibration",
    "line_mm_per_px",
    "save_screen_calibration",
    "screen_calibration",
    "screen_key",
]
