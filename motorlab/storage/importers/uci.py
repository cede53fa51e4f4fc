"""The UCI Parkinson spiral text format (UCI ML Repository dataset 395, Isenkul et al. 2014).

One file per person, no header, one sample per line::

    X;Y;Z;Pressure;GripAngle;Timestamp;TestID

recorded on a Wacom Cintiq 12WX pen display. TestID 0 = static spiral (traced
over a printed spiral), 1 = dynamic spiral (the template blinks), 2 = circular
hold (the dataset's readme: "draw circles around the red point"; the shared
copy's notes: hold the pen over a point). Each TestID becomes its own recording.
Timestamps are integer milliseconds of a device counter; some files step
backwards (flagged, split into forward segments, never sorted).

The coordinate unit is not documented. Screen pixels of the 12WX (1280 x 800 px
over 261.1 x 163.2 mm, i.e. 0.0204 cm/px) fit the drawn spiral size, so that is
the default of ``scale_cm_per_unit``, recorded in the sidecar as an assumption.
Z and GripAngle are kept raw (``z_raw``, ``grip_angle_raw``: units undocumented);
pressure is normalised by ``pressure_full_scale`` (1023: 1024 levels).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ParameterError, RecordingError
from ...recording import Channel, Recording
from ...signal.timestamps import QualityFlag
from ._common import (
    assemble,
    decode_text,
    line_error,
    load_rows,
    make_metadata,
    provenance,
    read_bytes,
    samples_digest,
)
from .channels import PEN_CHANNELS

#: cm per file unit assumed for X/Y: one screen pixel of the Wacom Cintiq 12WX (261.1 mm / 1280 px)
UCI_CM_PER_UNIT = 0.0204
#: pressure full scale assumed (the 12WX reports 1024 levels: 0..1023)
UCI_PRESSURE_FULL_SCALE = 1023.0
#: TestID -> (BIDS task label, description)
UCI_TASKS: dict[int, tuple[str, str]] = {
    0: ("spiral", "static spiral: trace over a printed Archimedean spiral"),
    1: ("spiraldynamic", "dynamic spiral: continue the spiral while its template blinks"),
    2: ("circularhold", "circular motion / hold the pen over a red point"),
}
COLUMNS = ("X", "Y", "Z", "Pressure", "GripAngle", "Timestamp", "TestID")
CHANNELS: tuple[Channel, ...] = (
    PEN_CHANNELS["pos_x"],
    PEN_CHANNELS["pos_y"],
    PEN_CHANNELS["pressure"],
    Channel("z_raw", "MISC", "n/a", tracked_point="pentip"),
    Channel("grip_angle_raw", "MISC", "n/a", tracked_point="pen"),
)
#: a drawing more than this many times wider than tall (or taller than wide) is flagged
ASPECT_LIMIT = 1.6


def _parse(path: Path, text: str) -> np.ndarray:
    """(n, 8) int64 array: the 7 columns plus the 1-based file line number."""
    lines = text.splitlines()
    if not text.strip():
        raise line_error(path, 1, "empty file: expected lines X;Y;Z;Pressure;GripAngle;Timestamp;TestID")

    def explain(lineno: int, ln: str) -> RecordingError | None:
        cells = ln.strip().split(";")
        if len(cells) != len(COLUMNS):
            return line_error(
                path,
                lineno,
                f"expected 7 ';'-separated values ({';'.join(COLUMNS)}), got {len(cells)}: {ln[:60]!r}",
            )
        for name, cell in zip(COLUMNS, cells):
            try:
                int(cell)
            except ValueError:
                return line_error(path, lineno, f"{name} {cell.strip()[:20]!r} is not an integer")
        return None

    arr, line_no = load_rows(
        path, lines, delimiter=";", dtype=np.int64, n_cols=len(COLUMNS), first_line=1, explain=explain
    )
    return np.column_stack([arr, line_no])


def read_uci_spiral(
    path: str | Path,
    *,
    participant: str,
    session: str = "01",
    scale_cm_per_unit: float = UCI_CM_PER_UNIT,
    pressure_full_scale: float = UCI_PRESSURE_FULL_SCALE,
    tasks: Mapping[int, str] | None = None,
    tracksys: str = "tablet",
    hand: str = "n/a",
    extra: Mapping[str, Any] | None = None,
    drop_mixed_clock: bool = True,
    split_segments: bool = False,
) -> list[Recording]:
    """Read one UCI spiral file: one :class:`Recording` per TestID (per forward segment
    with ``split_segments``), in TestID order.

    Args:
        path: the ``.txt`` file.
        participant: pseudonymous ID (letters and digits with at least one digit).
        session: BIDS session label.
        scale_cm_per_unit: cm per X/Y unit (default 0.0204, the Cintiq 12WX pixel: an assumption,
            recorded as such in the sidecar).
        pressure_full_scale: raw pressure that maps to 1.0 in the ``pressure`` channel.
        tasks: TestID -> BIDS task label (default :data:`UCI_TASKS`).
        tracksys, hand, extra: metadata (``extra`` lands in ``Metadata.extra``, e.g. ``{"group": "control"}``).
        drop_mixed_clock: remove rows stamped on another clock (flagged) instead of failing.
        split_segments: one recording per forward segment (backwards steps) instead of one with segments.

    Channels: ``pos_x``, ``pos_y`` (cm), ``pressure`` (0–1), ``z_raw``, ``grip_angle_raw`` (raw).
    Errors: :class:`~motorlab.errors.RecordingError` naming the file and line.
    """
    path = Path(path)
    if not (scale_cm_per_unit > 0 and np.isfinite(scale_cm_per_unit)):
        raise ParameterError(f"scale must be a positive number of cm per unit, got {scale_cm_per_unit}")
    if not (pressure_full_scale > 0):
        raise ParameterError(f"pressure full scale must be positive, got {pressure_full_scale}")
    raw = read_bytes(path)
    text, enc_flag = decode_text(path, raw)
    arr = _parse(path, text)
    labels = {tid: label for tid, (label, _) in UCI_TASKS.items()}
    labels.update(tasks or {})
    out: list[Recording] = []
    for tid in sorted(int(v) for v in np.unique(arr[:, 6])):
        rows = arr[arr[:, 6] == tid]
        flags = [enc_flag] if enc_flag else []
        task = labels.get(tid)
        if task is None:
            task = f"uci{tid}" if tid >= 0 else f"ucineg{-tid}"
            flags.append(
                QualityFlag(
                    "unknown_test_id",
                    "warning",
                    f"{path.name}: line {rows[0, 7]}: TestID {tid} is not one of {sorted(UCI_TASKS)}; "
                    f"imported as task {task}",
                    None,
                    int(rows.shape[0]),
                )
            )
        x, y = rows[:, 0] * scale_cm_per_unit, rows[:, 1] * scale_cm_per_unit
        data = np.column_stack([x, y, rows[:, 3] / pressure_full_scale, rows[:, 2], rows[:, 4]])
        if task.startswith("spiral"):
            flags.extend(_aspect_flag(path, x, y))
        over = np.flatnonzero(rows[:, 3] > pressure_full_scale)
        if over.size:
            flags.append(
                QualityFlag(
                    "pressure_over_full_scale",
                    "warning",
                    f"{path.name}: line {rows[over[0], 7]}: pressure {rows[over[0], 3]} above the full scale "
                    f"{pressure_full_scale:g}{f' (+{over.size - 1} more)' if over.size > 1 else ''}",
                    int(over[0]),
                    int(over.size),
                )
            )
        info = provenance(
            "uci-spiral",
            path,
            raw,
            {
                "columns": ";".join(COLUMNS),
                "scale_cm_per_unit": scale_cm_per_unit,
                "pressure_full_scale": pressure_full_scale,
                "time_unit": "ms",
            },
            [
                f"X/Y unit undocumented: {scale_cm_per_unit:g} cm per unit assumed "
                "(Wacom Cintiq 12WX pixel: 1280 px over 261.1 mm)"
                if scale_cm_per_unit == UCI_CM_PER_UNIT
                else f"X/Y unit undocumented: {scale_cm_per_unit:g} cm per unit given by the user",
                "Y axis as in the file (tablet/screen coordinates; direction undocumented)",
                f"pressure normalised by {pressure_full_scale:g} (1024 levels assumed)",
                "Z and GripAngle kept raw: units undocumented",
            ],
            test_id=tid,
            task_description=UCI_TASKS.get(tid, ("", "unknown test"))[1],
            samples_sha256=samples_digest(rows[:, :6]),
            dataset="UCI ML Repository 395, Parkinson Disease Spiral Drawings Using Digitized Graphics "
            "Tablet (Isenkul, Sakar, Kursun, ICEHTM 2014)",
        )
        md = make_metadata(
            participant,
            session=session,
            task=task,
            tracksys=tracksys,
            hand=hand,
            device_model="Cintiq 12WX",
            manufacturer="Wacom",
            extra=extra,
        )
        out.extend(
            assemble(
                path,
                rows[:, 5],
                data,
                CHANNELS,
                md,
                import_info=info,
                lines=rows[:, 7],
                flags=flags,
                drop_mixed_clock=drop_mixed_clock,
                split_segments=split_segments,
                time_unit_s=1e-3,
            )
        )
    return out


def _aspect_flag(path: Path, x: np.ndarray, y: np.ndarray) -> list[QualityFlag]:
    """A spiral much wider than tall (or the reverse) suggests stretched coordinates."""
    w, h = float(np.ptp(x)), float(np.ptp(y))
    if w <= 0 or h <= 0:
        return []
    ratio = w / h
    if 1 / ASPECT_LIMIT <= ratio <= ASPECT_LIMIT:
        return []
    return [
        QualityFlag(
            "xy_aspect",
            "warning",
            f"{path.name}: the drawing is {ratio:.2f} times as wide as tall "
            f"({w:.2f} x {h:.2f} cm): coordinates may be stretched along one axis",
            None,
            int(x.size),
        )
    ]
