"""The BIDS reader on bad files: each kind of bad input is a one-line error naming the file,
or a named quality flag that reaches the analysis results (docs/reliability_storage.md).

Every case writes a real recording with :class:`RecordingWriter`, damages its files on disk
the way a copy, an editor, a foreign tool or a crashed device would, and reads it back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from motorlab import Channel, Event, Metadata, Recording
from motorlab.analysis.batch import analyze_batch
from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.errors import MotorlabWarning, RecordingError
from motorlab.storage.bids import (
    COUNT_KEY,
    RecordingWriter,
    iter_motion_rows,
    read_events,
    read_recording,
    recover,
    write_recording,
)
from motorlab.units import FORCE_UNITS_N, KGF_N, LBF_N, STANDARD_GRAVITY

FS = 100.0
N = 2000  # 20 s
DOC = Path(__file__).resolve().parent.parent / "docs" / "reliability_storage.md"


def _grip_recording() -> Recording:
    t = np.arange(N) / FS
    force = np.zeros(N)
    for k, start in enumerate((2.0, 8.0, 14.0)):
        m = (t >= start) & (t < start + 3.0)
        force[m] = (200.0 + 10 * k) * np.sin(np.pi * (t[m] - start) / 3.0)
    force += 0.5 * np.sin(2 * np.pi * 0.3 * t)
    acc = np.column_stack([0.1 * np.sin(2 * np.pi * 5 * t), np.full(N, STANDARD_GRAVITY)])
    md = Metadata("P001", "01", "grip", "gripdyn", hand="right")
    events = [
        Event(s, 3.0, "trial", {"trial": k + 1, "hand": "right", "status": "valid"})
        for k, s in enumerate((2.0, 8.0, 14.0))
    ]
    channels = [
        Channel("force", "MISC", "N", tracked_point="handle"),
        Channel("acc_x", "ACCEL", "m/s^2", "x", "handle"),
        Channel("acc_z", "ACCEL", "m/s^2", "z", "handle"),
    ]
    return Recording(t, np.column_stack([force, acc]), channels, FS, md, events)


# --------------------------------------------------------------------- file surgery
@dataclass
class Files:
    motion: Path

    def sibling(self, suffix: str) -> Path:
        return self.motion.with_name(self.motion.name.replace("_motion.tsv", suffix))

    @property
    def side(self) -> Path:
        return self.sibling("_motion.json")

    @property
    def chans(self) -> Path:
        return self.sibling("_channels.tsv")

    @property
    def events(self) -> Path:
        return self.sibling("_events.tsv")

    def rows(self) -> list[str]:
        return self.motion.read_text().splitlines(keepends=True)

    def set_rows(self, rows: list[str]) -> None:
        self.motion.write_text("".join(rows))

    def set_cell(self, row: int, col: int, value: str) -> None:
        rows = self.rows()
        cells = rows[row].rstrip("\n").split("\t")
        cells[col] = value
        rows[row] = "\t".join(cells) + "\n"
        self.set_rows(rows)

    def set_times(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        rows = self.rows()
        t = np.array([float(r.split("\t", 1)[0]) for r in rows])
        t = fn(t)
        self.set_rows([f"{float(t[i])!r}\t{r.split(chr(9), 1)[1]}" for i, r in enumerate(rows)])

    def sidecar(self) -> dict:
        return json.loads(self.side.read_text())

    def set_sidecar(self, **changes: object) -> None:
        d = self.sidecar()
        d.update(changes)
        self.side.write_text(json.dumps(d))

    def set_unit(self, channel: str, unit: str) -> None:
        lines = self.chans.read_text().splitlines()
        out = [lines[0]]
        for ln in lines[1:]:
            cells = ln.split("\t")
            if cells[0] == channel:
                cells[4] = unit
            out.append("\t".join(cells))
        self.chans.write_text("\n".join(out) + "\n")

    def set_chan(self, channel: str, col: int, value: str) -> None:
        lines = self.chans.read_text().splitlines()
        out = [lines[0]]
        for ln in lines[1:]:
            cells = ln.split("\t")
            if cells[0] == channel:
                cells[col] = value
            out.append("\t".join(cells))
        self.chans.write_text("\n".join(out) + "\n")

    def inject(self, path: Path, at: int, data: bytes) -> None:
        raw = path.read_bytes()
        path.write_bytes(raw[:at] + data + raw[at:])


def _drop_latency(f: Files) -> None:
    f.set_rows([r.split("\t", 1)[1] for r in f.rows()])
    lines = f.chans.read_text().splitlines()
    f.chans.write_text("\n".join([lines[0], *lines[2:]]) + "\n")


def _swap_rows(f: Files) -> None:
    rows = f.rows()
    rows[500], rows[501] = rows[501], rows[500]
    f.set_rows(rows)


def _shuffle(f: Files) -> None:
    rows = f.rows()
    order = np.random.default_rng(1).permutation(len(rows))
    f.set_rows([rows[i] for i in order])


def _sort_back_in_time(f: Files) -> None:  # rows of seconds 10..20 then 0..10 re-stamped: a clock reset
    f.set_times(lambda t: np.where(np.arange(t.size) >= 1200, t - t[1200] + 0.0, t))


def _duplicate_block(f: Files) -> None:
    rows = f.rows()
    f.set_rows(rows[:800] + rows[700:800] + rows[800:])


def _duplicate_row(f: Files) -> None:
    rows = f.rows()
    f.set_rows(rows[:301] + [rows[300]] + rows[301:])


def _dup_time_other_values(f: Files) -> None:
    f.set_times(lambda t: np.where(np.arange(t.size) == 401, t[400], t))


def _truncate_half(f: Files) -> None:
    f.set_rows(f.rows()[: N // 2])


def _torn_complete(f: Files) -> None:
    raw = f.motion.read_bytes()
    f.motion.write_bytes(raw[: len(raw) - 7])


def _append_rows(f: Files) -> None:
    rows = f.rows()
    last = float(rows[-1].split("\t", 1)[0])
    extra = [f"{last + (k + 1) / FS!r}\t0\t0\t9.8\n" for k in range(50)]
    f.set_rows(rows + extra)


def _other_clock(f: Files) -> None:  # half the rows stamped in Unix-epoch seconds
    f.set_times(lambda t: np.where(np.arange(t.size) >= N // 2, t + 1.7e9, t))


# --------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # what is wrong, for the docs table
    damage: Callable[[Files], None]
    error: str = ""  # regex the one-line error must match (the file name is checked separately)
    names: str = "_motion.tsv"  # suffix of the file the error must name
    flag: str = ""  # quality flag code expected in the results
    check: Callable[[Recording], None] | None = None


def _force_scaled(factor: float) -> Callable[[Recording], None]:
    def check(rec: Recording) -> None:
        ref = _grip_recording().channel("force")
        np.testing.assert_allclose(rec.channel("force"), np.round(ref, 12) * factor, rtol=1e-12, atol=1e-9)
        assert next(c for c in rec.channels if c.name == "force").units == "N"

    return check


def _nan_at(row: int, channel: str) -> Callable[[Recording], None]:
    def check(rec: Recording) -> None:
        x = rec.channel(channel)
        assert np.isnan(x[row]) and np.isfinite(np.delete(x, row)).all()

    return check


def _segments(n: int) -> Callable[[Recording], None]:
    def check(rec: Recording) -> None:
        assert len(rec.timestamp_segments) == n, rec.timestamp_segments

    return check


def _rows(n: int) -> Callable[[Recording], None]:
    def check(rec: Recording) -> None:
        assert rec.n_samples == n

    return check


CASES = [
    # units of _channels.tsv
    Case("unit_kgf", "force column in kgf", lambda f: f.set_unit("force", "kgf"), flag="unit_converted",
         check=_force_scaled(KGF_N)),
    Case("unit_lbf", "force column in lbf", lambda f: f.set_unit("force", "lbf"), flag="unit_converted",
         check=_force_scaled(LBF_N)),
    Case("unit_gf", "force column in g (gram-force)", lambda f: f.set_unit("force", "g"), flag="unit_converted",
         check=_force_scaled(FORCE_UNITS_N["g"])),
    Case("unit_mn", "force column in mN", lambda f: f.set_unit("force", "mN"), flag="unit_converted",
         check=_force_scaled(1e-3)),
    Case("unit_force_unknown", "force column in an unknown unit (furlong)",
         lambda f: f.set_unit("force", "furlong"), error=r"channel 'force' \(MISC\): unit 'furlong' is not a force unit",
         names="_channels.tsv"),
    Case("unit_force_not_force", "force column in a non-force unit (V)", lambda f: f.set_unit("force", "V"),
         error=r"channel 'force'.*'V' is not a force unit", names="_channels.tsv"),
    Case("unit_misc_other", "a MISC column of another name in lbf (read as a force)",
         lambda f: (f.set_chan("force", 0, "load"), f.set_unit("load", "lbf")), flag="unit_converted",
         check=lambda rec: np.testing.assert_allclose(
             rec.channel("load").max(), _grip_recording().channel("force").max() * LBF_N, rtol=1e-9)),
    Case("unit_accel_g", "acceleration in g", lambda f: f.set_unit("acc_z", "g"), flag="unit_converted",
         check=lambda rec: np.testing.assert_allclose(rec.channel("acc_z"), STANDARD_GRAVITY**2)),
    Case("unit_accel_unknown", "acceleration in an unknown unit (parsec)", lambda f: f.set_unit("acc_x", "parsec"),
         error=r"channel 'acc_x' \(ACCEL\): unit 'parsec' cannot be converted to m/s\^2", names="_channels.tsv"),
    Case("unit_accel_as_deg", "acceleration labelled deg/s", lambda f: f.set_unit("acc_x", "deg/s"),
         error=r"channel 'acc_x' \(ACCEL\): unit 'deg/s' cannot be converted", names="_channels.tsv"),
    Case("unit_latency_ms", "time column in ms", lambda f: (f.set_unit("latency", "ms"),
                                                            f.set_times(lambda t: t * 1000.0)),
         check=lambda rec: np.testing.assert_allclose(rec.timestamps, np.arange(N) / FS, atol=1e-12),
         flag="unit_converted"),
    Case("unit_latency_unknown", "time column in an unknown unit (fortnight)",
         lambda f: f.set_unit("latency", "fortnight"), error=r"channel 'latency' \(LATENCY\).*'fortnight' unknown",
         names="_channels.tsv"),
    Case("unit_quat_deg", "quaternion component with a unit", lambda f: (
        f.set_chan("acc_x", 1, "quat_w"), f.set_chan("acc_x", 2, "ORNT"), f.set_unit("acc_x", "deg")),
         error=r"channel 'acc_x' \(ORNT\): a quaternion component has no unit", names="_channels.tsv"),
    Case("unit_type_unknown", "channel type that BIDS does not define (FORCE)",
         lambda f: f.set_chan("force", 2, "FORCE"), error=r"invalid channel table.*'FORCE' is not a BIDS motion type",
         names="_channels.tsv"),
    Case("unit_case", "force unit in capitals (KGF)", lambda f: f.set_unit("force", "KGF"), flag="unit_converted",
         check=_force_scaled(KGF_N)),
    Case("unit_gyro_rad", "angular rate in rad/s", lambda f: (f.set_chan("acc_x", 2, "GYRO"), f.set_chan(
        "acc_x", 0, "gyr_x"), f.set_unit("gyr_x", "rad/s")), flag="unit_converted",
         check=lambda rec: np.testing.assert_allclose(
             rec.channel("gyr_x"), np.rad2deg(_grip_recording().channel("acc_x")), rtol=1e-12, atol=1e-12)),
    Case("unit_pos_mm", "position in mm (as the evdev tablet stores it; analysis works in cm)", lambda f: (f.set_chan("acc_x", 2, "POS"), f.set_chan(
        "acc_x", 0, "pos_x"), f.set_unit("pos_x", "mm")), flag="unit_converted",
         check=lambda rec: np.testing.assert_allclose(
             rec.channel("pos_x"), _grip_recording().channel("acc_x") / 10, rtol=1e-12, atol=1e-15)),
    # values
    Case("value_inf", "inf in a force sample", lambda f: f.set_cell(250, 1, "inf"), flag="nonfinite_value",
         check=_nan_at(250, "force")),
    Case("value_minus_inf", "-inf in an acceleration sample", lambda f: f.set_cell(40, 2, "-inf"),
         flag="nonfinite_value", check=_nan_at(40, "acc_x")),
    Case("value_overflow", "a force of 1e999 (overflows to inf)", lambda f: f.set_cell(251, 1, "1e999"),
         flag="nonfinite_value", check=_nan_at(251, "force")),
    Case("value_1e308", "a force of 1e308", lambda f: f.set_cell(252, 1, "1e308"), flag="implausible_value",
         check=_nan_at(252, "force")),
    Case("value_absurd_accel", "an acceleration of -3e9 m/s^2", lambda f: f.set_cell(253, 3, "-3e9"),
         flag="implausible_value", check=_nan_at(253, "acc_z")),
    Case("value_absurd_after_unit", "1e5 kgf (plausible number, absurd force)",
         lambda f: (f.set_unit("force", "kgf"), f.set_cell(254, 1, "1e5")), flag="implausible_value",
         check=_nan_at(254, "force")),
    Case("value_overflow_after_unit", "1e308 kgf (overflows when converted to N)",
         lambda f: (f.set_unit("force", "kgf"), f.set_cell(255, 1, "1e308")), flag="implausible_value",
         check=_nan_at(255, "force")),
    # sample count and completeness
    Case("truncated_half", "a finalised file cut to half its rows", _truncate_half,
         error=rf"truncated: {N // 2} rows but {N} when the recording was finalised \({COUNT_KEY}"),
    Case("truncated_torn", "a finalised file cut mid-line", _torn_complete,
         error=rf"truncated: {N - 1} rows but {N}"),
    Case("rows_appended", "rows appended after finalising", _append_rows, flag="sample_count_mismatch",
         check=_rows(N + 50)),
    # the time column
    Case("rate_contradicts", "SamplingFrequency twice the time column's rate",
         lambda f: f.set_sidecar(SamplingFrequency=200.0), flag="rate_mismatch"),
    Case("rate_contradicts_low", "SamplingFrequency a fifth of the time column's rate",
         lambda f: f.set_sidecar(SamplingFrequency=20.0), flag="rate_mismatch"),
    Case("no_time_column", "no LATENCY time column", _drop_latency, flag="no_time_column",
         check=lambda rec: np.testing.assert_allclose(rec.timestamps[-1], (N - 1) / FS)),
    Case("no_time_column_wrong_rate", "no LATENCY column and SamplingFrequency contradicting RecordingDuration",
         lambda f: (_drop_latency(f), f.set_sidecar(SamplingFrequency=50.0)), flag="duration_mismatch"),
    Case("clock_reset", "device clock reset (time jumps back to 0)", _sort_back_in_time, flag="clock_reset",
         check=_segments(2)),
    Case("rows_shuffled", "rows shuffled", _shuffle, flag="rows_out_of_order"),
    Case("rows_swapped", "two neighbouring rows swapped", _swap_rows, flag="backwards_step", check=_segments(2)),
    Case("rows_duplicated_block", "a block of 100 rows repeated", _duplicate_block, flag="duplicate_rows"),
    Case("row_duplicated", "one row repeated", _duplicate_row, flag="duplicate_rows", check=_rows(N + 1)),
    Case("time_duplicated", "two rows with the same time, different values", _dup_time_other_values,
         flag="duplicate_timestamp"),
    Case("time_nan", "a time stamp n/a", lambda f: f.set_cell(600, 0, "n/a"), flag="nonfinite_timestamp",
         check=_rows(N - 1)),
    Case("time_inf", "a time stamp inf", lambda f: f.set_cell(601, 0, "inf"), flag="nonfinite_timestamp",
         check=_rows(N - 1)),
    Case("time_1e308", "a time stamp 1e308", lambda f: f.set_cell(602, 0, "1e308"), flag="mixed_clock",
         check=_rows(N - 1)),
    Case("time_other_clock", "half the rows stamped on another clock (Unix epoch)", _other_clock,
         error=r"timestamps span .* rows on different clocks"),
    # messages: encoding and damaged files
    Case("motion_missing", "_motion.tsv missing (sidecars only)", lambda f: f.motion.unlink(),
         error=r"file not found"),
    Case("motion_empty", "a finalised _motion.tsv emptied", lambda f: f.motion.write_bytes(b""),
         error=rf"truncated: 0 rows but {N}"),
    Case("bad_byte_channels", "a 0xff byte in _channels.tsv", lambda f: f.inject(f.chans, 20, b"\xff"),
         error=r"line 1: byte 0xff is not UTF-8 text", names="_channels.tsv"),
    Case("bad_byte_sidecar", "a 0xfe byte in _motion.json", lambda f: f.inject(f.side, 30, b"\xfe"),
         error=r"byte 0xfe is not UTF-8 text", names="_motion.json"),
    Case("bad_byte_events", "a 0xc3 byte (cut UTF-8 sequence) in _events.tsv",
         lambda f: f.inject(f.events, 5, b"\xc3"), error=r"line 1: byte 0xc3 is not UTF-8 text", names="_events.tsv"),
    Case("events_bad_onset", "an events row whose onset is a word", lambda f: f.events.write_text(
        f.events.read_text().replace("\n8.0\t", "\nsoon\t")), error=r"line 3: onset/duration 'soon / 3.0' is not a number",
         names="_events.tsv"),
    Case("events_negative_duration", "an events row with a negative duration", lambda f: f.events.write_text(
        f.events.read_text().replace("\n8.0\t3.0\t", "\n8.0\t-3.0\t")),
         error=r"line 3: onset 8.0 s, duration -3.0 s: .*duration finite and not negative", names="_events.tsv"),
    Case("events_infinite_duration", "an events row with an infinite duration", lambda f: f.events.write_text(
        f.events.read_text().replace("\n8.0\t3.0\t", "\n8.0\tinf\t")),
         error=r"line 3: onset 8.0 s, duration inf s", names="_events.tsv"),
    Case("nul_channels", "NUL bytes in _channels.tsv", lambda f: f.inject(f.chans, 10, b"\x00\x00"),
         error=r"contains NUL bytes", names="_channels.tsv"),
    Case("binary_motion", "binary garbage in _motion.tsv", lambda f: f.inject(f.motion, 3000, bytes(range(128, 160))),
         error=r"line \d+: byte 0x80 is not text"),
    Case("text_cell", "a word in a number cell", lambda f: f.set_cell(70, 1, "heavy"),
         error=r"line 71, column 2: 'heavy' is not a number"),
    Case("control_chars_cell", "control characters in a number cell", lambda f: f.set_cell(71, 1, "\x01\x1b[2J"),
         error=r"line 72, column 2: '\?\?\[2J' is not a number"),
    Case("short_line", "a line with a missing column", lambda f: f.set_rows(
        [*f.rows()[:80], "0.805\t1.0\n", *f.rows()[81:]]), error=r"line 81: 2 columns, expected 4"),
    Case("extra_column", "every line with one column more than _channels.tsv",
         lambda f: f.set_rows([r.rstrip("\n") + "\t0\n" for r in f.rows()]),
         error=r"5 columns but the channel table lists 4 channels"),
    # messages: sidecar content
    Case("fs_nan", "SamplingFrequency NaN", lambda f: f.side.write_text(
        f.side.read_text().replace('"SamplingFrequency": 100.0', '"SamplingFrequency": NaN')),
         error=r"SamplingFrequency must be a positive number of Hz, got nan", names="_motion.json"),
    Case("fs_text", "SamplingFrequency a word", lambda f: f.set_sidecar(SamplingFrequency="fast"),
         error=r"SamplingFrequency must be a positive number of Hz, got \"fast\"", names="_motion.json"),
    Case("fs_zero", "SamplingFrequency 0", lambda f: f.set_sidecar(SamplingFrequency=0),
         error=r"SamplingFrequency must be a positive number of Hz, got 0", names="_motion.json"),
    Case("fs_negative", "SamplingFrequency negative", lambda f: f.set_sidecar(SamplingFrequency=-100.0),
         error=r"got -100", names="_motion.json"),
    Case("fs_missing", "SamplingFrequency missing", lambda f: f.side.write_text(
        json.dumps({k: v for k, v in f.sidecar().items() if k != "SamplingFrequency"})),
         error=r"SamplingFrequency missing", names="_motion.json"),
    Case("sidecar_not_json", "_motion.json not JSON", lambda f: f.side.write_text("{'TaskName': grip"),
         error=r"not valid JSON \(Expecting property name", names="_motion.json"),
    Case("sidecar_array", "_motion.json a JSON array", lambda f: f.side.write_text("[1, 2]"),
         error=r"not a JSON object", names="_motion.json"),
    Case("metadata_list", "MotorlabMetadata a list", lambda f: f.set_sidecar(MotorlabMetadata=[["a", 1]]),
         error=r"MotorlabMetadata must be a JSON object", names="_motion.json"),
    Case("metadata_unknown_key", "MotorlabMetadata with an unknown field",
         lambda f: f.set_sidecar(MotorlabMetadata={**f.sidecar()["MotorlabMetadata"], "colour": "red"}),
         error=r"invalid MotorlabMetadata .*colour", names="_motion.json"),
    Case("metadata_name", "a participant ID that looks like a name",
         lambda f: f.set_sidecar(MotorlabMetadata={**f.sidecar()["MotorlabMetadata"], "participant": "JaneDoe"}),
         error=r"invalid MotorlabMetadata .*looks like a name", names="_motion.json"),
    Case("channels_missing", "_channels.tsv missing", lambda f: f.chans.unlink(),
         error=r"sidecar missing", names="_channels.tsv"),
    Case("sidecar_missing", "_motion.json missing", lambda f: f.side.unlink(),
         error=r"sidecar missing", names="_motion.json"),
    Case("channels_no_units", "_channels.tsv without a units column", lambda f: f.chans.write_text(
        "\n".join("\t".join(ln.split("\t")[:4]) for ln in f.chans.read_text().splitlines()) + "\n"),
         error=r"missing column\(s\) units", names="_channels.tsv"),
    Case("channels_empty", "_channels.tsv with a header only", lambda f: f.chans.write_text(
        f.chans.read_text().splitlines()[0] + "\n"), error=r"no channels", names="_channels.tsv"),
    Case("channels_unreadable", "_channels.tsv is a folder", lambda f: (f.chans.unlink(), f.chans.mkdir()),
         error=r"cannot read", names="_channels.tsv"),
]  # fmt: skip


def _write(tmp_path: Path) -> Files:
    return Files(write_recording(_grip_recording(), tmp_path / "ds"))


def _check_message(msg: str, case: Case, f: Files) -> None:
    assert "\n" not in msg and len(msg) < 400, msg
    assert "\\x" not in msg and "\\u" not in msg and all(ch.isprintable() for ch in msg), msg
    named = f.sibling(case.names)
    assert str(named) in msg, f"{msg!r} does not name {named.name}"
    assert re.search(case.error, msg), msg


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    f = _write(tmp_path)
    case.damage(f)
    if case.error:
        with pytest.raises(RecordingError) as info:
            read_recording(f.motion)
        _check_message(str(info.value), case, f)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a complete file reads without warnings
        rec = read_recording(f.motion)
    codes = [fl.code for fl in rec.quality_flags]
    assert case.flag in codes, codes
    flag = next(fl for fl in rec.quality_flags if fl.code == case.flag)
    assert f.motion.name in flag.message or f.chans.name in flag.message, flag.message
    assert "\n" not in flag.message
    if case.check:
        case.check(rec)
    assert np.isfinite(rec.data[~np.isnan(rec.data)]).all()
    # the flag travels into every result row
    if case.flag != "rows_out_of_order":
        rows = analyze_recording(rec).to_rows()
        assert rows and all(case.flag in r["quality_flags"].split(";") for r in rows)


def test_clean_file_has_no_flags_and_identical_arrays(tmp_path: Path) -> None:
    rec = _grip_recording()
    f = _write(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = read_recording(f.motion)
    assert back.quality_flags == ()
    np.testing.assert_array_equal(back.timestamps, rec.timestamps)
    np.testing.assert_array_equal(back.data, rec.data)
    plain = np.loadtxt(f.motion, delimiter="\t")
    np.testing.assert_array_equal(np.column_stack([back.timestamps, back.data]), plain)


def test_windows_line_ends_and_bom_read_identically(tmp_path: Path) -> None:
    f = _write(tmp_path)
    f.motion.write_bytes(f.motion.read_bytes().replace(b"\n", b"\r\n"))
    f.chans.write_bytes(b"\xef\xbb\xbf" + f.chans.read_bytes().replace(b"\n", b"\r\n"))
    back = read_recording(f.motion)
    rec = _grip_recording()
    np.testing.assert_array_equal(back.data, rec.data)
    assert back.channel_names == rec.channel_names and back.quality_flags == ()


def test_chunked_parse_is_identical_across_block_boundaries(tmp_path: Path, monkeypatch) -> None:
    """Blocks of 1 kB cut lines everywhere; the array equals numpy's parse of the whole file."""
    from motorlab.storage import integrity

    f = _write(tmp_path)
    f.set_cell(33, 2, "n/a")
    monkeypatch.setattr(integrity, "CHUNK_BYTES", 1000)
    back = read_recording(f.motion)
    text = f.motion.read_text().replace("n/a", "nan")
    plain = np.loadtxt(text.splitlines(), delimiter="\t")
    np.testing.assert_array_equal(np.column_stack([back.timestamps, back.data]), plain)
    assert np.isnan(back.data[33, 1])


