"""Which stored calibration a recording applies (per device serial), and how.

Calibrations themselves (fitting, the per-serial store, ``apply_calibration``)
live in :mod:`motorlab.devices.calibration`; this module picks the latest one
for the device being recorded and turns it into a
:data:`~motorlab.session.acquisition.Corrector`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..devices.base import DeviceInfo
from ..devices.calibration import Calibration, CalibrationStore, apply_calibration
from .acquisition import Corrector

#: a calibration older than this is still applied, but the therapist is warned, days
CALIBRATION_MAX_AGE_DAYS = 365.0


@dataclass(frozen=True)
class CalibrationChoice:
    """The calibration a recording uses: its id (``"n/a"`` for none), the corrector to
    apply (None: values as the device sends them) and a warning for the therapist ("" if none)."""

    id: str
    corrector: Corrector | None
    warning: str = ""
    #: force calibrations: the largest calibrated load (N); values above it are extrapolated
    range_max_n: float | None = None


def calibration_kind(info: DeviceInfo) -> str:
    """``"imu"`` for devices with accelerometer or gyroscope channels, else ``"force"``."""
    types = {c.type for c in info.channels}
    return "imu" if types & {"ACCEL", "GYRO"} else "force"


def load_calibration(info: DeviceInfo, store: CalibrationStore | None = None) -> CalibrationChoice:
    """The latest stored calibration of this device serial (of its :func:`calibration_kind`)."""
    kind = calibration_kind(info)
    cal = (store or CalibrationStore()).latest(info.serial, kind)
    if cal is None:
        return CalibrationChoice(
            "n/a", None, f"device {info.serial} has no stored {kind} calibration (motorlab calibrate {kind})"
        )
    names = [c.name for c in info.channels]
    age = cal.age_days()
    warning = ""
    if age > CALIBRATION_MAX_AGE_DAYS:
        warning = f"calibration {cal.id} is {age:.0f} days old: check it (motorlab calibrate check)"
    top = calibrated_range_n(cal) if kind == "force" else None
    return CalibrationChoice(cal.id, lambda v: apply_calibration(v, names, cal), warning, top)


def calibrated_range_n(cal: Calibration) -> float | None:
    """The largest load (N) a force calibration was fitted with (None when unknown)."""
    refs = [float(p["reference_n"]) for p in cal.points if isinstance(p.get("reference_n"), (int, float))]
    top = max(refs, default=0.0)
    return top if top > 0 else None


#: values this far above the calibrated range (fraction) count as extrapolated
EXTRAPOLATION_MARGIN = 0.05


def extrapolation_warning(choice: CalibrationChoice, peak_n: float) -> str:
    """A warning when ``peak_n`` exceeds the force calibration's range ("" otherwise)."""
    top = choice.range_max_n
    if top is None or not peak_n > top * (1.0 + EXTRAPOLATION_MARGIN):
        return ""
    return (
        f"force {peak_n:.0f} N is above the calibrated range ({top:.0f} N, calibration {choice.id}): "
        "values above it are extrapolated; calibrate with a heavier mass"
    )
