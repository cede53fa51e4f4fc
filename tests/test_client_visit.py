"""A full client visit, end to end, through the CLI and the emulators.

Two sessions a week apart (grip both hands, spiral, handwriting, rest and
postural tremor), recorded non-interactively (--yes), with a goal on right-hand
grip; then `motorlab report` builds the HTML and PDF. The virtual client is
stronger in the second session, by more than the minimal detectable change.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.storage.bids import find_recordings, read_recording

FAST = ["--yes", "--no-live", "--countdown", "0.5"]


def _run(env, *args, timeout=180):
    proc = subprocess.run(
        [sys.executable, "-m", "motorlab", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"motorlab {' '.join(args)}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _visit(env, when: str, peak_n: float, seed: int) -> None:
    common = ["--participant", "C101", "--acq-time", when]
    _run(
        env,
        "record",
        "grip",
        "--device",
        f"sim://grip?seed={seed}&peak_n={peak_n}",
        "--hand",
        "both",
        "--trials",
        "3",
        "--squeeze",
        "1.5",
        "--rest",
        "0.5",
        *common,
        *FAST,
    )
    _run(env, "record", "spiral", "--device", f"sim://pen?seed={seed}", "--time-limit", "12", *common, *FAST)
    _run(
        env, "record", "handwriting", "--device", f"sim://pen?seed={seed}", "--duration", "8", *common, *FAST
    )
    _run(env, "record", "tremor", "--device", f"sim://pen?seed={seed}", "--hold", "5", *common, *FAST)


@pytest.mark.slow
def test_two_sessions_a_week_apart_then_report(tmp_path):
    data = tmp_path / "clinic"
    env = {**os.environ, "MOTORLAB_DATA": str(data)}
    _run(env, "client", "add", "C101", "--birth-year", "1971", "--sex", "F", "--dominant", "right")
    _visit(env, "2026-11-09T10:00", peak_n=240.0, seed=1)
    _run(
        env,
        "goals",
        "set",
        "C101",
        "--metric",
        "grip_strength_kgf",
        "--hand",
        "right",
        "--title",
        "Open a jar with the right hand",
        "--baseline",
        "24.5",
        "--thresholds",
        "22,24,26,28,30",
        "--weight",
        "1",
        "--target-date",
        "2027-02-01",
    )
    _visit(env, "2026-11-16T10:00", peak_n=300.0, seed=2)

    # every task of both sessions is on disk and analysable
    recs = [read_recording(p) for p in find_recordings(data)]
    tasks = sorted((r.metadata.session, r.metadata.task) for r in recs)
    assert tasks == sorted(
        (s, t)
        for s in ("01", "02")
        for t in ("grip", "spiral", "handwriting", "tremorrest", "tremorpostural")
    )
    grip2 = next(r for r in recs if r.metadata.session == "02" and r.metadata.task == "grip")
    rows = analyze_recording(grip2).to_rows()
    right = next(r for r in rows if r["row"] == "summary" and r["hand"] == "right")
    assert right["n_used"] == 3 and right["mean_of_3_N"] == pytest.approx(300.0, rel=0.06)
    assert {r["hand"] for r in rows if r["row"] == "trial"} == {"right", "left"}

    out = _run(env, "report", "C101")
    html = next((data / "derivatives").rglob("*ses-02*_report.html"))
    pdf = html.with_suffix(".pdf")
    assert pdf.exists() and pdf.stat().st_size > 10_000
    text = html.read_text()
    assert "C101" in text and "data:image/png;base64," in text
    # change since last session is beyond the MDC: called a real improvement
    assert "real improvement" in text
    # goal attainment is scored
    assert "Open a jar with the right hand" in text and "T-score" in text
    # emulated data is never presented as a real measurement
    assert "emulat" in text.lower()
    assert str(html) in out or html.name in out
