"""Batch discovery and cache under faults: links, loops, permissions, git-annex layout, code changes.

Permission tests run the real CLI in a subprocess; when the suite runs as root, that
process drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from its capability bounding set
before exec (``prctl(PR_CAPBSET_DROP)``), so file modes apply to it as to any user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import motorlab
from motorlab.analysis.batch import analyze_batch, code_fingerprint, collect_recordings
from motorlab.errors import MotorlabError
from motorlab.sim.dataset import simulate_grip
from motorlab.storage.bids import write_recording

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _drop_dac_capabilities() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _grip(root: Path, participant: str, seed: int = 1) -> Path:
    sim = simulate_grip(participant, peak_n=(200.0, 210.0), seed=seed)
    return write_recording(sim.recording, root)


@pytest.fixture
def world_dir(tmp_path):
    yield tmp_path
    for p in [tmp_path, *tmp_path.rglob("*")]:  # give back what a test made unreadable
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)


def _run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess without the capabilities that let root ignore file modes."""
    return subprocess.run(
        [sys.executable, "-m", "motorlab", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_drop_dac_capabilities if os.geteuid() == 0 else None,
    )


def test_directory_symlink_is_followed_and_a_loop_is_not(tmp_path):
    root = tmp_path / "ds"
    _grip(root, "S01")
    elsewhere = tmp_path / "store"
    _grip(elsewhere, "S02", seed=2)
    (root / "sub-S02").symlink_to(elsewhere / "sub-S02", target_is_directory=True)
    (root / "sub-S01" / "loop").symlink_to(root, target_is_directory=True)  # points back up
    found, errors = collect_recordings([root])
    names = [n for n, _ in found]
    assert names == [
        "sub-S01/ses-01/motion/sub-S01_ses-01_task-grip_tracksys-dynamometer_motion.tsv",
        "sub-S02/ses-01/motion/sub-S02_ses-01_task-grip_tracksys-dynamometer_motion.tsv",
    ]
    assert [e["level"] for e in errors] == ["warning"]
    assert errors[0]["recording"] == "sub-S01/loop" and "not followed again" in errors[0]["message"]
    res = analyze_batch(root, jobs=1)
    assert {r["participant"] for r in res.rows} == {"S01", "S02"}
    assert not [e for e in res.errors if e["level"] == "error"]


def test_git_annex_layout_keeps_link_paths(tmp_path):
    """DataLad datasets: every file is a relative symlink into .git/annex/objects."""
    root = tmp_path / "ds"
    motion = _grip(root, "S03")
    objects = root / ".git" / "annex" / "objects"
    for f in sorted(motion.parent.iterdir()):
        key = f"SHA256E-s{f.stat().st_size}--{f.name}"
        obj = objects / key[:2] / key / key
        obj.parent.mkdir(parents=True)
        shutil.move(f, obj)
        f.symlink_to(os.path.relpath(obj, f.parent))
    assert motion.is_symlink() and motion.resolve().parent.name.startswith("SHA256E")
    res = analyze_batch(root, jobs=1)
    assert [e for e in res.errors if e["level"] == "error"] == []
    peaks = [r["peak_force_N"] for r in res.rows if r["row"] == "trial"]
    assert peaks == pytest.approx([200.0, 210.0], abs=2.0)
    # content not fetched (`datalad get` not run): the link dangles -> an error row naming it
    shutil.rmtree(objects)
    found, errors = collect_recordings([root])
    assert found == []
    assert len(errors) == 1 and errors[0]["level"] == "error"
    assert motion.name in errors[0]["message"] and "datalad get" in errors[0]["message"]


def test_unreadable_subfolder_is_an_error_row_and_exit_1(world_dir):
    root = world_dir / "ds"
    _grip(root, "S04")
    _grip(root, "S05", seed=5)
    (root / "sub-S05").chmod(0o000)
    out = world_dir / "out"
    proc = _run_cli(["analyze", str(root), "--out", str(out / "r.csv"), "--no-cache"], world_dir)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{root / 'sub-S05'}: permission denied" in proc.stderr
    errors = (out / "r_errors.csv").read_text()
    assert "sub-S05,error," in errors
    table = (out / "r.csv").read_text()
    assert "S04" in table and "S05" not in table  # the rest of the batch completed


def test_unreadable_root_is_a_permission_error_not_no_recordings(world_dir):
    root = world_dir / "ds"
    _grip(root, "S06")
    root.chmod(0o000)
    proc = _run_cli(["analyze", str(root), "--out", str(world_dir / "r.csv")], world_dir)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"motorlab: {root}: permission denied: cannot list the dataset folder"]


