"""Plumbing shared by the importers: reading files, provenance, timestamp QC, building recordings.

Every importer ends in :func:`assemble`, which runs timestamp quality control
(:func:`motorlab.signal.timestamps.timestamp_clean`): rows on another clock are
removed (flagged), backwards steps split the recording into forward segments
(flagged, never sorted), and the flags, segments and the import provenance
(format, file name and SHA-256, every unit/scale option, every assumption) go into
``Metadata.extra`` — so they travel into the BIDS sidecar and into result tables.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import RecordingError
from ...recording import MAX_SPAN_S, Channel, Event, Metadata, Recording
from ...signal.timestamps import QualityFlag, TimestampReport, timestamp_clean, timestamp_rate

#: ``Metadata.extra`` keys written by importers
IMPORT_KEY = "import"
FLAGS_KEY = "quality_flags"
SEGMENTS_KEY = "timestamp_segments"


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or a one-line :class:`RecordingError` naming it."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise RecordingError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise RecordingError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror or exc})") from None


def decode_text(path: Path, raw: bytes) -> tuple[str, QualityFlag | None]:
    """UTF-8 text (a BOM is dropped); Windows-1252 with an ``encoding`` info flag otherwise."""
    if b"\x00" in raw[:4096]:
        raise RecordingError(f"{path}: not a text file (contains NUL bytes)")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        text = raw.decode("cp1252", errors="replace")
        line = raw[: exc.start].count(b"\n") + 1
        return text, QualityFlag(
            "encoding",
            "info",
            f"{Path(path).name}: line {line}: not UTF-8; read as Windows-1252",
            None,
            1,
        )


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def make_metadata(
    participant: str,
    *,
    session: str = "01",
    task: str,
    tracksys: str,
    hand: str = "n/a",
    device_model: str = "n/a",
    manufacturer: str = "n/a",
    acq_time: str = "n/a",
    extra: Mapping[str, Any] | None = None,
) -> Metadata:
    return Metadata(
        participant=participant,
        session=session,
        task=task,
        tracksys=tracksys,
        hand=hand,
        device_model=device_model,
        manufacturer=manufacturer,
        acq_time=acq_time,
        extra=dict(extra or {}),
    )


def provenance(
    fmt: str,
    path: Path,
    raw: bytes,
    options: Mapping[str, Any],
    assumptions: Sequence[str] = (),
    **more: Any,
) -> dict[str, Any]:
    """The ``Metadata.extra["import"]`` record: format, source file (name only) and digest,
    the unit/scale options used and the assumptions they rest on."""
    return {
        "format": fmt,
        "source_file": Path(path).name,
        "source_sha256": sha256(raw),
        "options": dict(options),
        "assumptions": list(assumptions),
        **more,
    }


def samples_digest(*arrays: np.ndarray) -> str:
    """SHA-256 of the raw sample values (identical recordings in different files share it)."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()


_FATAL = ("implausible_span", "grid_unjustified")


