"""Device calibrations: pure fitting functions and a per-device JSON store.

Force sensors are calibrated against dead weights: the technician tares the
device with no load, hangs two or more known masses, and a straight line
``reference_N = gain * raw + offset`` is fitted by ordinary least squares
(numpy.polyfit, degree 1). Non-linearity is reported the way load-cell data
sheets do (OIML R 60 / manufacturer "non-linearity, % of full scale"): the
largest absolute residual from the fitted line divided by the full scale,
times 100.

IMUs are calibrated in two steps: the gyroscope bias is the mean rate while
the device lies still (refused when the spread says it moved), and the
accelerometer scale and offset come from the classic six-position test
(each axis pointing up, then down; IEEE Std 1293 / Titterton & Weston,
*Strapdown Inertial Navigation Technology*, §8): with ``raw = s * a + b`` and a
stationary accelerometer reading ``+g`` on the axis pointing up,
``s = (raw_up - raw_down) / (2 g)`` and ``b = (raw_up + raw_down) / 2``.

Every calibration is applied the same way, per channel:
``corrected = gain * raw + offset`` (:func:`apply_calibration`). This module
reads no device and no clock except :func:`now_iso`; the store does file I/O
only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..atomic import atomic_write_json
from ..errors import MotorlabError, MotorlabWarning

#: standard gravity, m/s^2 (CGPM 1901; also the kg -> N factor used for masses)
from ..units import STANDARD_GRAVITY

KINDS = (
    "force",
    "imu",
    "screen",
)  # screen: a browser pen surface, mm per CSS px (devices/screen_calibration.py)
#: environment variable that moves the whole motorlab config dir (tests use it)
CONFIG_ENV = "MOTORLAB_CONFIG_DIR"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ACC_AXES = ("acc_x", "acc_y", "acc_z")
_GYR_AXES = ("gyr_x", "gyr_y", "gyr_z")
POSES = ("+x", "-x", "+y", "-y", "+z", "-z")


class CalibrationError(MotorlabError):
    """Calibration data are unusable (too few points, device moved, wrong pose…)."""


# ---------------------------------------------------------------- the record
@dataclass(frozen=True)
class Calibration:
    """One calibration of one device.

    Attributes:
        id: ``<serial>-<kind>-<YYYYMMDDTHHMMSS>`` (serial sanitised).
        device_serial, device_model: as reported by the device.
        kind: ``"force"`` or ``"imu"``.
        created: ISO 8601 time with UTC offset.
        gain, offset: per channel name; ``corrected = gain * raw + offset``
            (offset in the channel unit, e.g. N, m/s^2, deg/s).
        points: the measurements the fit used (dicts, e.g. ``raw``, ``reference``,
            ``mass_kg`` for force; ``pose`` and mean ``acc`` for IMU).
        residuals: fitted minus reference at each point (force: N; IMU: norm
            error of each corrected pose, m/s^2).
        linearity_pct_fs: max |residual| / full_scale x 100.
        full_scale: the range the linearity refers to (force: N).
        notes: free text (never a patient name).
        extra: kind-specific details (IMU: raw scale/offset/bias per axis).
    """

    id: str
    device_serial: str
    device_model: str
    kind: str
    created: str
    gain: dict[str, float]
    offset: dict[str, float]
    points: list[dict[str, Any]] = field(default_factory=list)
    residuals: list[float] = field(default_factory=list)
    linearity_pct_fs: float = float("nan")
    full_scale: float = float("nan")
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CalibrationError(f"calibration {self.id}: kind {self.kind!r} is not one of {KINDS}")
        if set(self.gain) != set(self.offset):
            raise CalibrationError(f"calibration {self.id}: gain and offset name different channels")

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.created)

    def age_days(self, now: datetime | None = None) -> float:
        """Days since the calibration was made."""
        now = now or datetime.now(timezone.utc)
        return (now - self.created_at).total_seconds() / 86400.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Calibration:
        names = {f.name for f in dataclasses.fields(cls)}
        missing = {"id", "device_serial", "device_model", "kind", "created", "gain", "offset"} - set(d)
        if missing:
            raise CalibrationError(f"calibration record lacks {', '.join(sorted(missing))}")
        kw = {k: v for k, v in d.items() if k in names}
        kw["gain"] = {str(k): float(v) for k, v in kw["gain"].items()}
        kw["offset"] = {str(k): float(v) for k, v in kw["offset"].items()}
        for k in ("linearity_pct_fs", "full_scale"):
            if k in kw:
                kw[k] = float("nan") if kw[k] is None else float(kw[k])
        return cls(**kw)


def sanitise_serial(serial: str) -> str:
    """A device serial made safe for file names and ids (``/`` and spaces become ``_``)."""
    text = _UNSAFE.sub("_", str(serial).strip()).strip("._")
    return text or "unknown"


def now_iso() -> str:
    """Current time, ISO 8601 with UTC offset, whole seconds."""
    return datetime.now(timezone.utc).astimezone().replace(microsecond=0).isoformat()


def make_calibration_id(serial: str, kind: str, created: str) -> str:
    stamp = datetime.fromisoformat(created).strftime("%Y%m%dT%H%M%S")
    return f"{sanitise_serial(serial)}-{kind}-{stamp}"


# ------------------------------------------------------------------ applying
def apply_calibration(
    values: np.ndarray, channel_names: Sequence[str], cal: Calibration | None
) -> np.ndarray:
    """Return ``gain * raw + offset`` for every channel the calibration names.

    ``values`` is (n, len(channel_names)) (or 1-D for one channel); channels the
    calibration does not mention are copied unchanged. The input is not modified.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    if cal is None:
        return out
    one_d = out.ndim == 1
    if one_d:
        out = out[:, None]
    if out.shape[1] != len(channel_names):
        raise CalibrationError(
            f"calibration {cal.id}: {out.shape[1]} value columns but {len(channel_names)} channel names"
        )
    for j, name in enumerate(channel_names):
        if name in cal.gain:
            out[:, j] = cal.gain[name] * out[:, j] + cal.offset[name]
    return out[:, 0] if one_d else out