def test_streaming_rows_convert_like_the_reader(tmp_path: Path) -> None:
    f = _write(tmp_path)
    f.set_unit("force", "kgf")
    f.set_cell(10, 1, "1e308")
    whole = read_recording(f.motion)
    with pytest.warns(
        MotorlabWarning, match=r"implausible_value: .*line 11: 1 implausible value\(s\) of channel 'force'"
    ):
        streamed = np.concatenate(list(iter_motion_rows(f.motion, chunk_rows=50)))
    np.testing.assert_array_equal(streamed[:, 1:], whole.data)
    assert np.isnan(streamed[10, 1])


def test_unfinalised_file_is_read_with_a_warning_not_a_count_error(tmp_path: Path) -> None:
    rec = _grip_recording()
    w = RecordingWriter(tmp_path, rec.metadata, rec.channels, FS)
    w.append(rec.timestamps[:700], rec.data[:700])
    w._data.write("7.00\t1.")  # torn line: the process died mid-write
    w._data.flush()
    with pytest.warns(UserWarning, match="not finalised.*torn last line"):
        back = read_recording(w.path)
    assert back.n_samples == 700
    path, kept = recover(w.path)
    side = json.loads(path.with_name(path.name.replace("_motion.tsv", "_motion.json")).read_text())
    assert kept == 700 and side[COUNT_KEY] == 700 and side["MotorlabStatus"] == "recovered"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_recording(path).n_samples == 700