def assemble(
    path: Path,
    times: np.ndarray,
    data: np.ndarray,
    channels: Sequence[Channel],
    metadata: Metadata,
    *,
    import_info: dict[str, Any],
    sampling_rate: float | None = None,
    lines: np.ndarray | None = None,
    flags: Iterable[QualityFlag] = (),
    events: Iterable[Event] = (),
    drop_mixed_clock: bool = True,
    split_segments: bool = False,
    time_zero_s: float | None = None,
    clock_origin_s: float = 0.0,
    time_unit_s: float = 1.0,
) -> list[Recording]:
    """Quality-check the time stamps and build the recording(s).

    Args:
        path: the source file (errors name it; messages stored in the sidecar name its file name).
        times: (n,) sample times on the file's clock in ``time_unit_s`` (raw, e.g. integer ms), in file order.
        data: (n, k) samples in the channels' units.
        channels: one per data column.
        metadata: who/what; ``extra`` gains ``import``, ``quality_flags``, ``timestamp_segments``.
        import_info: provenance (see :func:`provenance`); ``time_origin_s`` is added.
        sampling_rate: nominal rate in Hz; None = the observed rate of the (cleaned) time stamps.
        lines: (n,) file line numbers, for messages.
        flags: format-specific quality flags to record as well.
        events: events with onsets on the file's clock in seconds (shifted like the samples).
        drop_mixed_clock: remove the few rows stamped on another clock (flagged) instead of failing.
        split_segments: one recording per contiguous forward segment instead of one with segments.
        time_zero_s: the file time (s) that becomes t = 0; default the first kept sample's.
        clock_origin_s: added to the recorded ``time_origin_s`` when the file's times are
            already relative to an origin it states separately.
        time_unit_s: seconds per unit of ``times``. The origin is subtracted in raw units
            first, so integer time stamps give exact offsets (0.009, not 0.0090000000000146).
    """
    t_raw = np.asarray(times, dtype=np.float64).reshape(-1)
    t = _to_seconds(t_raw, time_unit_s)
    data = np.asarray(data, dtype=np.float64).reshape(t.size, len(channels))
    if t.size == 0:
        raise RecordingError(f"{path}: no samples")
    name = Path(path).name
    if sampling_rate is None:
        rough = _rate_from(t, path)
        _, first = timestamp_clean(t, rough, source=name, lines=lines, drop_outliers=drop_mixed_clock)
        rate = first.observed_rate_hz if np.isfinite(first.observed_rate_hz) else rough
        rate_source = "observed: 1 / mean regular interval of the time stamps"
    else:
        rate, rate_source = float(sampling_rate), "declared"
    keep, report = timestamp_clean(t, rate, source=name, lines=lines, drop_outliers=drop_mixed_clock)
    kept = t[keep]
    kept = kept[np.isfinite(kept)]
    extent = float(np.ptp(kept)) if kept.size > 1 else 0.0
    fatal = [f for f in report.flags if f.code in _FATAL and f.severity == "error"]
    if extent > MAX_SPAN_S:  # e.g. mixed clocks kept on request: name the rows, not just the span
        fatal = [f for f in report.flags if f.severity == "error"] or fatal
        if not fatal:
            raise RecordingError(f"{path}: time stamps span {extent:.4g} s (more than {MAX_SPAN_S:g} s)")
    if fatal:
        raise RecordingError(f"{path}: {fatal[0].message.removeprefix(name + ': ')}")
    t_raw, data = t_raw[keep], data[keep]
    kept_lines = None if lines is None else np.asarray(lines)[keep]
    if t_raw.size == 0:
        raise RecordingError(f"{path}: no sample with a usable time stamp")
    origin_raw = float(t_raw[0]) if time_zero_s is None else float(time_zero_s) / time_unit_s
    rel = _to_seconds(t_raw - origin_raw, time_unit_s)
    origin = origin_raw * time_unit_s
    all_flags = [*flags, *report.flags]
    info = {
        **import_info,
        "time_origin_s": origin + clock_origin_s,
        "sampling_rate_source": rate_source,
        "rows_read": int(keep.size),
        "rows_kept": int(rel.size),
    }
    shifted = [Event(e.onset - origin, e.duration, e.trial_type, dict(e.extra)) for e in events]
    if not split_segments or len(report.segments) <= 1:
        md = _with_extra(metadata, info, all_flags, report)
        return [Recording(rel, data, list(channels), rate, md, shifted)]
    out = []
    for k, (a, b) in enumerate(report.segments):
        seg_t = rel[a:b]
        seg_info = {
            **info,
            "segment": k + 1,
            "n_segments": len(report.segments),
            "segment_first_line": None if kept_lines is None else int(kept_lines[a]),
        }
        md = metadata.replace(
            extra={
                **metadata.extra,
                IMPORT_KEY: seg_info,
                FLAGS_KEY: [f.to_dict() for f in all_flags],
                SEGMENTS_KEY: [[0, int(b - a)]],
            }
        )
        t0 = float(seg_t[0])
        seg_events = [
            Event(e.onset - t0, e.duration, e.trial_type, e.extra)
            for e in shifted
            if seg_t[0] <= e.onset <= seg_t[-1]
        ]
        out.append(Recording(seg_t - t0, data[a:b], list(channels), rate, md, seg_events))
    return out


