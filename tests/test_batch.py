"""Batch analysis: local processes vs a real Dask LocalCluster, errors table, cache, provenance.

The dataset is generated with known parameters (:mod:`motorlab.sim.dataset`):
205 recordings of five tasks, 5 of them deliberately damaged.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from motorlab.analysis.batch import (
    analyze_batch,
    collect_recordings,
    hash_inputs,
    process_one,
    read_table,
    recording_files,
    write_table,
)
from motorlab.errors import MotorlabError
from motorlab.sim.dataset import generate_dataset, simulate_grip, write_long_tremor
from motorlab.storage.bids import write_recording

N_GOOD, N_BAD = 200, 5


def _nan_equal(a, b) -> bool:
    """Rows equal value for value, NaN equal to NaN (NaN != NaN, and rows cross process boundaries)."""

    def same(x, y):
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            return True
        return x == y

    return len(a) == len(b) and all(
        ra.keys() == rb.keys() and all(same(ra[k], rb[k]) for k in ra) for ra, rb in zip(a, b)
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds")
    return generate_dataset(root, n_recordings=N_GOOD, n_corrupt=N_BAD, seed=11)


@pytest.fixture(scope="module")
def local_run(dataset):
    return analyze_batch(dataset.root, jobs=2)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import warnings

    with warnings.catch_warnings():  # its loopback HTTP server may move off a busy port 8787
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        c = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
    with c:
        yield c


def _name(ds, path: Path) -> str:
    return path.relative_to(ds.root).as_posix()


def test_local_and_dask_tables_identical(dataset, local_run, cluster, tmp_path):
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    dask_run = analyze_batch(dataset.root, scheduler=cluster.scheduler_address)
    assert dask_run.provenance["executor"]["kind"] == "dask"
    assert local_run.provenance["executor"]["kind"] == "processes"
    assert len(local_run.rows) > N_GOOD
    assert _nan_equal(dask_run.rows, local_run.rows)
    a = local_run.write(tmp_path / "local" / "results.csv")
    b = dask_run.write(tmp_path / "dask" / "results.csv")
    assert a[0].read_bytes() == b[0].read_bytes()
    assert a[1].read_bytes() == b[1].read_bytes()


def test_errors_table_lists_exactly_the_damaged_files(dataset, local_run, tmp_path):
    errors = [e for e in local_run.errors if e["level"] == "error"]
    assert sorted(e["recording"] for e in errors) == sorted(_name(dataset, p) for p in dataset.corrupted)
    for e in errors:
        assert "\n" not in e["message"] and e["message"]
        assert str(dataset.root) in e["message"]  # names the file
    # and every good recording produced rows
    analysed = {r["recording"] for r in local_run.rows}
    assert analysed == {_name(dataset, p) for p in dataset.paths}
    _, errors_csv, _ = local_run.write(tmp_path / "out.csv")
    table = read_table(errors_csv)
    assert {r["recording"] for r in table if r["level"] == "error"} == {e["recording"] for e in errors}


def test_rows_match_generator_truth(dataset, local_run):
    """Table rows land on the right recording and trial: compare with the generating parameters."""
    by_rec: dict[str, list[dict]] = {}
    for row in local_run.rows:
        by_rec.setdefault(row["recording"], []).append(row)
    checked = {"grip": 0, "tremor": 0, "spiral": 0}
    for sim in dataset.recordings:
        rows, truth = by_rec[_name(dataset, sim.path)], sim.truth
        assert all(r["participant"] == sim.recording.metadata.participant for r in rows)
        if truth["task"] in ("grip", "gripsustained"):
            trial_rows = sorted((r for r in rows if r["row"] == "trial"), key=lambda r: r["trial"])
            assert [r["trial"] for r in trial_rows] == [t["trial"] for t in truth["trials"]]
            for r, t in zip(trial_rows, truth["trials"]):
                assert r["peak_force_N"] == pytest.approx(t["peak_n"], abs=2.0)  # noise sd 0.3 N
                assert r["hand"] == truth["hand"]
            checked["grip"] += 1
        elif truth["task"].startswith("tremor"):
            (r,) = rows
            assert r["tremor_peak_freq_Hz"] == pytest.approx(truth["freq_hz"], abs=0.3)
            checked["tremor"] += 1
        elif truth["task"] == "spiral":
            (r,) = rows
            assert r["loop_spacing_cm"] == pytest.approx(0.5, rel=0.02)
            checked["spiral"] += 1
    assert min(checked.values()) >= 30


def test_rerun_uses_cache_and_recomputes_what_changed(dataset, tmp_path):
    root = tmp_path / "small"
    shutil.copytree(dataset.root / "sub-S0001", root / "sub-S0001")
    shutil.copytree(dataset.root / "sub-S0002", root / "sub-S0002")
    cache = tmp_path / "cache"
    first = analyze_batch(root, jobs=1, cache_dir=cache)
    assert first.provenance["counts"]["cached"] == 0 and first.provenance["counts"]["recordings"] == 10
    second = analyze_batch(root, jobs=1, cache_dir=cache)
    assert second.provenance["counts"]["cached"] == 10
    assert _nan_equal(second.rows, first.rows)
    # change one recording: a different grip written over the same name
    target = next(p for p in sorted(root.rglob("*task-grip_*_motion.tsv")))
    for f in recording_files(target):
        f.unlink()
    new = simulate_grip("S0001", "01", peak_n=(111.0, 222.0, 333.0), seed=5)
    assert write_recording(new.recording, root) == target
    third = analyze_batch(root, jobs=1, cache_dir=cache)
    status = {k: v["status"] for k, v in third.provenance["inputs"].items()}
    changed = target.relative_to(root).as_posix()
    assert status[changed] == "analysed"
    assert sum(s == "cached" for s in status.values()) == 9
    peaks = [r["peak_force_N"] for r in third.rows if r["recording"] == changed and r["row"] == "trial"]
    assert peaks == pytest.approx([111.0, 222.0, 333.0], abs=2.0)
    # different parameters: nothing may come from the cache
    fourth = analyze_batch(root, {"grip": {"onset_threshold_n": 10.0}}, jobs=1, cache_dir=cache)
    assert fourth.provenance["counts"]["cached"] == 0


def test_provenance_records_versions_parameters_and_input_hashes(dataset, local_run, tmp_path):
    import motorlab
    from motorlab.analysis.params import AnalysisParams

    _, _, prov_path = local_run.write(tmp_path / "res.csv")
    prov = json.loads(prov_path.read_text())
    assert prov["software"]["motorlab"] == motorlab.__version__
    assert prov["parameters"] == json.loads(json.dumps(AnalysisParams().to_dict()))
    assert prov["table"] == "res.csv" and prov["errors_table"] == "res_errors.csv"
    assert prov["counts"]["errors"] == N_BAD and prov["counts"]["recordings"] == N_GOOD + N_BAD
    p = dataset.paths[17]
    files = prov["inputs"][_name(dataset, p)]["files"]
    assert files[p.name] == hashlib.sha256(p.read_bytes()).hexdigest()
    events = p.with_name(p.name.replace("_motion.tsv", "_events.tsv"))
    assert files[events.name] == hashlib.sha256(events.read_bytes()).hexdigest()
    assert hash_inputs(p) == files


def test_table_csv_round_trip_with_units_in_column_names(local_run, tmp_path):
    out, _, _ = local_run.write(tmp_path / "t.csv")
    table = read_table(out)
    assert len(table) == len(local_run.rows)
    assert list(table[0])[:6] == ["recording", "participant", "session", "task", "tracksys", "run"]
    assert "peak_force_N" in table[0] and "tremor_peak_freq_Hz" in table[0]
    for src, back in zip(local_run.rows, table):
        v = src.get("peak_force_N")
        if isinstance(v, float) and np.isfinite(v):
            assert float(back["peak_force_N"]) == v  # full precision
        elif v is None:
            assert back["peak_force_N"] == "n/a"


def test_missing_and_foreign_paths_are_reported_not_fatal(dataset, tmp_path):
    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    one = dataset.paths[0]
    res = analyze_batch([one, tmp_path / "nope", stray], jobs=1)
    assert {r["recording"] for r in res.rows} == {one.name}
    msgs = {e["recording"]: e["message"] for e in res.errors if e["level"] == "error"}
    assert set(msgs) == {str(tmp_path / "nope"), str(stray)}
    assert "no such file" in msgs[str(tmp_path / "nope")]
    with pytest.raises(MotorlabError, match="no such file"):
        analyze_batch(tmp_path / "nope")


def test_unreachable_scheduler_is_one_line_error(dataset):
    with pytest.raises(MotorlabError, match=r"cannot connect to Dask scheduler tcp://127\.0\.0\.1:9"):
        analyze_batch(dataset.paths[0], scheduler="tcp://127.0.0.1:9", scheduler_timeout_s=1.0)


def test_private_local_cluster_matches_serial(dataset):
    subset = dataset.paths[:6]
    serial = analyze_batch(subset, jobs=1)
    dask_run = analyze_batch(subset, dask=True, jobs=1)
    assert dask_run.provenance["executor"]["scheduler"] == "LocalCluster(127.0.0.1)"
    assert _nan_equal(dask_run.rows, serial.rows) and len(serial.rows) >= 6


def test_by_trial_mode_matches_whole_recording_per_trial(tmp_path):
    """Streaming one trial window at a time gives the same per-trial grip metrics."""
    sim = simulate_grip("S0901", peak_n=(150.0, 250.0, 350.0), seed=2)
    p = write_recording(sim.recording, tmp_path)
    whole, err = process_one(p)
    assert err is None
    windowed, err = process_one(p, by_trial=True)
    assert err is None
    whole_trials = [r for r in whole if r["row"] == "trial"]
    assert len(windowed) == 3 and all(r["row"] == "trial" for r in windowed)
    for a, b in zip(whole_trials, windowed):
        assert (a["trial"], a["hand"]) == (b["trial"], b["hand"])
        assert b["peak_force_N"] == pytest.approx(a["peak_force_N"], rel=1e-12)
        assert b["time_to_peak_s"] == pytest.approx(a["time_to_peak_s"])


def test_by_trial_long_recording_one_row_per_trial(tmp_path):
    p = write_long_tremor(tmp_path, duration_s=120, fs=1000.0, trial_s=30.0, freq_hz=7.0)
    rows, err = process_one(p, by_trial=True)
    assert err is None
    assert [r["trial"] for r in rows] == [1, 2, 3, 4]
    for r in rows:
        assert r["tremor_peak_freq_Hz"] == pytest.approx(7.0, abs=0.3)
        assert r["tremor_duration_s"] == pytest.approx(30.0, abs=0.01)


def test_collect_names_are_relative_to_the_dataset(dataset):
    found, errors = collect_recordings([dataset.root])
    assert not errors and len(found) == N_GOOD + N_BAD
    assert found[0][0].startswith("sub-S0001/ses-01/motion/sub-S0001_")
    assert [n for n, _ in found] == sorted(n for n, _ in found)


def test_write_table_fills_missing_values(tmp_path):
    rows = [{"recording": "a", "x_N": 1.5}, {"recording": "b", "y_s": float("nan")}]
    out = write_table(rows, tmp_path / "t.csv")
    assert out.read_text() == "recording,x_N,y_s\na,1.5,n/a\nb,n/a,n/a\n"


def test_to_dataframe_needs_pandas_or_works(local_run):
    try:
        import pandas  # noqa: F401
    except ModuleNotFoundError:
        with pytest.raises(MotorlabError, match="pandas is not installed"):
            local_run.to_dataframe()
    else:
        df = local_run.to_dataframe()
        assert len(df) == len(local_run.rows)


def test_cli_analyze_dataset_local_then_scheduler(dataset, local_run, cluster, tmp_path, capsys):
    from motorlab.cli.main import main

    out = tmp_path / "cli" / "results.csv"
    assert main(["analyze", str(dataset.root), "--out", str(out), "--jobs", "2"]) == 1  # some files are bad
    err = capsys.readouterr().err
    assert f"{N_GOOD + N_BAD} recordings (0 from cache)" in err
    assert err.count("motorlab: error: ") == N_BAD
    expected = tmp_path / "api" / "results.csv"
    local_run.write(expected)
    assert out.read_bytes() == expected.read_bytes()
    prov = json.loads((out.parent / "results_provenance.json").read_text())
    assert prov["counts"]["errors"] == N_BAD
    # second run: everything unchanged comes from the cache next to the table
    assert main(["analyze", str(dataset.root), "--out", str(out), "--quiet"]) == 1
    assert capsys.readouterr().err == ""
    prov = json.loads((out.parent / "results_provenance.json").read_text())
    assert prov["counts"]["cached"] == N_GOOD
    assert out.read_bytes() == expected.read_bytes()
    # the same through an existing Dask scheduler
    out2 = tmp_path / "cli2" / "results.csv"
    assert (
        main(
            [
                "analyze",
                str(dataset.root),
                "--out",
                str(out2),
                "--scheduler",
                cluster.scheduler_address,
                "--no-cache",
                "--quiet",
            ]
        )
        == 1
    )
    assert out2.read_bytes() == expected.read_bytes()


def test_cli_single_file_still_prints_a_table(dataset, capsys):
    from motorlab.cli.main import main

    grip = next(s for s in dataset.recordings if s.truth["task"] == "grip")
    assert main(["analyze", str(grip.path)]) == 0
    assert "peak_force_N" in capsys.readouterr().out


def test_by_trial_without_durations_uses_next_onset(tmp_path):
    import dataclasses

    from motorlab.recording import Event

    sim = simulate_grip("S0902", peak_n=(120.0, 240.0), seed=4)
    rec = sim.recording
    events = [
        Event(e.onset, 0.0, e.trial_type, e.extra) if e.trial_type == "trial" else e for e in rec.events
    ]
    p = write_recording(dataclasses.replace(rec, events=events), tmp_path)
    rows, err = process_one(p, by_trial=True)
    assert err is None
    assert [r["peak_force_N"] for r in rows] == pytest.approx([120.0, 240.0], abs=2.0)