# ------------------------------------------------------------- force fitting
@dataclass(frozen=True)
class LinearFit:
    """``reference = gain * raw + offset`` fitted by least squares.

    ``residuals`` are fitted minus reference (reference units);
    ``linearity_pct_fs`` = max |residual| / ``full_scale`` x 100.
    """

    gain: float
    offset: float
    residuals: np.ndarray
    linearity_pct_fs: float
    full_scale: float
    rms_residual: float


def fit_linear(raw: ArrayLike, reference: ArrayLike, full_scale: float | None = None) -> LinearFit:
    """Least-squares gain and offset (numpy.polyfit, degree 1) with residuals.

    Needs at least two points with different references. ``full_scale``
    defaults to the largest |reference| (the calibrated range). With exactly two
    points the line passes through both and the residuals are zero, so the
    linearity is only meaningful with three or more points.
    """
    x = np.asarray(raw, dtype=np.float64).reshape(-1)
    y = np.asarray(reference, dtype=np.float64).reshape(-1)
    if x.size != y.size:
        raise CalibrationError(f"{x.size} raw readings but {y.size} reference values")
    if x.size < 2 or np.unique(y).size < 2:
        raise CalibrationError("need at least two calibration points with different known loads")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise CalibrationError("a calibration point has no valid reading (NaN)")
    if np.ptp(x) <= 1e-12 * max(1.0, float(np.max(np.abs(x)))):
        raise CalibrationError("the device reading did not change between loads (sensor stuck or unloaded?)")
    gain, offset = np.polyfit(x, y, 1)
    residuals = gain * x + offset - y
    fs = float(full_scale) if full_scale is not None else float(np.max(np.abs(y)))
    if not fs > 0:
        raise CalibrationError(f"full scale must be positive, got {fs:g}")
    return LinearFit(
        gain=float(gain),
        offset=float(offset),
        residuals=residuals,
        linearity_pct_fs=float(np.max(np.abs(residuals)) / fs * 100.0),
        full_scale=fs,
        rms_residual=float(np.sqrt(np.mean(residuals**2))),
    )


