"""Generic CSV/TSV tables (a column map, units and a time column as explicit options) and presets.

"Is my device's CSV supported?" is among the most frequent requests to comparable
tools (research/devices_clinic.md §2 #10); the answer here is one reader driven by
options — which column is which channel, in which unit, which column is time and in
which unit — and presets that fill those options for a known export:

``kinvent``  Kinvent app CSV export (K-Force / K-Grip): semicolon-separated, one
             ``Repetition: N`` section per repetition, each a table with ``Time`` (s) and
             ``Performance`` (force, kg: assumed, check the app's unit setting) besides
             ``Target``/``ClosestSampleTime``/``CHANNEL_n`` columns (not imported, listed).

Sections (``section_marker``) become ``trial`` events of one recording. When their
times restart at zero they are laid end to end ``section_gap_s`` apart (flagged:
the real rest between repetitions is not in the file). Lines before the first table
(export header: names, dates) are skipped and never stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ParameterError, RecordingError
from ...recording import Channel, Event, Recording
from ...signal.timestamps import QualityFlag
from ._common import assemble, decode_text, line_error, make_metadata, provenance, read_bytes
from .channels import channel_for, convert_units, time_factor

_MISSING = frozenset({"", "-", "n/a", "na", "nan", "null", "none", "--"})
_DELIMS = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
ISO_TIME = "iso8601"


@dataclass(frozen=True)
class TablePreset:
    """Options for a known table export (see the module docstring)."""

    name: str
    description: str
    columns: Mapping[str, str]
    units: Mapping[str, str]
    time_column: str | None
    time_unit: str = "s"
    delimiter: str | None = None
    decimal: str | None = None
    section_marker: str | None = None
    task: str = "grip"
    tracksys: str = "device"
    manufacturer: str = "n/a"
    device_model: str = "n/a"
    assumptions: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=())


PRESETS: dict[str, TablePreset] = {
    "kinvent": TablePreset(
        name="kinvent",
        description="Kinvent app CSV export (K-Force/K-Grip): ';'-separated 'Repetition:' sections",
        columns={"Performance": "force"},
        units={"force": "kg"},
        time_column="Time",
        time_unit="s",
        delimiter=None,  # ';' per the research notes; some exports read as ',' tables: detected per file
        section_marker="Repetition:",
        task="grip",
        tracksys="kinvent",
        manufacturer="Kinvent",
        assumptions=(
            "Performance is the force in kg (Kinvent apps display kg; check the app's unit setting)",
            "Time is in seconds from the start of each repetition",
        ),
        sources=("research/devices_clinic.md §1b (CSV export) and §2 #10",),
    ),
}


@dataclass
class _Section:
    label: str
    header_line: int
    header: list[str]
    rows: list[tuple[int, list[str]]]


def _sniff(lines: list[str]) -> str:
    """The delimiter giving the most lines with one and the same number (>1) of fields."""
    sample = [ln for ln in lines if ln.strip()][:200]
    best, best_score = ",", -1
    for d in _DELIMS:
        counts: dict[int, int] = {}
        for ln in sample:
            k = ln.count(d)
            if k:
                counts[k] = counts.get(k, 0) + 1
        score = max(counts.values(), default=0)
        if score > best_score:
            best, best_score = d, score
    return best


def _split(line: str, delim: str) -> list[str]:
    cells = line.rstrip("\r\n").split(delim)
    return [c.strip().strip('"').strip() for c in cells]


def _sections(
    path: Path,
    lines: list[str],
    delim: str,
    marker: str | None,
    needed: list[str],
    header: bool,
) -> list[_Section]:
    """Cut the file into tables: one per section (after each marker line) or one."""
    starts: list[tuple[int, str]] = []
    if marker:
        m = marker.strip().lower()
        for i, ln in enumerate(lines):
            first = _split(ln, delim)[0] if ln.strip() else ""
            if first.lower().startswith(m) or ln.strip().lower().startswith(m):
                label = ln.strip()[len(marker.strip()) :].strip(" :;,\t") or str(len(starts) + 1)
                starts.append((i, label))
        if not starts:
            raise RecordingError(f"{path}: no section starting with {marker!r} found")
    else:
        starts = [(-1, "1")]
    out = []
    bounds = [s for s, _ in starts[1:]] + [len(lines)]
    for (start, label), stop in zip(starts, bounds):
        if not header:
            rows = [(i + 1, _split(lines[i], delim)) for i in range(start + 1, stop) if lines[i].strip()]
            out.append(_Section(label, start + 1, [], rows))
            continue
        head_at = None
        for i in range(start + 1, stop):
            cells = _split(lines[i], delim)
            if all(n in cells for n in needed):
                head_at = i
                break
        if head_at is None:
            where = f"section {label!r} (line {start + 1})" if marker else "the file"
            raise RecordingError(f"{path}: no header row with the columns {', '.join(needed)} in {where}")
        rows = [(i + 1, _split(lines[i], delim)) for i in range(head_at + 1, stop) if lines[i].strip()]
        out.append(_Section(label, head_at + 1, _split(lines[head_at], delim), rows))
    return out


def _to_float(cell: str, decimal: str) -> float:
    c = cell.strip()
    if c.lower() in _MISSING:
        return float("nan")
    if decimal == ",":
        c = c.replace(".", "").replace(",", ".") if "," in c else c
    return float(c)


def _iso_seconds(cell: str) -> float:
    c = cell.strip()
    if c.lower() in _MISSING:
        return float("nan")
    dt = datetime.fromisoformat(c.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def read_table(
    path: str | Path,
    *,
    participant: str,
    preset: str | TablePreset | None = None,
    columns: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    time_column: str | None = None,
    time_unit: str | None = None,
    sampling_rate: float | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    header: bool = True,
    section_marker: str | None = None,
    section_gap_s: float = 1.0,
    session: str = "01",
    task: str | None = None,
    tracksys: str | None = None,
    hand: str = "n/a",
    extra: Mapping[str, Any] | None = None,
    drop_mixed_clock: bool = True,
    split_segments: bool = False,
) -> list[Recording]:
    """Read a CSV/TSV table into a recording.

    Args:
        path: the file.
        participant: pseudonymous ID.
        preset: a :data:`PRESETS` name or a :class:`TablePreset`; explicit options override it.
        columns: file column -> motorlab channel (``{"Fz (N)": "force"}``); without a header,
            1-based column numbers (``{"2": "force"}``). Required unless a preset gives it.
        units: channel -> unit in the file (``{"force": "kg"}``, ``{"pos_x": "*0.0204"}``). Every
            channel with a physical quantity (force, position, acceleration…) needs one.
        time_column: the time column (name or number); None = evenly spaced at ``sampling_rate``.
        time_unit: ``s``, ``ms``, ``us``, ``ns``, ``min``, ``h``, a factor ``*F``, or ``iso8601``.
        sampling_rate: nominal rate, Hz (None = observed from the time column).
        delimiter: ``,`` ``;`` tab ``|``; None = detected. decimal: ``.`` or ``,`` (None = detected).
        header: the table has a header row.
        section_marker: text starting a section (``Repetition:``); sections become ``trial`` events.
        section_gap_s: spacing laid between sections whose times restart.
        Other arguments: metadata; see :func:`motorlab.storage.importers.uci.read_uci_spiral`.
    """
    path = Path(path)
    p = PRESETS.get(preset.lower()) if isinstance(preset, str) else preset
    if isinstance(preset, str) and p is None:
        raise ParameterError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    col_map = dict(columns if columns is not None else (p.columns if p else {}))
    if not col_map:
        raise ParameterError(f"{path}: give the column map (file column -> channel) or a preset")
    unit_map = {**(p.units if p else {}), **(units or {})}
    tcol = time_column if time_column is not None else (p.time_column if p else None)
    tunit = time_unit or (p.time_unit if p else "s")
    marker = section_marker if section_marker is not None else (p.section_marker if p else None)
    task = task or (p.task if p else "grip")
    tracksys = tracksys or (p.tracksys if p else "device")
    if tcol is None and sampling_rate is None:
        raise ParameterError(f"{path}: give the time column or the sampling rate")
    channels: list[Channel] = []
    for src, name in col_map.items():
        ch = channel_for(name)
        if ch.units not in ("n/a",) and name not in unit_map:
            raise ParameterError(
                f"{path}: give the unit of column {src!r} ({ch.name}, e.g. {ch.name}={ch.units})"
            )
        channels.append(ch)
    if len({c.name for c in channels}) != len(channels):
        raise ParameterError(f"{path}: two columns map to the same channel ({', '.join(col_map.values())})")
    raw = read_bytes(path)
    text, enc_flag = decode_text(path, raw)
    lines = text.splitlines()
    delim = delimiter or (p.delimiter if p else None) or _sniff(lines)
    needed = [*col_map] + ([tcol] if tcol is not None else [])
    sections = _sections(path, lines, delim, marker, needed if header else [], header)
    dec = decimal or (p.decimal if p else None) or _detect_decimal(sections, delim)
    flags: list[QualityFlag] = [enc_flag] if enc_flag else []
    t_parts: list[np.ndarray] = []
    v_parts: list[np.ndarray] = []
    line_parts: list[np.ndarray] = []
    events: list[Event] = []
    ignored: set[str] = set()
    offset = 0.0
    restarted_at: int | None = None
    for k, sec in enumerate(sections):
        idx = _column_indices(path, sec, [*col_map], tcol, header)
        if header:
            ignored.update(h for h in sec.header if h and h not in needed)
        t, v, ln, trailer = _parse_rows(path, sec, idx, [*col_map], tcol, tunit, dec)
        if trailer is not None:
            flags.append(
                QualityFlag(
                    "ignored_rows",
                    "info",
                    f"{path.name}: line {trailer[0]}: {trailer[1]} row(s) after the table "
                    f"{'of section ' + repr(sec.label) + ' ' if marker else ''}are not data; skipped",
                    None,
                    trailer[1],
                )
            )
        if t is None:
            t = (np.arange(v.shape[0]) / float(sampling_rate or 1.0)) + (
                0.0 if not t_parts else float(t_parts[-1][-1]) + 1.0 / float(sampling_rate or 1.0)
            )
        if v.shape[0] == 0:
            continue
        if t_parts and np.isfinite(t[0]) and t[0] + offset <= t_parts[-1][-1]:
            offset = float(t_parts[-1][-1]) + section_gap_s - float(np.nanmin(t))
            restarted_at = restarted_at or int(ln[0])
        t = t + offset
        if marker:
            events.append(
                Event(
                    float(np.nanmin(t)),
                    float(np.nanmax(t) - np.nanmin(t)),
                    "trial",
                    {"trial": k + 1, "hand": hand, "status": "valid", "section": sec.label},
                )
            )
        t_parts.append(t)
        v_parts.append(v)
        line_parts.append(ln)
    if not t_parts:
        raise RecordingError(f"{path}: no data rows")
    if restarted_at is not None:
        flags.append(
            QualityFlag(
                "section_time_restart",
                "info",
                f"{path.name}: line {restarted_at}: section times restart; sections laid end to end "
                f"{section_gap_s:g} s apart (the real rest between them is not in the file)",
                None,
                len(sections),
            )
        )
    data = np.vstack(v_parts)
    out_channels: list[Channel] = []
    for j, (src, ch) in enumerate(zip(col_map, channels)):
        data[:, j], unit = convert_units(data[:, j], unit_map.get(ch.name), ch, f"{path}: column {src!r}")
        out_channels.append(Channel(ch.name, ch.type, unit, ch.component, ch.tracked_point))
    assumptions = list(p.assumptions if p else ())
    if tcol is None:
        assumptions.append(f"no time column: samples evenly spaced at {sampling_rate:g} Hz")
    options = {
        "preset": p.name if p else None,
        "columns": dict(col_map),
        "units": {ch.name: unit_map.get(ch.name) for ch in channels},
        "time_column": tcol,
        "time_unit": tunit if tcol is not None else None,
        "delimiter": delim,
        "decimal": dec,
        "section_marker": marker,
        "section_gap_s": section_gap_s if marker else None,
    }
    info = provenance(
        "table",
        path,
        raw,
        options,
        assumptions,
        sections=len(sections),
        ignored_columns=sorted(ignored),
    )
    acq_time = "n/a"
    t_all = np.concatenate(t_parts)
    if tunit == ISO_TIME and np.isfinite(t_all).any():
        acq_time = datetime.fromtimestamp(float(np.nanmin(t_all)), tz=timezone.utc).isoformat()
    md = make_metadata(
        participant,
        session=session,
        task=task,
        tracksys=tracksys,
        hand=hand,
        device_model=p.device_model if p else "n/a",
        manufacturer=p.manufacturer if p else "n/a",
        acq_time=acq_time,
        extra=extra,
    )
    return assemble(
        path,
        t_all,
        data,
        out_channels,
        md,
        import_info=info,
        sampling_rate=sampling_rate,
        lines=np.concatenate(line_parts),
        flags=flags,
        events=events,
        drop_mixed_clock=drop_mixed_clock,
        split_segments=split_segments,
    )


def _detect_decimal(sections: list[_Section], delim: str) -> str:
    if delim == ",":
        return "."
    for sec in sections:
        for _, cells in sec.rows[:50]:
            if any(_DECIMAL_COMMA.match(c) for c in cells):
                return ","
    return "."


def _column_indices(
    path: Path, sec: _Section, names: list[str], tcol: str | None, header: bool
) -> dict[str, int]:
    wanted = [*names] + ([tcol] if tcol is not None else [])
    out: dict[str, int] = {}
    for n in wanted:
        if header:
            out[n] = sec.header.index(n)
        else:
            try:
                k = int(n) - 1
            except ValueError:
                raise ParameterError(
                    f"{path}: without a header, columns are numbers (1, 2…), got {n!r}"
                ) from None
            if k < 0:
                raise ParameterError(f"{path}: column numbers start at 1, got {n!r}")
            out[n] = k
    return out


def _parse_rows(
    path: Path,
    sec: _Section,
    idx: dict[str, int],
    names: list[str],
    tcol: str | None,
    tunit: str,
    decimal: str,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, tuple[int, int] | None]:
    """(times s or None, values (n, k), line numbers, trailer (first line, count) or None).

    Rows that cannot be read are an error inside the table; after its last data row
    they are a trailer (summary lines), skipped and reported."""
    factor = None if tunit == ISO_TIME else time_factor(tunit, f"{path}: time column")
    width = max(idx.values()) + 1
    times: list[float] = []
    values: list[list[float]] = []
    lines: list[int] = []
    bad: tuple[int, str] | None = None
    n_bad = 0
    for lineno, cells in sec.rows:
        reason = ""
        row: list[float] = []
        tv = float("nan")
        if len(cells) < width:
            reason = f"{len(cells)} fields, expected at least {width}"
        else:
            for n in [*names, *([tcol] if tcol is not None else [])]:
                cell = cells[idx[n]]
                try:
                    if n == tcol and tcol is not None:
                        tv = _iso_seconds(cell) if factor is None else _to_float(cell, decimal) * factor
                    else:
                        row.append(_to_float(cell, decimal))
                except ValueError:
                    reason = f"column {n!r}: {cell[:30]!r} is not a number"
                    break
        if reason:
            bad = bad or (lineno, reason)
            n_bad += 1
            continue
        if bad is not None:  # a bad row inside the data, not a trailer
            raise line_error(path, bad[0], f"cannot read the row ({bad[1]})")
        if all(np.isnan(row)) and np.isnan(tv):
            continue
        times.append(tv)
        values.append(row)
        lines.append(lineno)
    if not values and bad is not None:
        raise line_error(path, bad[0], f"cannot read the row ({bad[1]})")
    arr = np.array(values, dtype=np.float64).reshape(-1, len(names))
    t = np.array(times, dtype=np.float64) if tcol is not None else None
    trailer = (bad[0], n_bad) if bad is not None else None
    return t, arr, np.array(lines, dtype=np.int64), trailer