def test_status_of_a_damaged_sidecar_is_unknown(tmp_path: Path) -> None:
    from motorlab.storage.bids import recording_status

    f = _write(tmp_path)
    assert recording_status(f.motion) == "complete"
    f.inject(f.side, 3, b"\xff")
    assert recording_status(f.motion) == "unknown"
    f.side.write_text("[1]")
    assert recording_status(f.motion) == "unknown"


def test_sample_count_written_at_close(tmp_path: Path) -> None:
    f = _write(tmp_path)
    assert f.sidecar()[COUNT_KEY] == N


# --------------------------------------------------------------------- the CLI and the batch
@pytest.mark.parametrize("case_id", ["unit_force_unknown", "bad_byte_channels", "binary_motion", "fs_nan",
                                     "truncated_half", "control_chars_cell"])  # fmt: skip
def test_cli_prints_one_line(case_id: str, tmp_path: Path, capsys) -> None:
    from motorlab.cli.main import main

    case = next(c for c in CASES if c.id == case_id)
    f = _write(tmp_path)
    case.damage(f)
    code = main(["analyze", str(f.motion)])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert code != 0 and len(err) == 1, err
    assert "Traceback" not in err[0] and str(f.sibling(case.names)) in err[0]
    assert re.search(case.error, err[0]), err[0]


