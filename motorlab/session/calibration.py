"""Which stored calibration a recording applies (per device serial), and how.

Calibrations themselves (fitting, the per-serial store, ``apply_calibration``)
live in :mod:`motorlab.devices.calibration`; this module picks the latest one
for the device being recorded and turns it into a
:data:`~motorlab.session.acquisition.Corrector`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..devices.base import DeviceInfo
from ..devices.calibration import CalibrationStore, apply_calibration
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
    return CalibrationChoice(cal.id, lambda v: apply_calibration(v, names, cal), warning)
