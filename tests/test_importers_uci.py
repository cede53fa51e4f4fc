"""UCI spiral text importer on synthetic files that reproduce the real files' faults."""

from __future__ import annotations

import numpy as np
import pytest

from motorlab.errors import ParameterError, RecordingError
from motorlab.storage.importers import UCI_CM_PER_UNIT, read_uci_spiral


def _rows(test_id: int, n: int, start_ms: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed + test_id)
    ang = np.linspace(0, 6 * np.pi, n)
    x = np.round(250 + 8 * ang * np.cos(ang)).astype(int)
    y = np.round(240 + 8 * ang * np.sin(ang)).astype(int)
    t = start_ms + np.concatenate(([0], np.cumsum(rng.choice([7, 8], n - 1))))
    p = rng.integers(0, 1024, n)
    return np.column_stack([x, y, np.zeros(n, int), p, rng.integers(800, 1200, n), t, np.full(n, test_id)])


def _write(path, rows) -> None:
    path.write_text("\n".join(";".join(str(int(v)) for v in r) for r in rows) + "\n")


def test_each_test_id_becomes_a_recording_with_scaled_channels(tmp_path):
    rows = np.vstack([_rows(0, 800, 1_283_177), _rows(1, 600, 1_320_323)])
    f = tmp_path / "C_0001.txt"
    _write(f, rows)
    recs = read_uci_spiral(f, participant="C0001", extra={"group": "control"})
    assert [r.metadata.task for r in recs] == ["spiral", "spiraldynamic"]
    r0 = recs[0]
    assert r0.channel_names == ["pos_x", "pos_y", "pressure", "z_raw", "grip_angle_raw"]
    assert [c.units for c in r0.channels] == ["cm", "cm", "1", "n/a", "n/a"]
    np.testing.assert_allclose(r0.channel("pos_x"), rows[:800, 0] * 0.0204)
    np.testing.assert_allclose(r0.channel("pressure"), rows[:800, 3] / 1023)
    np.testing.assert_array_equal(r0.timestamps, (rows[:800, 5] - rows[0, 5]) / 1000)
    steps = np.diff(rows[:800, 5]) / 1000
    assert r0.sampling_rate == pytest.approx(1 / steps.mean())
    info = r0.metadata.extra["import"]
    assert info["options"]["scale_cm_per_unit"] == UCI_CM_PER_UNIT == 0.0204
    assert any("0.0204 cm per unit assumed" in a for a in info["assumptions"])
    assert info["time_origin_s"] == pytest.approx(1283.177)
    assert r0.metadata.extra["group"] == "control"
    assert r0.metadata.device_model == "Cintiq 12WX" and r0.metadata.manufacturer == "Wacom"
    assert r0.quality_flags == ()


def test_scale_option_is_applied_and_recorded(tmp_path):
    f = tmp_path / "p.txt"
    rows = _rows(0, 300, 5000)
    _write(f, rows)
    rec = read_uci_spiral(f, participant="P001", scale_cm_per_unit=0.025)[0]
    np.testing.assert_allclose(rec.channel("pos_y"), rows[:, 1] * 0.025)
    assert rec.metadata.extra["import"]["options"]["scale_cm_per_unit"] == 0.025
    assert any("given by the user" in a for a in rec.metadata.extra["import"]["assumptions"])
    with pytest.raises(ParameterError, match="scale must be a positive number"):
        read_uci_spiral(f, participant="P001", scale_cm_per_unit=0)