def test_missing_root_and_empty_root_messages(tmp_path):
    with pytest.raises(MotorlabError, match=r"nope: no such file or folder"):
        analyze_batch(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MotorlabError, match=r"empty: no recordings \(\*_motion.tsv\) found"):
        analyze_batch(tmp_path / "empty")


def test_cache_is_keyed_on_the_analysis_code(tmp_path):
    """Edit a copy of the analysis code: the cache must recompute and provenance must say so."""
    pkg = tmp_path / "pkg"
    shutil.copytree(
        Path(motorlab.__file__).parent, pkg / "motorlab", ignore=shutil.ignore_patterns("__pycache__")
    )
    root = tmp_path / "ds"
    _grip(root, "S07")
    _grip(root, "S08", seed=8)
    script = (
        "import json, sys, motorlab; from motorlab.analysis.batch import analyze_batch;"
        "r = analyze_batch(sys.argv[1], jobs=1, cache_dir=sys.argv[2]);"
        "print(json.dumps({'file': motorlab.__file__, 'prov': r.provenance, "
        "'peaks': [x['peak_force_N'] for x in r.rows if x['row'] == 'trial']}))"
    )

    def run() -> dict:
        # -S: no site processing, so the editable install's finder cannot shadow the copy
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(pkg), sysconfig.get_paths()["purelib"]]))
        out = subprocess.run(
            [sys.executable, "-S", "-c", script, str(root), str(tmp_path / "cache")],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
            check=True,
        )
        return json.loads(out.stdout)

    first = run()
    assert first["file"].startswith(str(pkg))
    assert first["prov"]["counts"]["cached"] == 0
    assert first["prov"]["code_fingerprint"] == code_fingerprint()  # same sources, same fingerprint
    second = run()
    assert second["prov"]["counts"]["cached"] == 2
    assert {v["status"] for v in second["prov"]["inputs"].values()} == {"cached"}
    assert second["peaks"] == first["peaks"]
    # a change to a metric's code: nothing may come from the cache any more
    grip = pkg / "motorlab" / "analysis" / "grip.py"
    grip.write_text(grip.read_text() + "\n# a changed metric\n")
    third = run()
    assert third["prov"]["counts"]["cached"] == 0
    assert third["prov"]["code_fingerprint"] != first["prov"]["code_fingerprint"]
    inputs = third["prov"]["inputs"].values()
    assert {v["status"] for v in inputs} == {"analysed"}
    assert {v["code_fingerprint"] for v in inputs} == {third["prov"]["code_fingerprint"]}


def test_cache_key_changes_with_numpy_version(monkeypatch):
    from motorlab.analysis import batch

    before = batch.cache_key({"a": "1"}, {}, "x")
    monkeypatch.setattr(batch, "software_versions", lambda: {"numpy": "0.0.0"})
    assert batch.cache_key({"a": "1"}, {}, "x") != before


