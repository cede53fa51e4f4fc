"""Calibration and recording share one acquisition path: a force calibration made with
`motorlab calibrate` is picked up by the next recording of the same device serial."""

from __future__ import annotations

import asyncio

import pytest

from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.cli.main import main
from motorlab.devices.calibration import CalibrationStore
from motorlab.session import RecordingTarget, grip_protocol, record_task
from motorlab.storage.bids import read_recording


def test_force_calibration_is_applied_by_the_next_recording(tmp_path, capsys):
    url = "sim://grip?seed=41&gain_error=0.05&offset_n=12&peak_n=300"  # reads 5 % high
    argv = ["calibrate", "force", "--device", url, "--masses-kg", "0,5,10,20", "--yes", "--average-s", "0.5"]
    assert main(argv) == 0, capsys.readouterr().err
    (cal,) = CalibrationStore().all()
    assert cal.gain["force"] == pytest.approx(1 / 1.05, rel=0.002)

    protocol = grip_protocol(trials=1, countdown_s=0.2, squeeze_s=1.5)
    result = asyncio.run(record_task(url, protocol, RecordingTarget(tmp_path, "P041")))
    assert result.calibration_id == cal.id
    rec = read_recording(result.path)
    assert rec.metadata.calibration_id == cal.id
    grip = analyze_recording(rec).grip
    assert grip is not None
    (trial,) = grip.trials
    true_peak = result.truth[0]["peak_n"]
    # calibrated: within 1 % of the participant's true peak (uncalibrated it would read 5 % high)
    assert trial.result.peak_force_N == pytest.approx(true_peak, rel=0.01)