def test_mixed_clock_rows_are_removed_and_flagged_with_their_line(tmp_path):
    rows = _rows(0, 1000, 1_283_177)
    rows[[120, 121], 5] = [1_372_359_999_000, 1_372_359_999_007]  # Unix-epoch ms among counter ms
    f = tmp_path / "m.txt"
    _write(f, rows)
    rec = read_uci_spiral(f, participant="P001")[0]
    assert rec.n_samples == 998
    assert 5 < rec.duration < 10  # not -1.37e9 s
    flag = next(fl for fl in rec.quality_flags if fl.code == "mixed_clock")
    assert flag.count == 2 and "m.txt: line 121 (sample 120)" in flag.message and "removed" in flag.message
    np.testing.assert_array_equal(rec.channel("pos_x"), np.delete(rows[:, 0], [120, 121]) * 0.0204)
    with pytest.raises(RecordingError, match="m.txt"):
        read_uci_spiral(f, participant="P001", drop_mixed_clock=False)


def test_backwards_step_keeps_file_order_and_records_segments(tmp_path):
    rows = _rows(2, 900, 7_954_688)
    rows[500:, 5] -= rows[500, 5] - rows[499, 5] + 2187  # the clock steps back 2.187 s (as P_27110003.txt)
    f = tmp_path / "b.txt"
    _write(f, rows)
    rec = read_uci_spiral(f, participant="P001")[0]
    assert rec.metadata.task == "circularhold"
    np.testing.assert_array_equal(rec.timestamps, (rows[:, 5] - rows[0, 5]) / 1000)  # not sorted
    flag = next(fl for fl in rec.quality_flags if fl.code == "backwards_step")
    assert "b.txt: line 501 (sample 500): time steps back 2.187 s" in flag.message
    assert rec.metadata.extra["timestamp_segments"] == [[0, 500], [500, 900]]
    assert rec.timestamp_segments == [(0, 500), (500, 900)]
    parts = read_uci_spiral(f, participant="P001", split_segments=True)
    assert [p.n_samples for p in parts] == [500, 400]
    assert all(np.all(np.diff(p.timestamps) > 0) for p in parts)
    assert parts[1].metadata.extra["import"]["segment_first_line"] == 501
    np.testing.assert_array_equal(parts[1].channel("pos_x"), rows[500:, 0] * 0.0204)


def test_duplicates_stretched_drawing_and_unknown_test_id_are_flagged(tmp_path):
    rows = _rows(0, 400, 1000)
    rows[:, 0] = 250 + (rows[:, 0] - 250) * 2  # stretched along X, aspect ~2
    rows[200, 5] = rows[199, 5]
    extra = _rows(7, 50, 90_000)
    f = tmp_path / "d.txt"
    _write(f, np.vstack([rows, extra]))
    recs = read_uci_spiral(f, participant="P001")
    assert [r.metadata.task for r in recs] == ["spiral", "uci7"]
    codes = {fl.code for fl in recs[0].quality_flags}
    assert {"duplicate_timestamp", "xy_aspect"} <= codes
    assert "unknown_test_id" in {fl.code for fl in recs[1].quality_flags}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "e.txt:1: empty file"),
        ("1;2;3;4;5;6;0\n1;2;3;4;5;6\n", "e.txt:2: expected 7 ';'-separated values"),
        ("1;2;3;4;5;6;0\n1;2;x;4;5;6;0\n", "e.txt:2: Z 'x' is not an integer"),
        ("\n\n1;2;3;4;5;6;0\n1;2;3;4;5;6;0\n1;2;3;4;5;6.5;0\n", "e.txt:5: Timestamp '6.5' is not an integer"),
    ],
)
def test_malformed_files_give_one_line_naming_the_line(tmp_path, content, needle):
    f = tmp_path / "e.txt"
    f.write_text(content)
    with pytest.raises(RecordingError) as err:
        read_uci_spiral(f, participant="P001")
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_missing_file_and_binary_file(tmp_path):
    with pytest.raises(RecordingError, match="nope.txt: file not found"):
        read_uci_spiral(tmp_path / "nope.txt", participant="P001")
    b = tmp_path / "bin.txt"
    b.write_bytes(b"\x00\x01\x02")
    with pytest.raises(RecordingError, match="bin.txt: not a text file"):
        read_uci_spiral(b, participant="P001")