def test_damaged_or_read_only_cache_costs_time_not_results(world_dir):
    root = world_dir / "ds"
    _grip(root, "S09")
    cache = world_dir / "cache"
    first = analyze_batch(root, jobs=1, cache_dir=cache)
    entries = list(cache.rglob("*.json"))
    assert len(entries) == 1
    entries[0].write_bytes(b"\x00garbage{")  # a cache file torn by a crash
    second = analyze_batch(root, jobs=1, cache_dir=cache)
    assert second.provenance["counts"]["cached"] == 0
    assert second.rows == first.rows
    assert json.loads(entries[0].read_text())["rows"] == first.rows  # rewritten whole
    # a cache folder nobody may write to: the batch still completes, from scratch
    fresh = world_dir / "ro-cache"
    fresh.mkdir()
    fresh.chmod(0o555)
    proc = _run_cli(
        ["analyze", str(root), "--out", str(world_dir / "r.csv"), "--cache-dir", str(fresh)], world_dir
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and list(fresh.iterdir()) == []
    assert "S09" in (world_dir / "r.csv").read_text()


def test_file_arguments_any_file_of_a_recording_and_bad_ones(tmp_path):
    motion = _grip(tmp_path / "ds", "S10")
    side = motion.with_name(motion.name.replace("_motion.tsv", "_motion.json"))
    (tmp_path / "notes.txt").write_text("x")
    found, errors = collect_recordings([side, motion, tmp_path / "notes.txt", tmp_path / "gone"])
    assert found == [(motion.name, motion)]  # the same recording twice: analysed once
    assert [e["message"] for e in errors] == [
        f"{tmp_path / 'notes.txt'}: not a BIDS motion file (expected …_motion.tsv)",
        f"{tmp_path / 'gone'}: no such file or folder",
    ]


def test_provenance_columns_say_which_rows_came_from_the_cache(tmp_path, capsys):
    import csv

    from motorlab.cli.main import main

    root = tmp_path / "ds"
    _grip(root, "S11")
    _grip(root, "S12", seed=12)
    out = tmp_path / "r.csv"
    args = ["analyze", str(root), "--out", str(out), "--jobs", "1", "--provenance-columns", "-q"]

    def table() -> list[dict[str, str]]:
        with open(out, newline="") as fh:
            return list(csv.DictReader(fh))

    assert main(args) == 0
    first = table()
    (root / "sub-S12" / "ses-01" / "motion").joinpath(
        "sub-S12_ses-01_task-grip_tracksys-dynamometer_events.tsv"
    ).write_text("onset\tduration\ttrial_type\n")  # S12 changed: recomputed, S11 from the cache
    assert main(args) == 0
    second = table()
    assert {r["from_cache"] for r in first} == {"False"}
    assert {(r["participant"], r["from_cache"]) for r in second} == {("S11", "True"), ("S12", "False")}
    assert {r["code_fingerprint"] for r in first + second} == {code_fingerprint()[:16]}
    s11 = [{k: v for k, v in r.items() if k != "from_cache"} for r in first if r["participant"] == "S11"]
    assert s11 == [
        {k: v for k, v in r.items() if k != "from_cache"} for r in second if r["participant"] == "S11"
    ]
    prov = json.loads((tmp_path / "r_provenance.json").read_text())
    assert prov["counts"]["cached"] == 1 and prov["code_fingerprint"] == code_fingerprint()


def test_recover_reports_an_unreadable_folder_after_recovering_the_rest(world_dir):
    root = world_dir / "ds"
    for pid in ("S13", "S14"):
        motion = _grip(root, pid)
        side = motion.with_name(motion.name.replace("_motion.tsv", "_motion.json"))
        side.write_text(
            side.read_text().replace('"MotorlabStatus": "complete"', '"MotorlabStatus": "recording"')
        )
    (root / "sub-S14").chmod(0o000)
    proc = _run_cli(["recover", str(root)], world_dir)
    assert proc.returncode == 2
    assert "recovered " in proc.stdout and "sub-S13" in proc.stdout
    assert proc.stderr.strip().splitlines() == [
        f"motorlab: {root / 'sub-S14'}: permission denied: folder not searched, its recordings are missing"
    ]