def test_batch_lists_each_bad_file_and_analyses_the_rest(tmp_path: Path) -> None:
    picked = ["unit_kgf", "value_1e308", "truncated_half", "bad_byte_channels", "fs_nan", "clock_reset"]
    for i, cid in enumerate(picked):
        case = next(c for c in CASES if c.id == cid)
        rec = _grip_recording()
        rec.metadata = rec.metadata.replace(participant=f"P{i + 10:03d}")
        f = Files(write_recording(rec, tmp_path / "ds"))
        case.damage(f)
    res = analyze_batch(tmp_path / "ds", jobs=1)
    failed = {Path(e["recording"]).name.split("_")[0] for e in res.errors}
    assert failed == {"sub-P012", "sub-P013", "sub-P014"}, res.errors
    for e in res.errors:
        assert "\n" not in e["message"] and "Traceback" not in e["message"]
    done = {r["participant"] for r in res.rows}
    assert done == {"P010", "P011", "P015"}
    flags = {r["participant"]: r["quality_flags"] for r in res.rows}
    assert "unit_converted" in flags["P010"] and "implausible_value" in flags["P011"]
    assert "clock_reset" in flags["P015"]


# --------------------------------------------------------------------- BIDS validity of what is written
def test_events_file_ends_in_onset_order_with_a_description(tmp_path: Path) -> None:
    rec = _grip_recording()
    w = RecordingWriter(tmp_path, rec.metadata, rec.channels, FS)
    w.append(rec.timestamps, rec.data)
    # the recorder writes cues as they happen and each trial row when the trial ends
    for k, s in enumerate((2.0, 8.0)):
        w.add_event(Event(s, 0.0, "cue", {"cue": "squeeze", "trial": k + 1}))
        w.add_event(Event(s + 3.0, 0.0, "cue", {"cue": "release", "trial": k + 1}))
        w.add_event(Event(s, 3.0, "trial", {"trial": k + 1, "hand": "right", "status": "valid"}))
    streamed = [ln.split("\t")[0] for ln in w._events_path.read_text().splitlines()[1:]]
    assert streamed != sorted(streamed, key=float)  # on disk as it happens while recording
    path = w.close()
    ev_path = path.with_name(path.name.replace("_motion.tsv", "_events.tsv"))
    onsets = [float(ln.split("\t")[0]) for ln in ev_path.read_text().splitlines()[1:]]
    assert onsets == sorted(onsets) and len(onsets) == 6
    assert [e.trial_type for e in read_events(ev_path)] == ["cue", "trial", "cue", "cue", "trial", "cue"]
    desc = json.loads(ev_path.with_suffix(".json").read_text())
    header = ev_path.read_text().splitlines()[0].split("\t")
    assert set(header) <= set(desc) and desc["StimulusPresentation"]["SoftwareName"] == "motorlab"
    side = json.loads(path.with_name(path.name.replace("_motion.tsv", "_motion.json")).read_text())
    assert side["MISCChannelCount"] == 1 and side["ACCELChannelCount"] == 2 and "MiscChannelCount" not in side


