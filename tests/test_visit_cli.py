"""The visit's smaller parts: client-aware defaults, ID rules, fault hints, calibration on the
pen emulator, extrapolation warnings, the live panel's force scale and pen view, note typing,
and the Nine-Hole-Peg timer. CLI cases run ``python -m motorlab`` in a subprocess."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys

import pytest
from rich.console import Console

from motorlab.analysis.dexterity import analyze_dexterity, pegs_per_minute
from motorlab.clinic.pseudonyms import SETTINGS_FILE, check_new_pseudonym
from motorlab.errors import ParameterError
from motorlab.session.acquisition import SignalTracker
from motorlab.session.controls import ScriptedKeys
from motorlab.session.dexterity import PegTimer
from motorlab.session.live import LiveSnapshot, SignalState, StepState
from motorlab.storage.bids import find_recordings, read_recording
from motorlab.storage.notes import read_notes
from motorlab.ui.keys import TerminalKeys
from motorlab.ui.terminal import force_chart, force_scale_kg, render


def _run(env, *args, ok=True, timeout=120):
    proc = subprocess.run(
        [sys.executable, "-m", "motorlab", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if ok:
        assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture
def clinic(tmp_path):
    env = {
        **os.environ,
        "MOTORLAB_DATA": str(tmp_path / "clinic"),
        "MOTORLAB_CONFIG_DIR": str(tmp_path / "config"),
        "COLUMNS": "100",
    }
    return tmp_path / "clinic", env


# ------------------------------------------------------------------ IDs
def test_new_ids_must_be_codes_and_the_clinic_may_set_its_pattern(tmp_path):
    for ok in ("P001", "C0042", "AB12", "X7"):
        assert check_new_pseudonym(ok, tmp_path) == ok
    for bad in ("Smith01", "Emma2017", "JaneDoe"):
        with pytest.raises(ParameterError, match="name"):
            check_new_pseudonym(bad, tmp_path)
    settings = tmp_path / SETTINGS_FILE
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"pseudonym_pattern": "^C[0-9]{4}$"}))
    assert check_new_pseudonym("C0042", tmp_path) == "C0042"
    with pytest.raises(ParameterError, match=r"does not follow this clinic's pattern"):
        check_new_pseudonym("P001", tmp_path)
    settings.write_text(json.dumps({"pseudonym_pattern": "^C[0-9"}))
    with pytest.raises(ParameterError, match="not a regular expression"):
        check_new_pseudonym("C0042", tmp_path)


def test_unregistered_id_is_refused_with_a_hint_and_new_ids_are_checked(clinic):
    data, env = clinic
    proc = _run(env, "record", "grip", "--device", "sim://grip", "--participant", "P0077", "--yes", ok=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1
    assert "P0077 is not a registered client" in lines[0] and "--new" in lines[0]
    assert not any(data.rglob("*_motion.tsv"))
    proc = _run(
        env, "record", "grip", "--device", "sim://grip", "--participant", "Smith01", "--new", ok=False
    )
    assert proc.returncode == 2 and "looks like a name" in proc.stderr


def test_fault_hints_bare_port_future_time_and_emulators(clinic):
    _, env = clinic
    _run(env, "client", "add", "P0001", "--birth-year", "1980", "--sex", "M", "--dominant", "right")
    proc = _run(env, "record", "grip", "--device", "/dev/ttyUSB0", "--participant", "P0001", ok=False)
    assert proc.returncode == 2 and "serial:///dev/ttyUSB0?protocol=" in proc.stderr
    proc = _run(
        env, "record", "grip", "--device", "sim://grip", "--participant", "P0001", "--acq-time", "2099-05-01T10:00",
        ok=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "in the future" in proc.stderr
    proc = _run(env, "devices", "--probe", "--timeout", "0.5")
    assert "sim://grip" in proc.stdout and "sim://pen" in proc.stdout and "sim://pinch" in proc.stdout


def test_task_defaults_follow_the_client(clinic):
    data, env = clinic
    _run(env, "client", "add", "A0065", "--birth-year", "1961", "--sex", "F", "--dominant", "left")
    _run(env, "client", "add", "K0009", "--birth-year", "2017", "--sex", "M", "--dominant", "left")
    fast = ["--duration", "2", "--countdown", "0.2", "--yes", "--no-live", "--device", "sim://pen?seed=3"]
    _run(env, "record", "handwriting", "--participant", "A0065", *fast)
    _run(env, "record", "handwriting", "--participant", "K0009", *fast)
    recs = {r.metadata.participant: r for r in map(read_recording, find_recordings(data))}
    adult, child = recs["A0065"], recs["K0009"]
    assert adult.metadata.hand == child.metadata.hand == "left"  # the dominant hand
    a_params = adult.metadata.extra["protocol"]["parameters"]
    c_params = child.metadata.extra["protocol"]["parameters"]
    assert a_params["age_band"] == "adult" and "jeopardize" in a_params["prompt"]
    assert c_params["age_band"] == "child" and "quick brown fox" in c_params["prompt"]
    assert c_params.get("audience") == "child" and "audience" not in a_params


# ------------------------------------------------------------------ calibration
def test_imu_calibration_works_on_the_pen_emulator(clinic):
    _, env = clinic
    proc = _run(
        env,
        "calibrate",
        "imu",
        "--device",
        "sim://pen?acc_scale=1.02&gyro_bias=0.5",
        "--yes",
        "--still-s",
        "1",
    )
    assert "Saved calibration" in proc.stdout
    (saved,) = (p for p in (clinic[0].parent / "config").rglob("*.json"))
    cal = json.loads(saved.read_text())
    assert cal["kind"] == "imu"
    assert cal["extra"]["acc_scale"][0] == pytest.approx(1.02, rel=2e-3)  # the emulated gain, found
    assert cal["extra"]["gyro_bias_dps"][2] == pytest.approx(0.5, abs=0.05)


def test_force_beyond_the_calibrated_range_is_flagged(clinic):
    data, env = clinic
    proc = _run(env, "calibrate", "force", "--device", "sim://grip", "--yes", "--masses-kg", "5,10,20")
    assert "Calibrated range 0–20.0 kg" in proc.stdout
    proc = _run(env, "calibrate", "check", "--device", "sim://grip", "--yes", "--mass-kg", "30")
    assert "above the calibrated range (20.0 kg)" in proc.stdout
    _run(env, "client", "add", "P0002", "--birth-year", "1980", "--sex", "M", "--dominant", "right")
    _run(
        env, "record", "grip", "--device", "sim://grip?peak_n=300", "--participant", "P0002", "--trials", "1",
        "--countdown", "0.2", "--squeeze", "1.5", "--yes", "--no-live",
    )  # fmt: skip
    (motion,) = find_recordings(data)
    side = json.loads(motion.with_name(motion.name.replace(".tsv", ".json")).read_text())
    assert "above the calibrated range (196 N" in side["MotorlabCalibrationWarning"]


# ------------------------------------------------------------------ live panel
def _text(renderable) -> str:
    console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_force_scale_is_fixed_labelled_in_kg_and_shows_the_whole_trial():
    assert force_scale_kg(None, 4.0) == 10.0 and force_scale_kg(31.0, 12.0) == 40.0
    assert force_scale_kg(None, math.nan) == 10.0
    # a 6-s trial sampled at 10 Hz: the first second is at 20 kg, the rest at 5 kg
    t = tuple(100 + i / 10 for i in range(60))
    kg = tuple(20.0 if i < 10 else 5.0 for i in range(60))
    lines = force_chart(t, kg, 100.0, 6.0, 40.0, target_kg=31.0, width=60, height=8)
    assert [ln.split("┤")[0].strip() for ln in lines if "┤" in ln] == ["40 kg", "30 kg", "20 kg", "10 kg"]
    assert lines[-1].startswith("    0 kg └")
    bars = [ln[10:] for ln in lines[:-1]]
    assert bars[4][:10] == "█" * 10 and bars[4][10:].strip() == ""  # 20 kg reaches row 4 only at first
    assert bars[7] == "█" * 60  # every column shows the 5-kg hold: the whole trial is on screen
    assert bars[1][20:40] == "┈" * 20  # the previous best (31 kg) as a dotted line


def test_pen_panel_shows_pen_down_tip_force_and_strokes_not_force_bars():
    snap = LiveSnapshot(
        protocol="handwriting-copy",
        task="handwriting",
        step=StepState(kind="trial", text="Write", left_s=3.0, trial_index=1, trial_total=1, hand="left"),
        signal=SignalState(channel="tip_force", unit="N", now=1.42, pen_down=True, strokes=7),
    )
    text = _text(render(snap))
    assert "PEN DOWN ●" in text and "1.42 N" in text and "strokes so far" in text and " 7 " in text
    assert "(write)" in text and "squeeze" not in text and "kg" not in text
    up = _text(
        render(LiveSnapshot("handwriting-copy", "handwriting", signal=SignalState(unit="N", pen_down=False)))
    )
    assert "pen up ○" in up


def test_tracker_counts_pen_down_segments():
    tr = SignalTracker(primary=0, down_threshold=0.05)
    force = [0, 0, 1, 1, 0, 0, 1, 0, 1, 1]
    import numpy as np

    tr.update(np.arange(5.0), np.array(force[:5], float)[:, None], 0)
    assert (tr.strokes, tr.pen_down) == (1, False)
    tr.update(np.arange(5.0, 10.0), np.array(force[5:], float)[:, None], 0)
    assert (tr.strokes, tr.pen_down) == (3, True)
    tr.reset_trial_peak()  # a new trial begins with the pen on the paper: that is its first stroke
    assert tr.strokes == 1


def test_note_typing_does_not_send_controls():
    keys = TerminalKeys()
    notes, shown = [], []
    keys.on_note, keys.on_typing = notes.append, shown.append
    for ch in "nx ok\x7fk\r":
        keys.key(ch)
    assert notes == ["x ok"] and shown[-1] is None and keys.queue.empty()
    keys.key("x")
    assert keys.queue.get_nowait() == "invalid"


# ------------------------------------------------------------------ dexterity
def test_peg_timer_times_trials_and_replaces_an_invalid_one():
    timer = PegTimer(("left", "right"), 1, ScriptedKeys("_@0.1,_@0.6,_@0.8,x@0.9,_@1.0,_@1.1,_@1.4"))
    trials = asyncio.run(timer.run())
    assert [(t.hand, t.status) for t in trials] == [
        ("left", "valid"),
        ("right", "invalid"),
        ("right", "valid"),
    ]
    assert trials[0].time_s == pytest.approx(0.5, abs=0.15) and trials[2].time_s == pytest.approx(
        0.3, abs=0.08
    )
    assert timer.state.trial_total == 3 and timer.state.trial_index == 3


def test_peg_timer_x_after_the_last_trial_adds_a_replacement():
    keys = ScriptedKeys("_@0.1,_@0.4,x@0.6,_@0.8,_@1.0,_@1.2")
    timer = PegTimer(("right",), 1, keys, confirm_end=True)
    trials = asyncio.run(timer.run())
    assert [t.status for t in trials] == ["invalid", "valid"]
    assert trials[1].time_s == pytest.approx(0.2, abs=0.15) and timer.state.trial_total == 2


def test_pegs_and_boxblock_are_stored_and_summarised(clinic):
    data, env = clinic
    _run(env, "client", "add", "K0010", "--birth-year", "2016", "--sex", "F", "--dominant", "left")
    proc = _run(env, "record", "pegs", "--participant", "K0010", "--times", "24,30", "--note", "wore glasses")
    assert "left hand: 24.0 s (22.5 pegs/min)" in proc.stdout
    _run(env, "record", "boxblock", "--participant", "K0010", "--count", "left=40", "--count", "right=35")
    pegs = analyze_dexterity(next(data.rglob("*_task-ninehole_beh.tsv")))
    assert [(t.hand, t.value) for t in pegs.trials] == [("left", 24.0), ("right", 30.0)]
    assert pegs.summary("right").per_min == pytest.approx(pegs_per_minute(30.0)) == pytest.approx(18.0)
    assert pegs.notes[0]["text"] == "wore glasses" and pegs.session == "01"
    assert read_notes(next(data.rglob("*_task-ninehole_beh.tsv"))) == [
        {"time_s": 0.0, "text": "wore glasses"}
    ]
    box = analyze_dexterity(next(data.rglob("*_task-boxblock_beh.tsv")))
    assert box.session == "01"  # the same visit: today's session
    assert box.summary("left").mean == 40 and box.summary("right").per_min == pytest.approx(35.0)
    assert all("no norm" in r["norm_note"] for r in box.to_rows() if r["row"] == "summary")
    with pytest.warns(Warning, match="not a positive time"):
        assert math.isnan(pegs_per_minute(0.0))


def test_bell_rings_once_per_countdown_and_trial_start():
    import io

    from motorlab.ui.terminal import TerminalView

    out = io.StringIO()
    view = TerminalView(Console(file=out, force_terminal=True, width=100), bell=True)
    steps = [("instruction", 0.0), ("countdown", 1.0), ("countdown", 1.0), ("trial", 2.0), ("rest", 3.0)]
    for kind, started in steps:
        view.update(LiveSnapshot("grip-maximal", "grip", step=StepState(kind=kind, started_s=started)))
    assert out.getvalue().count("\a") == 2  # the countdown began, the trial began
    quiet = io.StringIO()
    view = TerminalView(Console(file=quiet, force_terminal=True, width=100))
    view.update(LiveSnapshot("grip-maximal", "grip", step=StepState(kind="countdown", started_s=1.0)))
    assert "\a" not in quiet.getvalue()
