"""BIDS motion storage: layout, lossless round trip, torn files, recover, IDs."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest

from motorlab import Channel, Event, Metadata, Recording, RecordingError
from motorlab.cli.main import main
from motorlab.errors import MotorlabError
from motorlab.storage.bids import (
    RecordingWriter,
    find_recordings,
    next_session_label,
    read_recording,
    recording_status,
    recover,
    write_recording,
)

IMU = [
    Channel("acc_x", "ACCEL", "m/s^2", "x", "pen"),
    Channel("acc_y", "ACCEL", "m/s^2", "y", "pen"),
    Channel("gyr_z", "GYRO", "deg/s", "z", "pen"),
    Channel("tip_force", "MISC", "N", "n/a", "tip"),
]


def _rec(n=500, seed=3) -> Recording:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.004, 0.006, n))  # irregular sampling
    data = rng.normal(size=(n, len(IMU))) * [1e-3, 1e3, 1e-12, 7.5]
    data[min(10, n - 1), 2] = np.nan
    md = Metadata(
        "C042",
        "03",
        "handwriting",
        "imupen",
        hand="left",
        device_model="DIY pen",
        device_serial="SN123",
        firmware="1.2.0",
        calibration_id="SN123-imu-1",
        extra={"k": [1, 2]},
    )
    events = [
        Event(0.25, 0.0, "cue", {"cue": "write"}),
        Event(0.3, 1.5, "trial", {"trial": 1, "hand": "left", "status": "invalid", "note": "let go"}),
    ]
    return Recording(t, data, IMU, 200.0, md, events)


def test_layout_follows_bids_motion(tmp_path):
    path = write_recording(_rec(), tmp_path)
    assert path.name == "sub-C042_ses-03_task-handwriting_tracksys-imupen_motion.tsv"
    assert path.parent == tmp_path / "sub-C042" / "ses-03" / "motion"
    desc = json.loads((tmp_path / "dataset_description.json").read_text())
    assert desc["Name"] and desc["BIDSVersion"].startswith("1.")
    side = json.loads(path.with_name(path.name.replace("_motion.tsv", "_motion.json")).read_text())
    assert side["TaskName"] == "handwriting" and side["SamplingFrequency"] == 200.0
    assert side["ACCELChannelCount"] == 2 and side["GYROChannelCount"] == 1
    assert side["MISCChannelCount"] == 1 and side["POSChannelCount"] == 0 and side["LATENCYChannelCount"] == 1
    assert side["MotionChannelCount"] == 5
    with open(path.with_name(path.name.replace("_motion.tsv", "_channels.tsv"))) as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    assert rows[0] == ["name", "component", "type", "tracked_point", "units"]
    assert [r[0] for r in rows[1:]] == ["latency", "acc_x", "acc_y", "gyr_z", "tip_force"]
    # no header row, one column per channel
    first = path.read_text().splitlines()[0].split("\t")
    assert len(first) == 5 and float(first[0]) > 0
    scans = (tmp_path / "sub-C042" / "ses-03" / "sub-C042_ses-03_scans.tsv").read_text().splitlines()
    assert scans[0] == "filename\tacq_time" and scans[1].startswith("motion/" + path.name)


def test_round_trip_is_lossless(tmp_path):
    rec = _rec()
    back = read_recording(write_recording(rec, tmp_path))
    assert np.array_equal(back.timestamps, rec.timestamps)
    assert np.array_equal(back.data, rec.data, equal_nan=True)
    assert back.channels == rec.channels
    assert back.metadata == rec.metadata
    assert back.events == rec.events
    assert back.sampling_rate == rec.sampling_rate


def test_second_recording_of_same_task_gets_a_run_number(tmp_path):
    a = write_recording(_rec(), tmp_path)
    b = write_recording(_rec(seed=4), tmp_path)
    assert a != b and "_run-2_" in b.name
    assert find_recordings(tmp_path) == sorted([a, b])


def test_torn_last_line_is_ignored_and_recover_finalises(tmp_path):
    rec = _rec(n=100)
    w = RecordingWriter(tmp_path, rec.metadata, rec.channels, rec.sampling_rate)
    w.append(rec.timestamps[:60], rec.data[:60])
    w.add_event(rec.events[0])
    # simulate a crash in the middle of writing a line: no close()
    with open(w.path, "a") as fh:
        fh.write("1.2345\t0.5\t")
    assert recording_status(w.path) == "recording"
    with pytest.warns(UserWarning, match="not finalised"):
        part = read_recording(w.path)
    assert part.n_samples == 60
    assert np.array_equal(part.data, rec.data[:60], equal_nan=True)
    motion, n = recover(w.path)
    assert n == 60 and recording_status(motion) == "recovered"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = read_recording(motion)
    assert again.n_samples == 60 and again.events == [rec.events[0]]


def test_recover_command(tmp_path, capsys):
    rec = _rec(n=50)
    w = RecordingWriter(tmp_path, rec.metadata, rec.channels, rec.sampling_rate)
    w.append(rec.timestamps, rec.data)
    assert main(["recover", str(tmp_path)]) == 0
    assert "recovered" in capsys.readouterr().out
    assert recording_status(w.path) == "recovered"


@pytest.mark.parametrize("bad", ["JaneDoe", "Jane Doe", "P-001", "", "x" * 30 + "1"])
def test_name_like_or_invalid_participant_ids_are_refused(bad):
    with pytest.raises(RecordingError):
        Metadata(bad)


def test_pseudonyms_are_accepted():
    assert Metadata("P001").participant == "P001"
    assert Metadata("7").participant == "7"


def test_unreadable_files_give_one_line_errors(tmp_path):
    with pytest.raises(MotorlabError, match="not found"):
        read_recording(tmp_path / "sub-P1_ses-01_task-grip_tracksys-x_motion.tsv")
    p = write_recording(_rec(n=20), tmp_path)
    p.with_name(p.name.replace("_motion.tsv", "_motion.json")).write_text("{broken")
    with pytest.raises(MotorlabError, match="not valid JSON"):
        read_recording(p)
    with pytest.raises(MotorlabError, match="not a BIDS motion file"):
        read_recording(tmp_path / "notes.txt")


def test_unwritable_output_folder_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MotorlabError) as err:
        write_recording(_rec(n=5), blocker / "dataset")
    assert str(blocker) in str(err.value) and "\n" not in str(err.value)


def test_sessions_are_numbered_automatically(tmp_path):
    assert next_session_label(tmp_path, "P001") == "01"
    write_recording(_rec(n=5), tmp_path)  # C042 ses-03
    assert next_session_label(tmp_path, "C042") == "04"