def _to_seconds(values: np.ndarray, unit_s: float) -> np.ndarray:
    """``values`` x ``unit_s``, as a division when the unit is 1/integer s (ms: 36 / 1000 = 0.036
    exactly as a float, where 36 x 0.001 = 0.036000000000000004)."""
    inv = 1.0 / unit_s
    return values / round(inv) if unit_s < 1 and abs(inv - round(inv)) < 1e-9 * inv else values * unit_s


def _rate_from(t: np.ndarray, path: Path) -> float:
    finite = t[np.isfinite(t)]
    if finite.size > 2:
        # a first guess in file order: steps back and jumps to another clock are not regular
        # intervals, so they do not count; the final rate comes from the cleaned stamps
        rate = timestamp_rate(finite)
        if np.isfinite(rate) and rate > 0:
            return rate
    raise RecordingError(
        f"{path}: cannot tell the sampling rate from {finite.size} time stamps; give it explicitly"
    )


def _with_extra(
    metadata: Metadata, info: dict[str, Any], flags: list[QualityFlag], report: TimestampReport
) -> Metadata:
    return metadata.replace(
        extra={
            **metadata.extra,
            IMPORT_KEY: info,
            FLAGS_KEY: [f.to_dict() for f in flags],
            SEGMENTS_KEY: [[int(a), int(b)] for a, b in report.segments],
        }
    )


@dataclass(frozen=True)
class ExportResult:
    """What an exporter wrote.

    Attributes:
        path: the file written.
        n_samples: rows written.
        dropped: samples left out (no finite position), count.
        filled: columns the recording has no channel for, written as a constant (name -> value).
        nan_as_zero: columns with missing (NaN) values written as 0 (name -> count).
    """

    path: Path
    n_samples: int
    dropped: int = 0
    filled: dict[str, float] | None = None
    nan_as_zero: dict[str, int] | None = None


def load_rows(
    path: Path,
    lines: list[str],
    *,
    delimiter: str | None,
    dtype: type,
    n_cols: int,
    first_line: int,
    explain: Callable[[int, str], RecordingError | None],
) -> tuple[np.ndarray, np.ndarray]:
    """Parse numeric rows (blank lines skipped) with :func:`numpy.loadtxt`.

    Returns the (n, n_cols) array and the 1-based file line number of each row;
    ``lines`` are the file's lines from line ``first_line`` on. When parsing fails,
    ``explain(line_number, line)`` is asked for each non-blank line in turn and the first
    error it returns is raised (one line naming the file and line).
    """
    arr: np.ndarray
    if "" not in lines:  # fast path: no empty line (a C-level scan)
        try:
            arr = np.loadtxt(
                io.StringIO("\n".join(lines)), delimiter=delimiter, dtype=dtype, ndmin=2, comments=None
            )
            if arr.shape == (len(lines), n_cols):
                return arr, np.arange(first_line, first_line + len(lines), dtype=np.int64)
        except ValueError:
            pass
    numbered = [(first_line + i, ln) for i, ln in enumerate(lines) if ln.strip()]
    line_no = np.array([n for n, _ in numbered], dtype=np.int64)
    try:
        body = "\n".join(ln for _, ln in numbered)
        arr = np.loadtxt(io.StringIO(body), delimiter=delimiter, dtype=dtype, ndmin=2, comments=None)
        if arr.shape == (line_no.size, n_cols):
            return arr, line_no
    except ValueError:
        pass
    for lineno, ln in numbered:
        err = explain(lineno, ln)
        if err is not None:
            raise err
    raise line_error(path, int(line_no[0]) if line_no.size else first_line, "cannot parse the rows")


def line_error(path: Path, line: int, problem: str) -> RecordingError:
    """``path:line: problem`` as a :class:`RecordingError`."""
    return RecordingError(f"{path}:{line}: {problem}")
