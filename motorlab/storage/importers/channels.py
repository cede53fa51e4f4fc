"""Channel names and units that imported recordings use, and the unit conversions into them.

Every importer maps a file's columns onto these names so that analysis finds them
(``pos_x``/``pos_y`` in cm, ``tip_force`` and ``force`` in N, ``acc_*`` in m/s^2…,
as the device codecs and :mod:`motorlab.analysis.recording_metrics` name them). Pen
channels that tablets add (normalised ``pressure``, ``pen_down`` state, tilt,
azimuth/altitude) are listed in docs/formats.md. A file unit is converted with
:func:`convert_units`: a known unit for the channel's quantity (``mm``, ``in``,
``kg``, ``lbf``, ``g``, ``rad``, ``ms``…) or an explicit factor ``*F`` / divisor ``/D``
into the channel's unit (``pos_x`` ``*0.0204`` = 0.0204 cm per file unit;
``pressure`` ``/1023`` = full scale 1023).
"""

from __future__ import annotations

import math
import re

import numpy as np

from ...errors import ParameterError
from ...recording import Channel
from ...units import CM_M, FORCE_UNITS_N, MM_M, STANDARD_GRAVITY

#: centimetres per inch (exact, international inch of 1959: 25.4 mm)
INCH_CM = 2.54

#: pen/tablet channels (name -> channel); pos_* in cm, pressure as a fraction of full scale
PEN_CHANNELS: dict[str, Channel] = {
    c.name: c
    for c in (
        Channel("pos_x", "POS", "cm", "x", "pentip"),
        Channel("pos_y", "POS", "cm", "y", "pentip"),
        Channel("pos_z", "POS", "cm", "z", "pentip"),
        Channel("tip_force", "MISC", "N", tracked_point="pentip"),
        Channel("pressure", "MISC", "1", tracked_point="pentip"),
        Channel("pen_down", "MISC", "n/a", tracked_point="pentip"),
        Channel("azimuth", "ORNT", "deg", tracked_point="pen"),
        Channel("altitude", "ORNT", "deg", tracked_point="pen"),
        Channel("tilt_x", "ORNT", "deg", "x", "pen"),
        Channel("tilt_y", "ORNT", "deg", "y", "pen"),
        Channel("twist", "ORNT", "deg", tracked_point="pen"),
    )
}

#: every channel name an importer recognises, with its type and motorlab unit
KNOWN_CHANNELS: dict[str, Channel] = {
    **PEN_CHANNELS,
    "force": Channel("force", "MISC", "N", tracked_point="handle"),
    **{f"acc_{a}": Channel(f"acc_{a}", "ACCEL", "m/s^2", a, "device") for a in "xyz"},
    **{f"gyr_{a}": Channel(f"gyr_{a}", "GYRO", "deg/s", a, "device") for a in "xyz"},
    **{f"mag_{a}": Channel(f"mag_{a}", "MAGN", "uT", a, "device") for a in "xyz"},
    "roll": Channel("roll", "ORNT", "deg", "x", "device"),
    "pitch": Channel("pitch", "ORNT", "deg", "y", "device"),
    "yaw": Channel("yaw", "ORNT", "deg", "z", "device"),
}

#: file units per motorlab unit: value_in_motorlab_unit = value_in_file_unit x factor (keys lower case)
_UNIT_FACTORS: dict[str, dict[str, float]] = {
    "N": dict(FORCE_UNITS_N),
    "cm": {"cm": 1.0, "mm": MM_M / CM_M, "m": 1.0 / CM_M, "in": INCH_CM, "inch": INCH_CM, "um": 1e-4},
    "deg": {"deg": 1.0, "°": 1.0, "rad": 180.0 / math.pi},
    "deg/s": {"deg/s": 1.0, "dps": 1.0, "rad/s": 180.0 / math.pi},
    "m/s^2": {"m/s^2": 1.0, "m/s2": 1.0, "m/s²": 1.0, "g": STANDARD_GRAVITY, "mg": STANDARD_GRAVITY * 1e-3},
    "uT": {"ut": 1.0, "µt": 1.0, "nt": 1e-3, "mt": 1e3, "t": 1e6, "gauss": 100.0, "mgauss": 0.1},
    "m/s": {"m/s": 1.0, "cm/s": CM_M, "mm/s": MM_M},
    "deg/s^2": {"deg/s^2": 1.0, "deg/s2": 1.0, "rad/s^2": 180.0 / math.pi, "rad/s2": 180.0 / math.pi},
    "1": {"1": 1.0, "%": 0.01},
    "n/a": {"n/a": 1.0},
}
#: seconds per time unit (time columns and time channels)
TIME_UNITS_S: dict[str, float] = {
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
    "min": 60.0,
    "h": 3600.0,
}
_FACTOR = re.compile(r"^\s*([*/])\s*([0-9.eE+-]+)\s*$")


def unit_factor(unit: str, target: str, what: str) -> float:
    """Factor taking a value in ``unit`` to ``target`` (a motorlab unit).

    ``unit`` is a unit name known for ``target``'s quantity (case-insensitive), or
    ``*F`` (multiply by F) / ``/D`` (divide by D). Raises :class:`ParameterError`
    naming ``what`` otherwise.
    """
    m = _FACTOR.match(unit)
    if m:
        try:
            num = float(m.group(2))
        except ValueError:
            num = float("nan")
        if not math.isfinite(num) or num == 0:
            raise ParameterError(f"{what}: scale {unit!r} is not a finite non-zero number")
        return num if m.group(1) == "*" else 1.0 / num
    table = _UNIT_FACTORS.get(target, {target.lower(): 1.0})
    key = unit.strip().lower()
    if key == target.lower():
        return 1.0
    if key in table:
        return table[key]
    known = ", ".join(sorted(table))
    raise ParameterError(
        f"{what}: unit {unit!r} cannot be converted to {target} (known: {known}; or give a factor *F or /D)"
    )


def time_factor(unit: str, what: str = "time") -> float:
    """Seconds per ``unit`` (``s``, ``ms``, ``us``, ``ns``, ``min``, ``h``, or ``*F``/``/D``)."""
    m = _FACTOR.match(unit)
    if m:
        return unit_factor(unit, "s", what)
    try:
        return TIME_UNITS_S[unit.strip().lower()]
    except KeyError:
        raise ParameterError(
            f"{what}: time unit {unit!r} unknown (known: {', '.join(TIME_UNITS_S)}; or *F / /D)"
        ) from None


def channel_for(name: str) -> Channel:
    """The channel description for a motorlab channel name (unknown names: MISC, unit ``n/a``)."""
    if name in KNOWN_CHANNELS:
        return KNOWN_CHANNELS[name]
    return Channel(safe_name(name), "MISC", "n/a")


def safe_name(name: str) -> str:
    """A channel name usable in BIDS tables: lower case, runs of other characters as ``_``."""
    out = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    return out or "channel"


def convert_units(
    values: np.ndarray, unit: str | None, channel: Channel, what: str
) -> tuple[np.ndarray, str]:
    """Values in the channel's unit and the channel unit to record.

    With ``unit`` None the values are taken to be in the channel's unit already. For a
    channel of unknown quantity (unit ``n/a``) a named file unit is kept as the
    channel's unit (no conversion); a factor is applied and the unit stays ``n/a``.
    """
    if unit is None:
        return values, channel.units
    if channel.units == "n/a" and not _FACTOR.match(unit):
        return values, unit.strip() or "n/a"
    return values * unit_factor(unit, channel.units, what), channel.units