def force_calibration(
    raw_n: Sequence[float],
    masses_kg: Sequence[float],
    *,
    device_serial: str,
    device_model: str = "n/a",
    channel: str = "force",
    full_scale: float | None = None,
    created: str | None = None,
    notes: str = "",
    device_tared: bool = False,
) -> Calibration:
    """Build a force :class:`Calibration` from mean raw readings at known masses.

    The reference force of a hung mass is ``m * g`` with standard gravity
    9.80665 m/s^2 (local gravity differs by < 0.3 %). The line is always fitted
    with a free offset (so a zero error cannot bias the gain), but when the
    device was tared before the points (``device_tared``), the stored offset is
    0: recordings tare the device again, and the zero error of the calibration
    moment would only add a stale offset. The fitted value stays in
    ``extra["fitted_offset_n"]``.
    """
    masses = np.asarray(masses_kg, dtype=np.float64).reshape(-1)
    if np.any(masses < 0):
        raise CalibrationError("masses must be >= 0 kg")
    ref = masses * STANDARD_GRAVITY
    fit = fit_linear(raw_n, ref, full_scale)
    created = created or now_iso()
    points = [
        {
            "mass_kg": float(m),
            "reference_n": float(r),
            "raw": float(x),
            "corrected_n": float(fit.gain * x + fit.offset),
        }
        for m, r, x in zip(masses, ref, np.asarray(raw_n, dtype=np.float64))
    ]
    return Calibration(
        id=make_calibration_id(device_serial, "force", created),
        device_serial=str(device_serial),
        device_model=str(device_model),
        kind="force",
        created=created,
        gain={channel: fit.gain},
        offset={channel: 0.0 if device_tared else fit.offset},
        points=points,
        residuals=[float(r) for r in fit.residuals],
        linearity_pct_fs=fit.linearity_pct_fs,
        full_scale=fit.full_scale,
        notes=notes,
        extra={
            "rms_residual_n": fit.rms_residual,
            "units": "N",
            "fitted_offset_n": fit.offset,
            "device_tare": bool(device_tared),
        },
    )


# --------------------------------------------------------------- IMU fitting
@dataclass(frozen=True)
class GyroBias:
    """Mean gyro rate at rest (deg/s) and the spread that proved stillness."""

    bias_dps: np.ndarray  # (3,)
    std_dps: np.ndarray  # (3,)
    n_samples: int


def gyro_bias_at_rest(gyro_dps: np.ndarray, max_std_dps: float = 1.0, min_samples: int = 10) -> GyroBias:
    """Gyroscope bias as the mean rate of a still device (deg/s).

    Refuses (``CalibrationError``) when any axis' standard deviation exceeds
    ``max_std_dps``: the device moved, so the mean would include real rotation.
    """
    g = np.asarray(gyro_dps, dtype=np.float64)
    if g.ndim != 2 or g.shape[1] != 3:
        raise CalibrationError(f"gyro samples must be (n, 3), got {g.shape}")
    g = g[np.all(np.isfinite(g), axis=1)]
    if g.shape[0] < min_samples:
        raise CalibrationError(f"only {g.shape[0]} gyro samples at rest; need at least {min_samples}")
    std = g.std(axis=0, ddof=1)
    if np.any(std > max_std_dps):
        raise CalibrationError(
            f"device moved during the gyro bias measurement (std {np.max(std):.2f} deg/s > "
            f"{max_std_dps:g}); lay it still on the table and retry"
        )
    return GyroBias(bias_dps=g.mean(axis=0), std_dps=std, n_samples=int(g.shape[0]))


@dataclass(frozen=True)
class AccelSixPosition:
    """Per-axis accelerometer model ``raw = scale * true + offset``.

    ``scale`` is dimensionless (1 = perfect), ``offset`` in m/s^2;
    ``pose_norm_error`` is |corrected mean| - g for each pose (m/s^2).
    """

    scale: np.ndarray  # (3,)
    offset: np.ndarray  # (3,)
    pose_norm_error: dict[str, float]

    @property
    def gain(self) -> np.ndarray:
        """Multiplier in ``corrected = gain * raw + offset_corr``."""
        return 1.0 / self.scale

    @property
    def corrected_offset(self) -> np.ndarray:
        return -self.offset / self.scale


