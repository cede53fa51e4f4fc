"""Pinch strength in the clinic's report and export: recorded on the emulated pinch gauge
(real pty, real driver), shown per grip and hand in kg, without a norm."""

from __future__ import annotations

import csv

import pytest

from motorlab.analysis.recording_metrics import analyze_recording
from motorlab.clinic import ClientRegistry, make_client
from motorlab.clinic.export import export_client
from motorlab.report import build_report
from motorlab.session.protocols import pinch_protocol
from motorlab.session.recorder import RecordingTarget, record_task
from motorlab.storage.bids import read_recording


async def test_pinch_in_report_and_export(tmp_path):
    root = tmp_path / "clinic"
    ClientRegistry(root).add(make_client("P040", 2016, "M", "right"))
    proto = pinch_protocol(trials=2, hands=("right",), countdown_s=0.3, squeeze_s=0.8, rest_s=0.2)
    res = await record_task("sim://pinch?seed=5&key_n=90", proto, RecordingTarget(root, "P040"))
    truth = analyze_recording(read_recording(res.path)).pinch
    files = build_report(root, "P040", out_dir=tmp_path / "out")
    for grip in ("tip", "key", "palmar"):
        ln = files.data.line(f"pinch_{grip}_kgf", "right")
        assert ln.value == pytest.approx(truth.summary(grip, "right").summary.mean_of_3_kgf)
        assert ln.metric.unit == "kg" and ln.n_trials == 2 and ln.norm is None
    results = files.document.section("results")
    assert any(getattr(b, "text", "") == "Pinch strength" for b in results.blocks)
    traces = files.document.section("traces")
    assert sum(type(b).__name__ == "Figure" for b in traces.blocks) == 1
    path, n = export_client(root, "P040", tmp_path / "p.csv")
    with path.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["task"] == "pinch"]
    assert n == 3 and [r["measure"] for r in rows] == ["pinch_tip_kgf", "pinch_key_kgf", "pinch_palmar_kgf"]
    key = next(r for r in rows if r["measure"] == "pinch_key_kgf")
    assert float(key["value"]) == pytest.approx(truth.summary("key", "right").summary.mean_of_3_kgf, abs=1e-3)
    assert key["unit"] == "kg" and key["trials"] == "2"
