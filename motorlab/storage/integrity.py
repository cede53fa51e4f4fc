"""Checks the BIDS motion reader runs on every file: units, values, sample count, time column, row order.

Each finding is a one-line :class:`~motorlab.errors.RecordingError` naming the file, or a
named :class:`~motorlab.signal.timestamps.QualityFlag` that the reader puts into
``Metadata.extra["quality_flags"]`` (and from there into every result row).

Flag codes added by the reader (severity in brackets; timestamp flags come from
:func:`motorlab.signal.timestamps.timestamp_quality`):

``unit_converted``        [info]     a channel stored in another unit (kgf, lbf, g, mm, rad…) was converted
``nonfinite_value``       [warning]  ``inf`` values in a data channel; they are read as missing (NaN)
``implausible_value``     [warning]  values beyond :data:`PLAUSIBLE_ABS` (``1e308`` N…); read as missing
``sample_count_mismatch`` [error]    more rows than the sidecar's ``MotorlabSampleCount`` (fewer: error)
``no_time_column``        [warning]  no LATENCY column: times are assumed to be n / SamplingFrequency
``duration_mismatch``     [error]    no LATENCY column, and the rows at SamplingFrequency do not span the
                                     sidecar's RecordingDuration (events would be misplaced)
``rate_mismatch``         [warning]  SamplingFrequency contradicts the time column
``clock_reset``           [warning]  time jumps back to about the start (device clock reset); segments
``rows_out_of_order``     [error]    many rows step back in time (shuffled or merged rows)
``duplicate_rows``        [warning]  the same row (time and values) appears more than once
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ParameterError, RecordingError
from ..recording import Channel
from ..signal.timestamps import GAP_FACTOR, RATE_TOLERANCE, QualityFlag, timestamp_quality
from .importers.channels import KNOWN_CHANNELS, time_factor, unit_factor

#: motorlab unit of each BIDS channel type (values of other units are converted into it)
TYPE_UNITS: dict[str, str] = {
    "ACCEL": "m/s^2",
    "GYRO": "deg/s",
    "MAGN": "uT",
    "POS": "cm",
    "ORNT": "deg",
    "JNTANG": "deg",
    "VEL": "m/s",
    "ANGACCEL": "deg/s^2",
}
#: largest plausible magnitude of a value in each motorlab unit; beyond it a value is a fault
#: (an overflow, a sentinel such as 1e308), not a measurement: 1e5 N is ten tonnes-force,
#: 1e5 m/s^2 ten thousand g, 1e5 deg/s some 280 revolutions per second.
PLAUSIBLE_ABS: dict[str, float] = {
    "N": 1e5,
    "m/s^2": 1e5,
    "deg/s": 1e5,
    "uT": 1e7,
    "cm": 1e7,
    "deg": 1e7,
    "m/s": 1e4,
    "deg/s^2": 1e8,
}
#: limit for units without an entry in :data:`PLAUSIBLE_ABS`
PLAUSIBLE_ABS_OTHER = 1e15
#: names of channels that must hold a force
FORCE_NAMES = frozenset({"force", "tip_force"})
#: quaternion components carry no unit
_UNITLESS = frozenset({"n/a", "1", ""})
#: bytes parsed at a time (the text of one chunk is the only transient copy)
CHUNK_BYTES = 1 << 20
#: a file with at least this many backwards steps that are also this fraction of intervals is shuffled
OUT_OF_ORDER_MIN_STEPS = 3
OUT_OF_ORDER_FRACTION = 0.01
#: a step back that lands within this many seconds of the first time stamp is a clock reset
CLOCK_RESET_NEAR_START_S = 1.0


@dataclass(frozen=True)
class ColumnPlan:
    """How one stored column becomes a recording column: scale into the motorlab unit, limit."""

    channel: Channel  # as the recording will describe it (motorlab unit)
    file_units: str
    scale: float
    limit: float


def _force_unit(unit: str) -> bool:
    from ..units import FORCE_UNITS_N

    return unit.strip().lower() in FORCE_UNITS_N


def column_plan(channels: Sequence[Channel], source: Path) -> tuple[list[ColumnPlan], list[QualityFlag]]:
    """The conversion of every column of ``_channels.tsv`` (``source``) into motorlab units.

    Raises a one-line :class:`RecordingError` naming the file and channel for a unit that
    cannot be a unit of the channel's type. Conversions are reported as ``unit_converted`` flags.
    """
    plans: list[ColumnPlan] = []
    flags: list[QualityFlag] = []
    for ch in channels:
        unit = (ch.units or "n/a").strip()
        what = f"{source}: channel {ch.name!r} ({ch.type})"
        target = unit
        try:
            if ch.type == "LATENCY":
                target, scale = "s", time_factor(unit, what)
            elif ch.name in FORCE_NAMES or (ch.type == "MISC" and _force_unit(unit)):
                if not _force_unit(unit):
                    raise RecordingError(f"{what}: unit {unit!r} is not a force unit (N, kgf, lbf, g, kN…)")
                target, scale = "N", unit_factor(unit, "N", what)
            elif ch.type == "ORNT" and ch.component.startswith("quat_"):
                if unit.lower() not in _UNITLESS:
                    raise RecordingError(f"{what}: a quaternion component has no unit, got {unit!r}")
                target, scale = unit, 1.0
            elif ch.type in TYPE_UNITS:
                known = KNOWN_CHANNELS.get(ch.name)
                target = known.units if known is not None and known.type == ch.type else TYPE_UNITS[ch.type]
                scale = unit_factor(unit, target, what)
            else:  # MISC of another quantity (pressure, pen state, counts…): kept as stored
                target, scale = unit, 1.0
        except ParameterError as exc:
            msg = str(exc).split(" (known:")[0]
            raise RecordingError(f"{msg}; fix the units column of the channel table") from None
        plans.append(
            ColumnPlan(
                Channel(ch.name, ch.type, target, ch.component, ch.tracked_point),
                unit,
                float(scale),
                PLAUSIBLE_ABS.get(target, PLAUSIBLE_ABS_OTHER),
            )
        )
        if target != unit:
            flags.append(
                QualityFlag(
                    "unit_converted",
                    "info",
                    f"{source.name}: channel {ch.name!r} stored in {unit}, read as {target} (x {scale:.10g})",
                )
            )
    return plans, flags


# ------------------------------------------------------------------------ parsing
def _printable(text: str, limit: int = 24) -> str:
    """A cell or line safe to show in a one-line message (no control bytes, short)."""
    clean = "".join(ch if ch.isprintable() and ch.isascii() else "?" for ch in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _locate_bad_line(text: str, path: Path, first_line: int, n_cols: int) -> RecordingError:
    for k, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        cells = line.rstrip("\r").split("\t")
        where = f"{path}: line {first_line + k}"
        if len(cells) != n_cols:
            return RecordingError(
                f"{where}: {len(cells)} columns, expected {n_cols} (from the channel table)"
            )
        for j, cell in enumerate(cells):
            try:
                float(cell)
            except ValueError:
                return RecordingError(f"{where}, column {j + 1}: {_printable(cell)!r} is not a number")
    return RecordingError(f"{path}: line {first_line}: malformed motion data")


def _parse_block(body: bytes, path: Path, first_line: int, n_cols: int) -> np.ndarray:
    if not body.isascii():
        at = next(i for i, b in enumerate(body) if b > 127)
        line = first_line + body.count(b"\n", 0, at)
        raise RecordingError(
            f"{path}: line {line}: byte 0x{body[at]:02x} is not text (a damaged or binary file)"
        )
    if b"n/a" in body:
        body = body.replace(b"n/a", b"nan")
    try:  # numpy's C parser on the bytes: twice as fast as on a decoded io.StringIO
        arr = np.loadtxt(io.BytesIO(body), delimiter="\t", ndmin=2, dtype=np.float64)
    except ValueError:
        raise _locate_bad_line(body.decode("ascii"), path, first_line, n_cols) from None
    if arr.size and arr.shape[1] != n_cols:
        raise RecordingError(f"{path}: {arr.shape[1]} columns but the channel table lists {n_cols} channels")
    return arr.reshape(-1, n_cols) if arr.size == 0 else arr


def iter_blocks(path: Path, n_cols: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[int, np.ndarray]]:
    """``(first line number, rows)`` of the headerless motion TSV, a few MB at a time.

    A torn last line (no newline: the writer died mid-line) is not parsed.
    """
    line = 1
    rest = b""
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            buf = rest + block if rest else block
            cut = buf.rfind(b"\n") + 1
            if cut == 0:
                rest = buf
                continue
            body, rest = buf[:cut], buf[cut:]
            arr = _parse_block(body, path, line, n_cols)
            yield line, arr
            line += body.count(b"\n")


def count_lines(path: Path) -> tuple[int, bool]:
    """Complete lines of a file and whether a torn (unterminated) last line follows them."""
    n, last = 0, b""
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK_BYTES):
            n += block.count(b"\n")
            last = block
    return n, bool(last) and not last.endswith(b"\n")


@dataclass
class ValueCheck:
    """Non-finite and implausible values met while converting blocks (per column: count, first row)."""

    plans: Sequence[ColumnPlan]
    nonfinite: dict[int, list[int]] = field(default_factory=dict)
    implausible: dict[int, list[int]] = field(default_factory=dict)

    def apply(self, arr: np.ndarray, row0: int) -> None:
        """Scale each column into its motorlab unit and blank (NaN) inf and implausible data values."""
        for j, plan in enumerate(self.plans):
            col = arr[:, j]
            inf = None if plan.channel.type == "LATENCY" else np.isinf(col)  # as stored
            if plan.scale != 1.0:
                with np.errstate(over="ignore"):  # 1e308 kgf: an overflow is an implausible value
                    col *= plan.scale
            if inf is None:
                continue  # time stamps are checked by timestamp_quality
            with np.errstate(invalid="ignore"):
                big = np.abs(col) > plan.limit
            big &= ~inf
            for mask, seen in ((inf, self.nonfinite), (big, self.implausible)):
                idx = np.flatnonzero(mask)
                if idx.size:
                    entry = seen.setdefault(j, [0, row0 + int(idx[0])])
                    entry[0] += int(idx.size)
                    col[idx] = np.nan

    def flags(self, source: str) -> list[QualityFlag]:
        out = []
        for code, seen, what in (
            ("nonfinite_value", self.nonfinite, "infinite"),
            ("implausible_value", self.implausible, "implausible"),
        ):
            for j, (count, row) in sorted(seen.items()):
                ch = self.plans[j].channel
                limit = "" if code == "nonfinite_value" else f" (|x| > {self.plans[j].limit:g} {ch.units})"
                out.append(
                    QualityFlag(
                        code,
                        "warning",
                        f"{source}: line {row + 1}: {count} {what} value(s) of channel {ch.name!r}{limit} "
                        "read as missing",
                        row,
                        count,
                    )
                )
        return out


# ------------------------------------------------------------------------ time column
@dataclass(frozen=True)
class TimeCheck:
    """What the time column showed: flags, the rows kept (None = all of them), forward segments."""

    flags: tuple[QualityFlag, ...]
    kept_rows: np.ndarray | None
    segments: tuple[tuple[int, int], ...]


def check_time(t: np.ndarray, arr: np.ndarray, fs: float, source: str) -> TimeCheck:
    """Check the LATENCY column ``t`` (s, ``arr[:, 0]``) of the rows ``arr`` against the nominal rate ``fs`` (Hz).

    The common case (finite, strictly increasing) costs one difference array; otherwise
    :func:`~motorlab.signal.timestamps.timestamp_quality` names what is wrong, rows with
    non-finite stamps or on another clock are dropped (flagged with their count), and clock
    resets, shuffled and duplicated rows get their own flags.
    """
    n = t.size
    if n < 2:
        return TimeCheck((), None, ())
    d = np.diff(t)
    if bool(np.all(d > 0)):  # False with NaN too
        # the observed rate as timestamp_rate computes it (1 / mean regular interval), on d
        regular = d <= GAP_FACTOR * float(np.median(d))
        n_reg = int(np.count_nonzero(regular))
        observed = 1.0 / float(np.mean(d, where=regular)) if n_reg >= 2 else float("nan")
        del d, regular
        flags: list[QualityFlag] = []
        if np.isfinite(observed) and abs(observed / fs - 1.0) > RATE_TOLERANCE:
            flags.append(
                QualityFlag(
                    "rate_mismatch",
                    "warning",
                    f"{source}: SamplingFrequency {fs:.6g} Hz contradicts the time column "
                    f"(observed {observed:.6g} Hz)",
                )
            )
        return TimeCheck(tuple(flags), None, ((0, n),))
    report = timestamp_quality(t, fs, source=source, lines=None)
    flags = [f for f in report.flags if f.code not in ("gap", "rate_change", "grid_unjustified")]
    kept_rows = None
    if report.outlier_indices:
        keep = report.keep_mask()
        flags = [
            QualityFlag(f.code, "warning", f"{f.message}; {f.count} row(s) dropped", f.index, f.count)
            if f.code in ("mixed_clock", "nonfinite_timestamp")
            else f
            for f in flags
        ]
        arr = kept_rows = arr[keep]
        t = arr[:, 0]
        report = timestamp_quality(t, fs, source=source, lines=None)
        flags += [f for f in report.flags if f.code not in {g.code for g in flags} | {"gap", "rate_change"}]
    segments = report.segments
    flags += _order_flags(t, arr, segments, source)
    return TimeCheck(tuple(flags), kept_rows, tuple(segments))


def _order_flags(
    t: np.ndarray, arr: np.ndarray, segments: Sequence[tuple[int, int]], source: str
) -> list[QualityFlag]:
    out: list[QualityFlag] = []
    starts = [a for a, _ in segments[1:]]
    n_back = len(starts)
    if n_back >= OUT_OF_ORDER_MIN_STEPS and n_back >= OUT_OF_ORDER_FRACTION * max(t.size - 1, 1):
        out.append(
            QualityFlag(
                "rows_out_of_order",
                "error",
                f"{source}: line {starts[0] + 1}: {n_back} of {t.size - 1} rows step back in time "
                "(rows shuffled or merged); sort or re-export the file",
                starts[0],
                n_back,
            )
        )
    else:
        t0 = float(t[segments[0][0]]) if segments else float(t[0])
        resets = [
            a for a in starts if float(t[a]) <= t0 + CLOCK_RESET_NEAR_START_S and float(t[a - 1]) > t[a]
        ]
        if resets:
            a = resets[0]
            out.append(
                QualityFlag(
                    "clock_reset",
                    "warning",
                    f"{source}: line {a + 1}: time jumps back from {float(t[a - 1]):.6g} s to {float(t[a]):.6g} s "
                    f"(device clock reset); analysed as {len(segments)} separate segments",
                    a,
                    len(resets),
                )
            )
    # duplicated rows: equal time stamps whose values are equal too (anywhere in the file)
    order = np.argsort(t, kind="stable")
    same = np.flatnonzero(np.diff(t[order]) == 0)
    if same.size:
        ia, ib = order[same], order[same + 1]
        ra, rb = arr[ia], arr[ib]
        equal = np.all((ra == rb) | (np.isnan(ra) & np.isnan(rb)), axis=1)
        if equal.any():
            first = int(min(ia[equal].min(), ib[equal].min()))
            later = int(np.max(np.maximum(ia[equal], ib[equal])))
            out.append(
                QualityFlag(
                    "duplicate_rows",
                    "warning",
                    f"{source}: line {later + 1}: {int(equal.sum())} row(s) repeat an earlier row "
                    f"(same time and values, first at line {first + 1})",
                    later,
                    int(equal.sum()),
                )
            )
    return out


def merge_flags(stored: Sequence[dict | QualityFlag], new: Sequence[QualityFlag]) -> list[dict]:
    """Stored flags (from the sidecar) plus the new ones whose code is not stored yet, as dicts."""
    out = [f.to_dict() if isinstance(f, QualityFlag) else dict(f) for f in stored]
    codes = {str(f.get("code")) for f in out}
    out += [f.to_dict() for f in new if f.code not in codes]
    return out
