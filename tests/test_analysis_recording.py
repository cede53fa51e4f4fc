"""analyze_recording on in-memory and on-disk recordings, and the `motorlab analyze` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from motorlab import Channel, Event, Metadata, Recording
from motorlab.analysis import DEFAULTS, AnalysisParams, analysis_parameters, analyze_recording
from motorlab.cli.main import main
from motorlab.errors import MotorlabError

FORCE = Channel("force", "MISC", "N", tracked_point="handle")


def effort(t: np.ndarray, onset: float, peak: float, rise: float = 0.3, hold: float = 2.0) -> np.ndarray:
    """Minimum-jerk rise to ``peak`` (N) then a flat hold and an instant release."""
    s = np.clip((t - onset) / rise, 0, 1)
    f = peak * (10 * s**3 - 15 * s**4 + 6 * s**5)
    return np.where(t > onset + rise + hold, 0.0, f)


def grip_recording(peaks_right, peaks_left, fs=100.0, statuses=None, extra=None) -> Recording:
    force_parts, events = [], []
    t0 = 0.0
    all_trials = [("right", p) for p in peaks_right] + [("left", p) for p in peaks_left]
    statuses = statuses or ["valid"] * len(all_trials)
    for k, ((hand, peak), status) in enumerate(zip(all_trials, statuses)):
        t = np.arange(int(5 * fs)) / fs
        force_parts.append(effort(t, 1.0, peak))
        events.append(Event(t0, 5.0, "trial", {"trial": k + 1, "hand": hand, "status": status}))
        t0 += 5.0
    force = np.concatenate(force_parts)
    ts = np.arange(force.size) / fs
    md = Metadata("P001", task="grip", extra=extra or {})
    return Recording(ts, force[:, None], [FORCE], fs, md, events)


def test_grip_rows_per_trial_and_summaries():
    rec = grip_recording([300.0, 310.0, 290.0], [250.0, 260.0, 240.0], extra={"age": 30, "sex": "M"})
    rows = analyze_recording(rec).to_rows()
    trials = [r for r in rows if r["row"] == "trial"]
    assert [r["peak_force_N"] for r in trials] == pytest.approx([300, 310, 290, 250, 260, 240], abs=1e-9)
    assert all(r["time_to_peak_s"] == pytest.approx(0.3 - 0.0, abs=0.05) for r in trials)
    summary = {r["hand"]: r for r in rows if r["row"] == "summary"}
    assert summary["right"]["mean_of_3_N"] == pytest.approx(300.0)
    assert summary["left"]["mean_of_3_kgf"] == pytest.approx(250.0 / 9.80665)
    assert summary["both"]["bilateral_ratio"] == pytest.approx(1.2)
    # norms: Mathiowetz 1985 men 30-34 right 121.8 lb
    assert summary["right"]["norm_mean_kg"] == pytest.approx(121.8 * 0.45359237)
    assert summary["right"]["norm_z"] == pytest.approx(
        (300 / 9.80665 - 121.8 * 0.45359237) / (22.4 * 0.45359237)
    )
    assert all(r["participant"] == "P001" and r["task"] == "grip" for r in rows)


def test_grip_invalid_trials_are_reported_but_not_summarised():
    rec = grip_recording([300.0, 100.0, 290.0], [], statuses=["valid", "invalid", "valid"])
    rows = analyze_recording(rec).to_rows()
    trials = [r for r in rows if r["row"] == "trial"]
    assert [r["status"] for r in trials] == ["valid", "invalid", "valid"]
    assert trials[1]["peak_force_N"] == pytest.approx(100.0)
    summary = next(r for r in rows if r["row"] == "summary")
    assert summary["n_valid"] == 2 and summary["mean_of_3_N"] == pytest.approx(295.0)


def test_grip_without_events_finds_efforts_by_threshold():
    rec = grip_recording([200.0, 220.0], [])
    rec = Recording(rec.timestamps, rec.data, rec.channels, rec.sampling_rate, rec.metadata, [])
    rows = [r for r in analyze_recording(rec).to_rows() if r["row"] == "trial"]
    assert [r["peak_force_N"] for r in rows] == pytest.approx([200.0, 220.0])


def test_grip_irregular_timestamps_are_resampled():
    rec = grip_recording([300.0], [], fs=100.0)
    jitter = np.random.default_rng(3).uniform(-0.002, 0.002, rec.n_samples)
    ts = rec.timestamps + jitter
    ts[0] = 0.0
    rec2 = Recording(ts, rec.data, rec.channels, 100.0, rec.metadata, rec.events)
    row = analyze_recording(rec2).to_rows()[0]
    assert row["peak_force_N"] == pytest.approx(300.0, rel=0.01)


def tremor_recording(freq=6.0, amp=0.4, fs=100.0, seconds=60.0, task="tremorpostural") -> Recording:
    t = np.arange(int(seconds * fs)) / fs
    rng = np.random.default_rng(0)
    acc = np.column_stack(
        [
            amp * np.sin(2 * np.pi * freq * t),
            0.5 * amp * np.sin(2 * np.pi * freq * t + 1.0),
            9.80665 + 0.0 * t,
        ]
    ) + 0.01 * rng.standard_normal((t.size, 3))
    gyr = 20 * np.column_stack([np.cos(2 * np.pi * freq * t), 0 * t, 0 * t])
    chans = [Channel(f"acc_{a}", "ACCEL", "m/s^2", a) for a in "xyz"] + [
        Channel(f"gyr_{a}", "GYRO", "deg/s", a) for a in "xyz"
    ]
    return Recording(t, np.column_stack([acc, gyr]), chans, fs, Metadata("P002", task=task))


def test_tremor_row_has_unit_keys_and_truth():
    rows = analyze_recording(tremor_recording()).to_rows()
    assert len(rows) == 1
    row = rows[0]
    assert row["tremor_peak_freq_Hz"] == pytest.approx(6.0, abs=0.05)
    expected_rms = math.sqrt(0.4**2 / 2 + 0.2**2 / 2)
    assert row["tremor_rms_m_per_s2"] == pytest.approx(expected_rms, rel=0.03)
    assert row["gyro_tremor_peak_freq_Hz"] == pytest.approx(6.0, abs=0.05)
    assert "parkinsonian range" in row["tremor_hints"] and "essential range" in row["tremor_hints"]
    assert row["tremor_tsi_Hz"] < 0.1  # a pure sinusoid is perfectly stable


def test_tremor_with_gap_event_and_nan_samples():
    rec = tremor_recording(freq=5.0)
    rec.data[2000:2300, :] = np.nan  # 3 s link gap
    rec = rec.with_events([Event(20.0, 3.0, "gap")])
    row = analyze_recording(rec).to_rows()[0]
    assert row["tremor_peak_freq_Hz"] == pytest.approx(5.0, abs=0.05)
    assert row["tremor_duration_s"] == pytest.approx(57.0, abs=0.02)


def test_spiral_and_handwriting_rows_from_positions():
    fs = 100.0
    t = np.arange(int(20 * fs)) / fs
    theta = t / 20 * 6 * np.pi
    r = 0.4 * theta
    pos = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    chans = [
        Channel("pos_x", "POS", "cm", "x"),
        Channel("pos_y", "POS", "cm", "y"),
        Channel("tip_force", "MISC", "N"),
    ]
    tip = np.full(t.size, 1.0)
    rec = Recording(t, np.column_stack([pos, tip]), chans, fs, Metadata("P003", task="spiral"))
    row = analyze_recording(rec).to_rows()[0]
    assert row["loop_spacing_cm"] == pytest.approx(2 * np.pi * 0.4, rel=1e-6)
    assert row["position_source"] == "position"

    y = 0.5 * np.sin(2 * np.pi * 2 * t[:400])
    hw = np.column_stack([2.0 * t[:400], y, np.where((t[:400] > 1.9) & (t[:400] < 2.1), 0.0, 1.0)])
    rec = Recording(t[:400], hw, chans, fs, Metadata("P003", task="handwriting"))
    row = analyze_recording(rec).to_rows()[0]
    assert row["n_pen_lifts"] == 1
    assert row["in_air_time_s"] == pytest.approx(0.19, abs=0.011)
    assert row["stroke_duration_s"] == pytest.approx(0.25, abs=0.002)
    assert row["stroke_sparc_mean"] < 0


def test_parameters_provenance_and_unknown_names():
    merged = AnalysisParams.from_mapping({"tremor": {"band_hz": (4.0, 8.0)}})
    assert merged.tremor.band_hz == (4.0, 8.0)
    assert merged.grip == AnalysisParams().grip
    assert analysis_parameters({"tremor": {"band_hz": (4.0, 8.0)}})["grip"] == DEFAULTS["grip"]
    with pytest.raises(MotorlabError, match="tremor.bandd"):
        analysis_parameters({"tremor": {"bandd": (4, 8)}})
    with pytest.raises(MotorlabError, match="unknown analysis parameter section"):
        analysis_parameters({"tremors": {}})


def test_unknown_task_and_missing_channel_are_one_line_errors():
    rec = tremor_recording()
    bad = Recording(
        rec.timestamps, rec.data[:, :1], [Channel("x", "MISC", "V")], 100.0, Metadata("P004", task="grip")
    )
    with pytest.raises(MotorlabError, match="no force channel"):
        analyze_recording(bad)
    other = Recording(
        rec.timestamps, rec.data[:, :1], [Channel("x", "MISC", "V")], 100.0, Metadata("P004", task="reach")
    )
    with pytest.raises(MotorlabError, match="no analysis for task 'reach'"):
        analyze_recording(other)


def test_cli_analyze_prints_table_and_json(tmp_path, capsys):
    from motorlab.storage.bids import write_recording

    path = write_recording(grip_recording([300.0, 310.0, 290.0], []), tmp_path)
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "peak_force_N" in out and "310" in out and "mean_of_3_N" in out
    assert main(["analyze", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[1]["peak_force_N"] == pytest.approx(310.0)


def test_cli_analyze_bad_input_is_one_line(tmp_path, capsys):
    missing = tmp_path / "nope_motion.tsv"
    assert main(["analyze", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("motorlab: ") and len(err.strip().splitlines()) == 1
    params = tmp_path / "p.json"
    params.write_text("{not json")
    from motorlab.storage.bids import write_recording

    path = write_recording(grip_recording([300.0], []), tmp_path / "ds")
    assert main(["analyze", str(path), "--params", str(params)]) == 2
    err = capsys.readouterr().err
    assert "p.json" in err and len(err.strip().splitlines()) == 1
