"""``.svc`` import and export: explicit column order, raw units, exact round trips."""

from __future__ import annotations

import numpy as np
import pytest

from motorlab import Channel, Metadata, Recording
from motorlab.errors import ParameterError, RecordingError
from motorlab.storage.importers import PAHAW_COLUMNS, SvcUnits, read_svc, write_svc
from motorlab.storage.importers.svc import column_order


def _svc_rows(n: int = 400, seed: int = 3) -> np.ndarray:
    """x y time pen_down azimuth altitude pressure, Wacom raw units, 7-8 ms steps, pen lifts."""
    rng = np.random.default_rng(seed)
    t = 354_642_400 + np.concatenate(([0], np.cumsum(rng.choice([7, 8], n - 1))))
    pen = (np.arange(n) % 80 < 60).astype(int)
    x = 4000 + np.cumsum(rng.integers(-40, 120, n))
    y = 7500 + np.cumsum(rng.integers(-60, 60, n))
    az = rng.integers(0, 3600, n)
    al = rng.integers(500, 900, n)
    p = np.where(pen == 1, rng.integers(1000, 22000, n), 0)
    return np.column_stack([x, y, t, pen, az, al, p])


def _write(path, rows, declared=None, order=(0, 1, 2, 3, 4, 5, 6)) -> None:
    lines = [str(len(rows) if declared is None else declared)]
    lines += [" ".join(str(int(r[k])) for k in order) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def test_read_converts_raw_units_and_records_the_options(tmp_path):
    rows = _svc_rows()
    f = tmp_path / "00026_w.svc"
    _write(f, rows)
    rec = read_svc(f, participant="P026")[0]
    assert rec.channel_names == ["pos_x", "pos_y", "pen_down", "azimuth", "altitude", "pressure"]
    assert [c.units for c in rec.channels] == ["cm", "cm", "n/a", "deg", "deg", "1"]
    np.testing.assert_allclose(rec.channel("pos_x"), rows[:, 0] * 2.54 / 5080)
    np.testing.assert_allclose(rec.channel("azimuth"), rows[:, 4] * 0.1)
    np.testing.assert_allclose(rec.channel("pressure"), rows[:, 6] / 32767)
    np.testing.assert_array_equal(rec.channel("pen_down"), rows[:, 3])
    np.testing.assert_array_equal(rec.timestamps, (rows[:, 2] - rows[0, 2]) / 1000)
    info = rec.metadata.extra["import"]
    assert info["options"]["column_order"] == "x,y,time,pen_down,azimuth,altitude,pressure"
    assert info["options"]["cm_per_unit"] == pytest.approx(0.0005)
    assert info["time_origin_s"] == pytest.approx(354_642.4)
    assert rec.metadata.task == "handwriting" and rec.quality_flags == ()


def test_pahaw_order_puts_y_first_and_is_never_guessed(tmp_path):
    rows = _svc_rows()
    f = tmp_path / "pahaw.svc"
    _write(f, rows, order=(1, 0, 2, 3, 4, 5, 6))  # the file stores y, x, ...
    rec = read_svc(f, participant="P001", columns="pahaw")[0]
    np.testing.assert_allclose(rec.channel("pos_x"), rows[:, 0] * 0.0005)
    np.testing.assert_allclose(rec.channel("pos_y"), rows[:, 1] * 0.0005)
    default = read_svc(f, participant="P001")[0]  # read in the default order: x and y swap, as told
    np.testing.assert_allclose(default.channel("pos_x"), rows[:, 1] * 0.0005)
    assert column_order("pahaw") == PAHAW_COLUMNS
    assert column_order("x y time skip") == ("x", "y", "time", "skip")
    with pytest.raises(ParameterError, match="unknown column"):
        column_order("x,y,time,tilt")
    with pytest.raises(ParameterError, match="needs x, y and time"):
        column_order("x,y,pressure")


def test_export_then_import_gives_the_same_samples_in_either_order(tmp_path):
    rows = _svc_rows()
    src = tmp_path / "a.svc"
    _write(src, rows)
    rec = read_svc(src, participant="P001")[0]
    for order in ("svc2004", "pahaw"):
        out = tmp_path / f"b_{order}.svc"
        res = write_svc(rec, out, columns=order)
        assert res.n_samples == 400 and res.dropped == 0 and res.filled is None
        back = read_svc(out, participant="P001", columns=order)[0]
        np.testing.assert_array_equal(back.data, rec.data)
        np.testing.assert_array_equal(back.timestamps, rec.timestamps)
        assert back.sampling_rate == rec.sampling_rate
    assert (tmp_path / "b_svc2004.svc").read_text() == src.read_text()  # byte for byte


def test_export_of_a_motorlab_recording_quantises_and_reports_fills(tmp_path):
    fs = 200.0
    t = np.arange(600) / fs
    x, y = 5 + 2 * np.cos(t), 5 + 2 * np.sin(t)
    tip = np.where(np.arange(600) % 100 < 80, 1.5, 0.0)
    x[10] = np.nan
    chans = [
        Channel("pos_x", "POS", "cm", "x"),
        Channel("pos_y", "POS", "cm", "y"),
        Channel("tip_force", "MISC", "N"),
    ]
    rec = Recording(t, np.column_stack([x, y, tip]), chans, fs, Metadata("P001", task="spiral"))
    res = write_svc(rec, tmp_path / "r.svc", units=SvcUnits(cm_per_unit=0.001, time_unit="us"))
    assert res.n_samples == 599 and res.dropped == 1
    assert res.filled == {"pen_down": 1.0, "azimuth": 0.0, "altitude": 0.0, "pressure": 0.0}
    back = read_svc(
        tmp_path / "r.svc", participant="P001", units=SvcUnits(cm_per_unit=0.001, time_unit="us")
    )[0]
    keep = np.isfinite(x)
    assert np.max(np.abs(back.channel("pos_x") - x[keep])) <= 0.0005 + 1e-12  # half a raw unit
    np.testing.assert_allclose(back.timestamps, t[keep] - t[keep][0], atol=5e-7)
    # the left-out sample makes one 10 ms interval: observed rate = 1 / mean interval
    assert back.sampling_rate == pytest.approx(1 / np.mean(np.diff(t[keep])), rel=1e-6)


def test_row_count_mismatch_is_flagged(tmp_path):
    f = tmp_path / "t.svc"
    _write(f, _svc_rows(50), declared=60)
    rec = read_svc(f, participant="P001")[0]
    flag = rec.quality_flags[0]
    assert (
        flag.code == "row_count_mismatch" and "declares 60 samples but the file has 50 rows" in flag.message
    )


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "x.svc:1: empty file"),
        ("abc\n1 2 3 4 5 6 7\n", "x.svc:1: expected the number of samples"),
        ("2\n1 2 3 1 5 6 7\n1 2 3 4\n", "x.svc:3: 4 columns but the column order"),
        ("2\n1 2 3 1 5 6 7\n1 2 3 1 q 6 7\n", "x.svc:3: azimuth 'q' is not a number"),
        ("3\n", "x.svc:2: no sample rows"),
    ],
)
def test_malformed_svc_one_line_error(tmp_path, content, needle):
    f = tmp_path / "x.svc"
    f.write_text(content)
    with pytest.raises(RecordingError) as err:
        read_svc(f, participant="P001")
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_write_needs_positions(tmp_path):
    rec = Recording(np.arange(5) / 10, np.ones(5), [Channel("force", "MISC", "N")], 10.0, Metadata("P001"))
    with pytest.raises(RecordingError, match="no pos_x/pos_y"):
        write_svc(rec, tmp_path / "f.svc")
