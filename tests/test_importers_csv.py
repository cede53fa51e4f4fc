"""Generic CSV/TSV import (column map, units, time column) and the Kinvent preset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motorlab.errors import ParameterError, RecordingError
from motorlab.storage.bids import read_recording, write_recording
from motorlab.storage.importers import PRESETS, read_table
from motorlab.units import KGF_N, LBF_N

KINVENT = """Name;Jane Example
Date;15/07/2024 16:36
Exercise;Grip strength
Repetition: 1
Duration;3,2
Time;Performance;Target;ClosestSampleTime;CHANNEL_1
0,000;0,10;-;;0,1
0,013;0,50;-;;0,5
0,026;2,50;5;0,026;2,5
0,039;4,75;5;;4,75
Repetition: 2
Duration;2,1
Time;Performance;Target;ClosestSampleTime;CHANNEL_1
0,000;0,20;-;;0,2
0,013;3,00;-;;3,0
0,026;5,25;5;;5,25
Max;5,25
"""


def test_kinvent_preset_sections_become_trials_in_newtons(tmp_path):
    f = tmp_path / "grip_export.csv"
    f.write_text(KINVENT, encoding="utf-8")
    rec = read_table(f, participant="P001", preset="kinvent", hand="right")[0]
    assert rec.metadata.task == "grip" and rec.metadata.manufacturer == "Kinvent"
    assert rec.channel_names == ["force"] and rec.channels[0].units == "N"
    kg = np.array([0.10, 0.50, 2.50, 4.75, 0.20, 3.00, 5.25])
    np.testing.assert_allclose(rec.channel("force"), kg * KGF_N)
    # repetition 2 restarts at 0 s: laid 1 s after repetition 1 ends
    np.testing.assert_allclose(rec.timestamps, [0, 0.013, 0.026, 0.039, 1.039, 1.052, 1.065])
    trials = rec.events_of("trial")
    assert [e.extra["trial"] for e in trials] == [1, 2]
    assert [e.extra["hand"] for e in trials] == ["right", "right"]
    assert trials[1].onset == pytest.approx(1.039) and trials[1].duration == pytest.approx(0.026)
    codes = [fl.code for fl in rec.quality_flags]
    assert "ignored_rows" in codes and "section_time_restart" in codes
    info = rec.metadata.extra["import"]
    assert info["options"]["delimiter"] == ";" and info["options"]["decimal"] == ","
    assert info["ignored_columns"] == ["CHANNEL_1", "ClosestSampleTime", "Target"]
    assert any("kg" in a for a in info["assumptions"])
    # the export's header (a person's name) is never stored
    assert "Jane" not in json.dumps(rec.metadata.extra) and "Jane" not in repr(rec.events)
    path = write_recording(rec, tmp_path / "bids")
    assert not any("Jane" in p.read_text() for p in path.parent.iterdir())
    assert PRESETS["kinvent"].section_marker == "Repetition:"


def test_comma_separated_kinvent_tables_are_read_too(tmp_path):
    text = "Repetition: 1\n\nTime,Performance,Target\n0.00,1.0,-\n0.01,2.0,-\nRepetition: 2\n\nTime,Performance,Target\n0.00,3.0,-\n"
    f = tmp_path / "k.csv"
    f.write_text(text)
    rec = read_table(f, participant="P001", preset="kinvent")[0]
    np.testing.assert_allclose(rec.channel("force"), np.array([1.0, 2.0, 3.0]) * KGF_N)
    assert len(rec.events_of("trial")) == 2


def test_generic_table_with_column_map_units_and_ms_time(tmp_path):
    f = tmp_path / "device.tsv"
    rows = ["t_ms\tFz (lbf)\tax\tnote"]
    rows += [f"{1000 + 10 * k}\t{2.5 * k}\t{0.1 * k}\tok" for k in range(50)]
    f.write_text("\n".join(rows) + "\n")
    rec = read_table(
        f,
        participant="P001",
        columns={"Fz (lbf)": "force", "ax": "acc_x"},
        units={"force": "lbf", "acc_x": "g"},
        time_column="t_ms",
        time_unit="ms",
        task="gripsustained",
    )[0]
    assert rec.channel_names == ["force", "acc_x"]
    assert [c.type for c in rec.channels] == ["MISC", "ACCEL"]
    np.testing.assert_allclose(rec.channel("force"), 2.5 * np.arange(50) * LBF_N)
    np.testing.assert_allclose(rec.channel("acc_x"), 0.1 * np.arange(50) * 9.80665)
    np.testing.assert_allclose(rec.timestamps, np.arange(50) * 0.01)
    assert rec.sampling_rate == pytest.approx(100.0)
    assert rec.metadata.extra["import"]["options"]["delimiter"] == "\t"
    assert rec.metadata.extra["import"]["ignored_columns"] == ["note"]


def test_headerless_numbered_columns_factor_units_and_rate(tmp_path):
    f = tmp_path / "raw.csv"
    f.write_text("\n".join(f"{k},{3 * k}" for k in range(20)) + "\n")
    rec = read_table(
        f,
        participant="P001",
        header=False,
        columns={"1": "pos_x", "2": "pos_y"},
        units={"pos_x": "*0.0204", "pos_y": "mm"},
        sampling_rate=50.0,
        task="spiral",
    )[0]
    np.testing.assert_allclose(rec.channel("pos_x"), np.arange(20) * 0.0204)
    np.testing.assert_allclose(rec.channel("pos_y"), np.arange(20) * 0.3)
    np.testing.assert_allclose(rec.timestamps, np.arange(20) / 50)
    assert rec.metadata.extra["import"]["options"]["units"] == {"pos_x": "*0.0204", "pos_y": "mm"}


def test_iso_time_column_sets_the_acquisition_time(tmp_path):
    f = tmp_path / "iso.csv"
    f.write_text(
        "time,force\n2024-05-01T10:00:00.000Z,1\n2024-05-01T10:00:00.010Z,2\n2024-05-01T10:00:00.020Z,3\n"
    )
    rec = read_table(
        f,
        participant="P001",
        columns={"force": "force"},
        units={"force": "N"},
        time_column="time",
        time_unit="iso8601",
    )[0]
    np.testing.assert_allclose(rec.timestamps, [0, 0.01, 0.02], atol=1e-6)
    assert rec.metadata.acq_time.startswith("2024-05-01T10:00:00")


def test_units_and_maps_are_required_and_checked(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("time,F\n0,1\n0.01,2\n0.02,3\n")
    with pytest.raises(ParameterError, match=r"give the unit of column 'F' \(force, e\.g\. force=N\)"):
        read_table(f, participant="P001", columns={"F": "force"}, time_column="time")
    with pytest.raises(ParameterError, match="unit 'furlong' cannot be converted to N"):
        read_table(
            f, participant="P001", columns={"F": "force"}, units={"force": "furlong"}, time_column="time"
        )
    with pytest.raises(ParameterError, match="give the column map"):
        read_table(f, participant="P001")
    with pytest.raises(ParameterError, match="unknown preset 'tindeq'"):
        read_table(f, participant="P001", preset="tindeq")
    with pytest.raises(RecordingError, match="no header row with the columns Fx, time"):
        read_table(f, participant="P001", columns={"Fx": "force"}, units={"force": "N"}, time_column="time")


def test_bad_row_inside_the_table_names_its_line(tmp_path):
    f = tmp_path / "b.csv"
    f.write_text("time,F\n0,1\n0.01,oops\n0.02,3\n")
    with pytest.raises(RecordingError) as err:
        read_table(f, participant="P001", columns={"F": "force"}, units={"force": "N"}, time_column="time")
    assert "b.csv:3: cannot read the row (column 'F': 'oops' is not a number)" in str(err.value)


def test_csv_import_survives_bids(tmp_path):
    f = tmp_path / "k.csv"
    f.write_text(KINVENT)
    rec = read_table(f, participant="P001", preset="kinvent")[0]
    back = read_recording(write_recording(rec, tmp_path / "bids"))
    np.testing.assert_array_equal(back.data, rec.data)
    np.testing.assert_array_equal(back.timestamps, rec.timestamps)
    assert [e.extra["trial"] for e in back.events_of("trial")] == [1, 2]
    assert back.quality_flags == rec.quality_flags