def check_pose(up: str, mean_acc: ArrayLike, g: float = STANDARD_GRAVITY, norm_tol: float = 0.1) -> None:
    """Check a pose's mean acceleration: norm near g and the named axis pointing up.

    ``norm_tol`` is relative (0.1 = within 10 % of g). Raises ``CalibrationError``.
    """
    if up not in POSES:
        raise CalibrationError(f"pose {up!r} is not one of {', '.join(POSES)}")
    a = np.asarray(mean_acc, dtype=np.float64).reshape(3)
    norm = float(np.linalg.norm(a))
    if not abs(norm - g) <= norm_tol * g:
        raise CalibrationError(
            f"pose {up}: |acc| = {norm:.2f} m/s^2, not within {norm_tol:.0%} of g; "
            f"hold the device still against a square edge"
        )
    axis = "xyz".index(up[1])
    sign = 1.0 if up[0] == "+" else -1.0
    if np.argmax(np.abs(a)) != axis or sign * a[axis] <= 0:
        raise CalibrationError(
            f"pose {up}: gravity is on another axis (mean acc {np.round(a, 2).tolist()} m/s^2); "
            f"turn the device so its {up} axis points up"
        )


def accel_six_position(
    pose_means: Mapping[str, ArrayLike], g: float = STANDARD_GRAVITY, norm_tol: float = 0.1
) -> AccelSixPosition:
    """Six-position accelerometer scale and offset (see module docstring).

    ``pose_means`` maps each of ``+x, -x, +y, -y, +z, -z`` (the device axis
    pointing up) to the mean raw acceleration (3,) in m/s^2, gravity included.
    """
    missing = [p for p in POSES if p not in pose_means]
    if missing:
        raise CalibrationError(f"six-position calibration lacks pose(s) {', '.join(missing)}")
    means = {p: np.asarray(pose_means[p], dtype=np.float64).reshape(3) for p in POSES}
    for p in POSES:
        check_pose(p, means[p], g, norm_tol)
    scale = np.empty(3)
    offset = np.empty(3)
    for i, ax in enumerate("xyz"):
        up, down = means[f"+{ax}"][i], means[f"-{ax}"][i]
        scale[i] = (up - down) / (2.0 * g)
        offset[i] = (up + down) / 2.0
    errors = {p: float(np.linalg.norm((means[p] - offset) / scale) - g) for p in POSES}
    return AccelSixPosition(scale=scale, offset=offset, pose_norm_error=errors)


def imu_calibration(
    gyro: GyroBias,
    accel: AccelSixPosition,
    *,
    device_serial: str,
    device_model: str = "n/a",
    created: str | None = None,
    notes: str = "",
) -> Calibration:
    """Build an IMU :class:`Calibration` (acc_x..z gain/offset, gyr_x..z bias removal)."""
    created = created or now_iso()
    gain = {a: float(v) for a, v in zip(_ACC_AXES, accel.gain)}
    offset = {a: float(v) for a, v in zip(_ACC_AXES, accel.corrected_offset)}
    for a, b in zip(_GYR_AXES, gyro.bias_dps):
        gain[a], offset[a] = 1.0, float(-b)
    residuals = [accel.pose_norm_error[p] for p in POSES]
    return Calibration(
        id=make_calibration_id(device_serial, "imu", created),
        device_serial=str(device_serial),
        device_model=str(device_model),
        kind="imu",
        created=created,
        gain=gain,
        offset=offset,
        points=[{"pose": p} for p in POSES],
        residuals=residuals,
        linearity_pct_fs=float(np.max(np.abs(residuals)) / STANDARD_GRAVITY * 100.0),
        full_scale=STANDARD_GRAVITY,
        notes=notes,
        extra={
            "acc_scale": accel.scale.tolist(),
            "acc_offset_ms2": accel.offset.tolist(),
            "gyro_bias_dps": gyro.bias_dps.tolist(),
            "gyro_std_dps": gyro.std_dps.tolist(),
        },
    )


# ------------------------------------------------------------------- checking
@dataclass(frozen=True)
class CheckResult:
    """Outcome of ``calibrate check`` against one known mass."""

    reference_n: float
    measured_n: float
    error_pct: float
    age_days: float
    tolerance_pct: float
    max_age_days: float

    @property
    def too_old(self) -> bool:
        return self.age_days > self.max_age_days

    @property
    def within_tolerance(self) -> bool:
        return abs(self.error_pct) <= self.tolerance_pct

    @property
    def ok(self) -> bool:
        return self.within_tolerance and not self.too_old

    def problems(self) -> list[str]:
        out = []
        if not self.within_tolerance:
            out.append(f"error {self.error_pct:+.2f} % exceeds ±{self.tolerance_pct:g} %")
        if self.too_old:
            out.append(f"calibration is {self.age_days:.0f} days old (max {self.max_age_days:g})")
        return out