def test_recover_sorts_events(tmp_path: Path) -> None:
    rec = _grip_recording()
    w = RecordingWriter(tmp_path, rec.metadata, rec.channels, FS)
    w.append(rec.timestamps, rec.data)
    w.add_event(Event(5.0, 0.0, "cue", {"cue": "release"}))
    w.add_event(Event(2.0, 3.0, "trial", {"trial": 1}))
    path, _ = recover(w.path)  # the writer "died": never closed
    ev = path.with_name(path.name.replace("_motion.tsv", "_events.tsv")).read_text().splitlines()[1:]
    assert [float(ln.split("\t")[0]) for ln in ev] == [2.0, 5.0]


def test_participants_tsv_stays_in_step(tmp_path: Path) -> None:
    from motorlab.clinic.clients import ClientRegistry, make_client

    reg = ClientRegistry(tmp_path)
    reg.add(make_client("P001", 1960, "F", "right"))
    rec = _grip_recording()
    write_recording(rec, tmp_path)
    rec.metadata = rec.metadata.replace(participant="P077")  # never registered as a client
    write_recording(rec, tmp_path)
    write_recording(rec, tmp_path)  # a second run: no second row
    rows = (tmp_path / "participants.tsv").read_text().splitlines()
    assert rows == [
        "participant_id\tbirth_year\tsex\tdominant_hand",
        "sub-P001\t1960\tF\tright",
        "sub-P077\tn/a\tn/a\tn/a",
    ]
    assert [c.participant for c in reg.list()] == ["P001"] and not reg.exists("P077")
    reg.add(make_client("P077", 1971, "M", "left"))  # registering later fills the row in
    assert reg.get("P077").birth_year == 1971
    assert len((tmp_path / "participants.tsv").read_text().splitlines()) == 3


