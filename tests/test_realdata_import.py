"""Every real UCI spiral file imports (read in place from ../shared/realdata, never copied),
and the CLI round trip file -> BIDS -> read_recording keeps the samples."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from motorlab.storage.bids import find_recordings, read_recording
from motorlab.storage.importers import read_inkml, read_svc, read_uci_spiral

UCI = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "uci_parkinson_spirals"
if not UCI.is_dir():  # a worktree sits one level deeper than the main checkout
    UCI = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "uci_parkinson_spirals"
FILES = sorted(UCI.glob("*/*.txt"))
needs_data = pytest.mark.skipif(not FILES, reason=f"real UCI spiral files not found under {UCI}")


def _motorlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "motorlab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


@needs_data
def test_every_uci_file_imports_without_an_exception():
    assert len(FILES) == 77
    n_recordings = 0
    codes: Counter[str] = Counter()
    digests: dict[str, list[str]] = {}
    for f in FILES:
        recs = read_uci_spiral(f, participant="P001")
        raw_rows = sum(1 for ln in f.read_text().splitlines() if ln.strip())
        assert sum(r.n_samples for r in recs) == raw_rows  # no row lost
        for r in recs:
            n_recordings += 1
            assert r.metadata.task in ("spiral", "spiraldynamic", "circularhold")
            assert r.timestamps[0] == 0 and 0 < r.duration < 120
            assert 100 < r.sampling_rate < 150  # 7-8 ms or 9-10 ms steps
            assert np.all(np.isfinite(r.data[:, :3]))
            assert 0 <= r.channel("pressure").min() and r.channel("pressure").max() <= 1
            for seg in r.timestamp_segments:
                assert np.all(np.diff(r.timestamps[seg[0] : seg[1]]) >= 0)
            codes.update(fl.code for fl in r.quality_flags)
            digests.setdefault(r.metadata.extra["import"]["samples_sha256"], []).append(
                f"{f.name}:{r.metadata.task}"
            )
    assert n_recordings == 202
    # measured on the shared copy: 14 recordings step backwards, none mixes clocks
    assert codes["backwards_step"] == 14 and codes["mixed_clock"] == 0
    assert codes["xy_aspect"] >= 14  # the files stretched along X (aspect near 2)
    # the README's duplicates: seven identical control hold recordings, two identical patient ones
    groups = sorted(len(v) for v in digests.values() if len(v) > 1)
    assert 7 in groups and 2 in groups


@needs_data
def test_backwards_step_in_a_real_file_is_located_not_sorted():
    f = UCI / "parkinson" / "P_05060004.txt"
    spiral = read_uci_spiral(f, participant="P001")[0]
    flag = next(fl for fl in spiral.quality_flags if fl.code == "backwards_step")
    assert "P_05060004.txt: line 746 (sample 745): time steps back 1.309 s" in flag.message
    assert spiral.timestamp_segments == [(0, 745), (745, 5278)]
    xy = spiral.select(["pos_x", "pos_y"])
    # file order keeps the pen path continuous across the step; sorting by time would interleave
    # two stretches of the trace (measured: largest step 0.046 cm in file order, 0.758 cm sorted)
    in_order = np.max(np.hypot(*np.diff(xy, axis=0).T))
    order = np.argsort(spiral.timestamps, kind="stable")
    sorted_jump = np.max(np.hypot(*np.diff(xy[order], axis=0).T))
    assert in_order < 0.05 and sorted_jump > 0.7


@needs_data
def test_cli_import_to_bids_then_read_recording_gives_the_same_samples(tmp_path):
    files = [UCI / "parkinson" / "P_27110003.txt", UCI / "control" / "C_0003.txt"]
    out = tmp_path / "bids"
    proc = _motorlab(
        "import",
        "uci",
        *map(str, files),
        "--participant-from-stem",
        "--out",
        str(out),
        "--extra",
        "group=mixed",
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "P_27110003.txt -> sub-P27110003/ses-01/motion/sub-P27110003_ses-01_task-spiral_tracksys-tablet_motion.tsv"
        in proc.stdout
    )
    assert "flags: backwards_step" in proc.stdout
    written = find_recordings(out)
    assert len(written) == 5
    for f in files:
        for direct in read_uci_spiral(f, participant=f.stem.replace("_", ""), extra={"group": "mixed"}):
            md = direct.metadata
            motion = (
                out
                / f"sub-{md.participant}"
                / "ses-01"
                / "motion"
                / (f"sub-{md.participant}_ses-01_task-{md.task}_tracksys-tablet_motion.tsv")
            )
            back = read_recording(motion)
            np.testing.assert_array_equal(back.data, direct.data)
            np.testing.assert_array_equal(back.timestamps, direct.timestamps)
            assert back.channels == direct.channels
            assert back.quality_flags == direct.quality_flags
            assert back.metadata.extra["import"]["options"]["scale_cm_per_unit"] == 0.0204
            assert back.metadata.extra["group"] == "mixed"


@needs_data
def test_cli_export_svc_and_inkml_then_import_again(tmp_path):
    src = UCI / "control" / "C_0001.txt"
    out = tmp_path / "bids"
    assert _motorlab("import", "uci", str(src), "--participant", "C0001", "--out", str(out)).returncode == 0
    for fmt in ("svc", "inkml"):
        proc = _motorlab("export", fmt, str(out), "--out", str(tmp_path / fmt), "--scale", "0.0204")
        assert proc.returncode == 0, proc.stderr
    motion = find_recordings(out)[0]
    rec = read_recording(motion)
    stem = motion.name.removesuffix("_motion.tsv")
    from motorlab.storage.importers import SvcUnits

    svc = read_svc(tmp_path / "svc" / f"{stem}.svc", participant="C0001", units=SvcUnits(cm_per_unit=0.0204))[
        0
    ]
    np.testing.assert_allclose(svc.select(["pos_x", "pos_y"]), rec.select(["pos_x", "pos_y"]), rtol=1e-12)
    np.testing.assert_array_equal(svc.timestamps, rec.timestamps)
    ink = read_inkml(tmp_path / "inkml" / f"{stem}.inkml", participant="C0001")[0]
    for name in rec.channel_names:
        np.testing.assert_array_equal(ink.channel(name), rec.channel(name))
    np.testing.assert_array_equal(ink.timestamps, rec.timestamps)


def test_cli_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.svc"
    bad.write_text("2\n1 2 3 1 5 6 7\n1 2 3\n")
    proc = _motorlab("import", "svc", str(bad), "--participant", "P001", "--out", str(tmp_path / "b"))
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [
        f"motorlab: {bad}:3: 3 columns but the column order x,y,time,pen_down,azimuth,altitude,pressure has 7; give the file's column order explicitly"
    ]
    proc = _motorlab(
        "import",
        "csv",
        str(bad),
        "--participant",
        "JaneDoe",
        "--out",
        str(tmp_path / "b"),
        "--column",
        "a=force",
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1