def check_force(
    corrected_n: float,
    mass_kg: float,
    cal: Calibration,
    *,
    tolerance_pct: float = 1.0,
    max_age_days: float = 180.0,
    now: datetime | None = None,
) -> CheckResult:
    """Compare a calibrated reading with a known mass (error relative to m * g, %)."""
    if not mass_kg > 0:
        raise CalibrationError(f"check mass must be > 0 kg, got {mass_kg:g}")
    ref = mass_kg * STANDARD_GRAVITY
    return CheckResult(
        reference_n=ref,
        measured_n=float(corrected_n),
        error_pct=(float(corrected_n) - ref) / ref * 100.0,
        age_days=cal.age_days(now),
        tolerance_pct=tolerance_pct,
        max_age_days=max_age_days,
    )


# ---------------------------------------------------------------------- store
def default_root() -> Path:
    """``$MOTORLAB_CONFIG_DIR/calibrations`` or the per-user config dir (platformdirs)."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser() / "calibrations"
    import platformdirs

    return Path(platformdirs.user_config_dir("motorlab")) / "calibrations"


class CalibrationStore:
    """Calibrations on disk: ``<root>/<serial>/<id>.json``, one file each, history kept."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()

    def _dir(self, serial: str) -> Path:
        return self.root / sanitise_serial(serial)

    def path(self, cal: Calibration) -> Path:
        """Where ``cal`` is (or would be) stored."""
        return self._dir(cal.device_serial) / f"{cal.id}.json"

    def save(self, cal: Calibration) -> Calibration:
        """Write ``cal`` (atomically); an id already used gets a ``-2``, ``-3``… suffix.

        Returns the calibration as stored (its id may differ from the input).
        """
        folder = self._dir(cal.device_serial)
        folder.mkdir(parents=True, exist_ok=True)
        base, k = cal.id, 1
        while (folder / f"{cal.id}.json").exists():
            k += 1
            cal = dataclasses.replace(cal, id=f"{base}-{k}")
        path = folder / f"{cal.id}.json"
        atomic_write_json(path, _jsonable(cal.to_dict()))
        return cal

    @staticmethod
    def load(path: Path) -> Calibration:
        try:
            return Calibration.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise MotorlabError(f"{path}: no such calibration file") from None
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError, AttributeError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CalibrationError(f"{path}: not a valid calibration file ({msg})") from None

    def _iter(self, folder: Path) -> Iterable[Calibration]:
        for path in sorted(folder.glob("*.json")):
            try:
                yield self.load(path)
            except MotorlabError as exc:
                warnings.warn(f"skipping {exc}", MotorlabWarning, stacklevel=3)

    def history(self, serial: str, kind: str | None = None) -> list[Calibration]:
        """Calibrations of one device, oldest first."""
        folder = self._dir(serial)
        if not folder.is_dir():
            return []
        cals = [c for c in self._iter(folder) if kind is None or c.kind == kind]
        return sorted(cals, key=lambda c: (c.created_at, c.id))

    def all(self) -> list[Calibration]:
        """Every stored calibration, oldest first."""
        if not self.root.is_dir():
            return []
        cals = [c for d in sorted(self.root.iterdir()) if d.is_dir() for c in self._iter(d)]
        return sorted(cals, key=lambda c: (c.created_at, c.id))

    def latest(self, serial: str, kind: str) -> Calibration | None:
        """The newest calibration of ``kind`` for a device serial, or None."""
        hist = self.history(serial, kind)
        return hist[-1] if hist else None

    def get(self, cal_id: str) -> Calibration:
        """A calibration by id (raises ``MotorlabError`` if absent)."""
        if sanitise_serial(cal_id) != cal_id:
            raise MotorlabError(f"{cal_id!r} is not a calibration id (letters, digits, '.', '_', '-')")
        if self.root.is_dir():
            for folder in self.root.iterdir():
                path = folder / f"{cal_id}.json"
                if folder.is_dir() and path.is_file():
                    return self.load(path)
        raise MotorlabError(f"{self.root}: no calibration with id {cal_id!r}")


def _jsonable(obj: Any) -> Any:
    """NaN/inf become null; numpy scalars become Python numbers (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