# --------------------------------------------------------------------- the official validator
def _validator() -> str:
    exe = shutil.which("bids-validator-deno") or str(Path(sys.executable).with_name("bids-validator-deno"))
    if not os.path.exists(exe):
        pytest.skip("bids-validator-deno is not installed (pip install -e '.[test]')")
    return exe


def _validate(root: Path) -> list[dict]:
    proc = subprocess.run(
        [_validator(), "--format", "json", str(root)], capture_output=True, text=True, timeout=240
    )
    report = json.loads(proc.stdout)
    return report["issues"]["issues"]


def _errors(issues: list[dict]) -> list[tuple[str, str]]:
    return [(i["code"], i.get("location", "")) for i in issues if i["severity"] == "error"]


def test_validator_passes_on_written_dataset_and_catches_a_mismatch(tmp_path: Path) -> None:
    from motorlab.clinic.clients import ClientRegistry, make_client
    from motorlab.sim.dataset import generate_dataset

    root = tmp_path / "ds"
    ClientRegistry(root).add(make_client("S0001", 1960, "F", "right"))
    generate_dataset(root, n_recordings=10, n_corrupt=0, recordings_per_participant=5)
    rec = _grip_recording()
    f = Files(write_recording(rec, root))
    _swap_rows(f)  # the validator does not look inside; our reader flags it
    issues = _validate(root)
    assert _errors(issues) == []
    codes = {i["code"] for i in issues}
    assert not codes & {"EVENT_ONSET_ORDER", "TSV_ADDITIONAL_COLUMNS_UNDEFINED", "PARTICIPANT_ID_MISMATCH"}
    # the same dataset with a participant missing from participants.tsv is an error
    tsv = root / "participants.tsv"
    tsv.write_text("\n".join(ln for ln in tsv.read_text().splitlines() if "P001" not in ln) + "\n")
    assert ("PARTICIPANT_ID_MISMATCH", "/participants.tsv") in _errors(_validate(root))


