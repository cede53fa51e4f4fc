"""The ``.svc`` digitiser format (SVC2004 style; PaHaW, BDALab handwriting-sample).

Line 1 holds the number of samples; then one whitespace-separated row of integers
per sample. The usual column order is ``x y time pen_down azimuth altitude
pressure`` (BDALab handwriting-sample README); PaHaW puts **Y before X** (its
info.json: "Y, X, time stamp, button state, azimuth, altitude, pressure"). The
order is therefore always an explicit option (``column_order``; ``PAHAW_COLUMNS``
for PaHaW) and is recorded in the sidecar — never guessed.

Raw Wacom units (defaults, each an explicit option recorded as an assumption):
position 5080 lines per inch = 0.0005 cm per unit; time in ms; azimuth 0–3600 and
altitude 0–900 in tenths of a degree; pressure in counts of full scale 32767
(BDALab's default for a Cintiq 16). ``pen_down`` is 1 on the surface, 0 in the air.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...atomic import atomic_write_text
from ...errors import ParameterError, RecordingError
from ...recording import Channel, Recording
from ...signal.timestamps import QualityFlag
from ._common import (
    IMPORT_KEY,
    ExportResult,
    assemble,
    decode_text,
    line_error,
    load_rows,
    make_metadata,
    provenance,
    read_bytes,
)
from .channels import INCH_CM, PEN_CHANNELS, time_factor

#: the SVC2004 / BDALab column order
SVC_COLUMNS: tuple[str, ...] = ("x", "y", "time", "pen_down", "azimuth", "altitude", "pressure")
#: PaHaW's column order (Y first)
PAHAW_COLUMNS: tuple[str, ...] = ("y", "x", "time", "pen_down", "azimuth", "altitude", "pressure")
COLUMN_PRESETS: dict[str, tuple[str, ...]] = {
    "svc2004": SVC_COLUMNS,
    "bdalab": SVC_COLUMNS,
    "pahaw": PAHAW_COLUMNS,
}
#: column names an order may use ("skip" ignores a column)
COLUMN_NAMES = frozenset({"x", "y", "time", "pen_down", "azimuth", "altitude", "pressure", "skip"})
#: cm per position unit: Wacom 5080 lines per inch
SVC_CM_PER_UNIT = INCH_CM / 5080.0
#: degrees per azimuth/altitude unit (Wacom: 0–3600 = 0–360 deg)
SVC_DEG_PER_UNIT = 0.1
#: raw pressure mapped to 1.0
SVC_PRESSURE_FULL_SCALE = 32767.0
SVC_TIME_UNIT = "ms"

_CHANNEL_OF = {
    "x": "pos_x",
    "y": "pos_y",
    "pen_down": "pen_down",
    "azimuth": "azimuth",
    "altitude": "altitude",
    "pressure": "pressure",
}


@dataclass(frozen=True)
class SvcUnits:
    """Scale of each raw ``.svc`` column (value in motorlab units = raw x factor)."""

    cm_per_unit: float = SVC_CM_PER_UNIT
    time_unit: str = SVC_TIME_UNIT
    deg_per_unit: float = SVC_DEG_PER_UNIT
    pressure_full_scale: float = SVC_PRESSURE_FULL_SCALE

    def __post_init__(self) -> None:
        for name in ("cm_per_unit", "deg_per_unit", "pressure_full_scale"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ParameterError(f"svc {name.replace('_', ' ')} must be a positive number, got {v}")
        time_factor(self.time_unit, "svc time unit")

    def factors(self) -> dict[str, float]:
        return {
            "x": self.cm_per_unit,
            "y": self.cm_per_unit,
            "time": time_factor(self.time_unit, "svc time unit"),
            "pen_down": 1.0,
            "azimuth": self.deg_per_unit,
            "altitude": self.deg_per_unit,
            "pressure": 1.0 / self.pressure_full_scale,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "cm_per_unit": self.cm_per_unit,
            "time_unit": self.time_unit,
            "deg_per_unit": self.deg_per_unit,
            "pressure_full_scale": self.pressure_full_scale,
        }


def column_order(spec: str | Sequence[str]) -> tuple[str, ...]:
    """A column order from a preset name (``svc2004``, ``bdalab``, ``pahaw``) or names
    (``"y,x,time,pen_down,azimuth,altitude,pressure"``); checked."""
    if isinstance(spec, str):
        if spec.strip().lower() in COLUMN_PRESETS:
            return COLUMN_PRESETS[spec.strip().lower()]
        spec = [c for c in spec.replace(";", ",").replace(" ", ",").split(",") if c]
    cols = tuple(c.strip().lower() for c in spec)
    unknown = [c for c in cols if c not in COLUMN_NAMES]
    if unknown:
        raise ParameterError(
            f"svc column order: unknown column(s) {', '.join(unknown)} "
            f"(use {', '.join(sorted(COLUMN_NAMES))} or a preset {', '.join(COLUMN_PRESETS)})"
        )
    named = [c for c in cols if c != "skip"]
    if len(set(named)) != len(named):
        raise ParameterError(f"svc column order {','.join(cols)}: a column appears twice")
    for need in ("x", "y", "time"):
        if need not in cols:
            raise ParameterError(f"svc column order {','.join(cols)}: needs x, y and time")
    return cols


def _parse(path: Path, text: str, cols: tuple[str, ...]) -> tuple[int, np.ndarray, np.ndarray]:
    """(declared row count, (n, len(cols)) float array, (n,) file line numbers)."""
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise line_error(path, 1, "empty file: expected the number of samples, then one row per sample")
    try:
        declared = int(lines[first].strip())
    except ValueError:
        raise line_error(
            path, first + 1, f"expected the number of samples (an integer), got {lines[first].strip()[:40]!r}"
        ) from None
    rest = lines[first + 1 :]
    if not any(ln.strip() for ln in rest):
        raise line_error(path, first + 2, "no sample rows after the sample count")

    def explain(lineno: int, ln: str) -> RecordingError | None:
        cells = ln.split()
        if len(cells) != len(cols):
            return line_error(
                path,
                lineno,
                f"{len(cells)} columns but the column order {','.join(cols)} has {len(cols)}; "
                "give the file's column order explicitly",
            )
        for name, cell in zip(cols, cells):
            try:
                float(cell)
            except ValueError:
                return line_error(path, lineno, f"{name} {cell[:20]!r} is not a number")
        return None

    arr, line_no = load_rows(
        path, rest, delimiter=None, dtype=np.float64, n_cols=len(cols), first_line=first + 2, explain=explain
    )
    return declared, arr, line_no


def read_svc(
    path: str | Path,
    *,
    participant: str,
    columns: str | Sequence[str] = SVC_COLUMNS,
    units: SvcUnits | None = None,
    session: str = "01",
    task: str = "handwriting",
    tracksys: str = "tablet",
    hand: str = "n/a",
    device_model: str = "n/a",
    manufacturer: str = "n/a",
    sampling_rate: float | None = None,
    extra: Mapping[str, Any] | None = None,
    drop_mixed_clock: bool = True,
    split_segments: bool = False,
) -> list[Recording]:
    """Read an ``.svc`` file into a recording (one per forward segment with ``split_segments``).

    Args:
        path: the file.
        participant: pseudonymous ID.
        columns: the file's column order (names or a preset: ``svc2004``/``bdalab``, ``pahaw``).
        units: raw-unit scales (:class:`SvcUnits`; defaults are Wacom's, recorded as assumptions).
        sampling_rate: nominal rate in Hz; None = observed from the time stamps.
        Other arguments: metadata; see :func:`motorlab.storage.importers.uci.read_uci_spiral`.

    Channels: ``pos_x``, ``pos_y`` (cm), ``pen_down`` (1/0), ``azimuth``, ``altitude`` (deg),
    ``pressure`` (0–1) — those present in the column order.
    """
    path = Path(path)
    cols = column_order(columns)
    u = units or SvcUnits()
    factors = u.factors()
    raw = read_bytes(path)
    text, enc_flag = decode_text(path, raw)
    declared, arr, lines = _parse(path, text, cols)
    flags: list[QualityFlag] = [enc_flag] if enc_flag else []
    if declared != arr.shape[0]:
        flags.append(
            QualityFlag(
                "row_count_mismatch",
                "warning",
                f"{path.name}: line 1 declares {declared} samples but the file has {arr.shape[0]} rows"
                + (" (truncated?)" if declared > arr.shape[0] else ""),
                None,
                abs(declared - int(arr.shape[0])),
            )
        )
    names = [c for c in _CHANNEL_OF if c in cols]  # channel order fixed, whatever the file's order
    channels: list[Channel] = [PEN_CHANNELS[_CHANNEL_OF[c]] for c in names]
    data = np.column_stack([arr[:, cols.index(c)] * factors[c] for c in names])
    t_raw = arr[:, cols.index("time")]
    defaults = SvcUnits()
    assumptions = [f"column order {','.join(cols)} (as given; not checked against the file)"]
    for key, val in u.as_dict().items():
        if val == getattr(defaults, key):
            assumptions.append(f"{key.replace('_', ' ')} {val} (Wacom default, assumed)")
    info = provenance(
        "svc",
        path,
        raw,
        {"column_order": ",".join(cols), **u.as_dict()},
        assumptions,
        declared_rows=declared,
    )
    md = make_metadata(
        participant,
        session=session,
        task=task,
        tracksys=tracksys,
        hand=hand,
        device_model=device_model,
        manufacturer=manufacturer,
        extra=extra,
    )
    return assemble(
        path,
        t_raw,
        data,
        channels,
        md,
        import_info=info,
        sampling_rate=sampling_rate,
        lines=lines,
        flags=flags,
        drop_mixed_clock=drop_mixed_clock,
        split_segments=split_segments,
        time_unit_s=factors["time"],
    )


def write_svc(
    rec: Recording,
    path: str | Path,
    *,
    columns: str | Sequence[str] = SVC_COLUMNS,
    units: SvcUnits | None = None,
    time_origin_s: float | None = None,
) -> ExportResult:
    """Write a recording as ``.svc`` (integers in raw units; the column order is explicit).

    Positions are divided by ``units.cm_per_unit`` and rounded (quantised to the raw unit),
    and so on for each column. Time is ``(t + time_origin_s) / time unit``; the default
    origin is the one the recording was imported with (``Metadata.extra["import"]["time_origin_s"]``)
    so that an imported file is written back with its own time stamps, else 0. Samples
    without a finite position are left out (counted in the result). Missing channels are
    written as constants: ``pen_down`` 1 (on the surface, as analysis assumes without it), others 0.
    """
    path = Path(path)
    cols = column_order(columns)
    u = units or SvcUnits()
    factors = u.factors()
    if not {"pos_x", "pos_y"} <= set(rec.channel_names):
        raise RecordingError(f"{path}: cannot write .svc: the recording has no pos_x/pos_y channels")
    if time_origin_s is None:
        time_origin_s = float((rec.metadata.extra or {}).get(IMPORT_KEY, {}).get("time_origin_s", 0.0))
    ok = np.isfinite(rec.channel("pos_x")) & np.isfinite(rec.channel("pos_y")) & np.isfinite(rec.timestamps)
    n = int(ok.sum())
    filled: dict[str, float] = {}
    nan_as_zero: dict[str, int] = {}
    out_cols = []
    for c in cols:
        if c == "skip":
            out_cols.append(np.zeros(n))
            continue
        if c == "time":
            values = (rec.timestamps[ok] + time_origin_s) / factors["time"]
        else:
            ch = _CHANNEL_OF[c]
            if ch in rec.channel_names:
                values = rec.channel(ch)[ok] / factors[c]
            else:
                const = 1.0 if c == "pen_down" else 0.0
                filled[c] = const
                values = np.full(n, const)
        bad = ~np.isfinite(values)
        if bad.any():
            nan_as_zero[c] = int(bad.sum())
        out_cols.append(np.where(bad, 0.0, values))
    table = np.rint(np.column_stack(out_cols)).astype(np.int64) if n else np.zeros((0, len(cols)), np.int64)
    buf = io.StringIO()
    buf.write(f"{n}\n")
    np.savetxt(buf, table, fmt="%d", delimiter=" ")
    try:
        atomic_write_text(path, buf.getvalue())
    except OSError as exc:
        raise RecordingError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return ExportResult(path, n, int(rec.n_samples - n), filled or None, nan_as_zero or None)
