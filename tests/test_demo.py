"""README command 1: `motorlab demo` records on the emulator and prints metrics
whose per-trial peaks are within 1 % of the virtual participant's truth."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.storage.bids import find_recordings, read_recording


def test_demo_runs_end_to_end_and_matches_truth(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "motorlab", "demo", "--out", str(out), "--no-live"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "true peak N" in proc.stdout and "mean of 3" in proc.stdout
    (motion,) = find_recordings(out)
    side = json.loads(motion.with_name(motion.name.replace("_motion.tsv", "_motion.json")).read_text())
    assert side["MotorlabStatus"] == "complete" and side["MotorlabEmulated"] is True
    truth = [t["peak_n"] for t in side["MotorlabEmulatorTruth"]]
    trials = [r for r in analyze_recording(read_recording(motion)).to_rows() if r["row"] == "trial"]
    assert len(trials) == len(truth) == 3
    for row, true_peak in zip(trials, truth):
        assert row["peak_force_N"] == pytest.approx(true_peak, rel=0.01)
    # the printed table shows the same numbers
    for row in trials:
        assert f"{row['peak_force_N']:.1f}" in proc.stdout