def test_validator_passes_on_demo_output(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "motorlab", "demo", "--out", str(out), "--no-live"],
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    issues = _validate(out)
    assert _errors(issues) == []
    assert "EVENT_ONSET_ORDER" not in {i["code"] for i in issues}


def test_reliability_table_lists_every_case() -> None:
    """docs/reliability_storage.md has a row per case and names only tests that exist here."""
    text = DOC.read_text(encoding="utf-8")
    for case in CASES:
        assert f"`test_bad_input[{case.id}]`" in text, case.id
    named = set(re.findall(r"`(test_\w+)", text))
    assert named <= set(globals()), named - set(globals())
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and "`test_" in ln]
    assert len(rows) >= 40


def test_reader_fuzz_raises_only_one_line_recording_errors(tmp_path: Path) -> None:
    """Random byte damage to each file of a recording: the reader returns a recording (flags
    allowed) or raises a one-line RecordingError naming one of its files, nothing else."""
    rng = np.random.default_rng(12)
    rec = _grip_recording()
    clean = Files(write_recording(rec, tmp_path / "clean"))
    originals = {
        s: clean.sibling(s).read_bytes()
        for s in ("_motion.tsv", "_channels.tsv", "_motion.json", "_events.tsv")
    }
    specials = [
        b"\x00",
        b"\xff",
        b"\t",
        b"\n",
        b"n/a",
        b"inf",
        b"-",
        b"1e308",
        b'"',
        b"{",
        b"\r",
        b"nan",
        b"\xc3",
    ]
    f = clean
    for i in range(240):
        suffix = list(originals)[i % 4]
        data = bytearray(originals[suffix])
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(0, max(len(data), 1)))
            op = int(rng.integers(0, 4))
            if op == 0 and data:
                data[at] = int(rng.integers(0, 256))
            elif op == 1:
                data[at:at] = specials[int(rng.integers(0, len(specials)))]
            elif op == 2:
                del data[at : at + int(rng.integers(1, 40))]
            else:
                data = data[:at]
        for s, raw in originals.items():
            f.sibling(s).write_bytes(bytes(data) if s == suffix else raw)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                back = read_recording(f.motion)
        except RecordingError as exc:
            msg = str(exc)
            assert "\n" not in msg and all(ch.isprintable() for ch in msg), (suffix, msg)
            assert any(str(f.sibling(s)) in msg for s in originals), (suffix, msg)
        else:
            assert back.data.shape[1] == 3
            finite = back.data[np.isfinite(back.data)]
            assert np.all(np.abs(finite) <= 1e5), (suffix, bytes(data[:200]))


def test_trial_by_trial_batch_keeps_the_value_warning(tmp_path: Path) -> None:
    f = Files(write_recording(_grip_recording(), tmp_path / "ds"))
    f.set_cell(300, 1, "1e308")  # inside trial 1 (2-5 s)
    res = analyze_batch(tmp_path / "ds", jobs=1, by_trial=True)
    assert len(res.results) == 1 and res.results[0].error is None
    listed = [e["message"] for e in res.errors if e.get("level") == "warning"]
    assert any("implausible_value" in m and "line 301" in m for m in listed), res.errors
    peaks = [r["peak_force_N"] for r in res.rows if r.get("row") == "trial"]
    assert len(peaks) == 3 and all(np.isfinite(peaks)) and max(peaks) < 1e3


def test_trial_by_trial_batch_rows_carry_the_sidecar_flags(tmp_path: Path) -> None:
    f = Files(write_recording(_grip_recording(), tmp_path / "ds"))
    f.set_unit("force", "kgf")
    whole = analyze_batch(tmp_path / "ds", jobs=1)
    by_trial = analyze_batch(tmp_path / "ds", jobs=1, by_trial=True)
    trial_rows = [r for r in by_trial.rows if r.get("row") == "trial"]
    assert len(trial_rows) == 3
    assert all("unit_converted" in r["quality_flags"] for r in trial_rows)
    assert all("unit_converted" in r["quality_flags"] for r in whole.rows)
