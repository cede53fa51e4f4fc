"""`motorlab analyze` as a process: killed parents leave no workers, Ctrl-C is one line, Dask is quiet.

Everything here is real: the CLI runs in a subprocess (its own session, so a Ctrl-C is a
SIGINT to the whole process group as a terminal sends it), with local worker processes or
a real Dask LocalCluster; a slow analyzer module (written to a temporary folder) keeps
the workers busy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from motorlab.sim.dataset import simulate_grip
from motorlab.storage.bids import write_recording

SLOW = """
import os
import time
from pathlib import Path

from motorlab.analysis.recording_metrics import analyze_recording


def slow(rec, params=None):
    Path(os.environ["SLOW_MARK"]).touch()  # the test waits for the first call
    time.sleep(float(os.environ.get("SLOW_S", "0.4")))
    return analyze_recording(rec, params)
"""


KILLER = """
import os
import signal

from motorlab.analysis.recording_metrics import analyze_recording


def killer(rec, params=None):
    if rec.metadata.participant == "S003":  # as the out-of-memory killer would
        os.kill(os.getpid(), signal.SIGKILL)
    return analyze_recording(rec, params)
"""


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "ds"
    for i in range(12):
        write_recording(simulate_grip(f"S{i:03d}", peak_n=(150.0 + i,), seed=i).recording, root)
    (tmp_path / "slowmod.py").write_text(SLOW)
    (tmp_path / "killmod.py").write_text(KILLER)
    return root


def _start(args: list[str], cwd: Path, slow_s: float = 0.4) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(cwd), SLOW_MARK=str(cwd / "started"), SLOW_S=str(slow_s))
    return subprocess.Popen(
        [sys.executable, "-m", "motorlab", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _wait_workers(
    proc: subprocess.Popen[str], n: int, mark: Path, timeout: float = 60.0
) -> list[psutil.Process]:
    """The worker processes, once one of them is inside the slow analysis (``mark`` exists)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()[1]
        kids = [k for k in _descendants(proc.pid) if "python" in k.name().lower()]
        if len(kids) >= n and mark.exists():
            return kids
        time.sleep(0.1)
    raise AssertionError(f"fewer than {n} worker processes appeared")


def _live(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Those still running (a zombie has exited; an orphan's zombie may wait for init)."""
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _all_gone(procs: list[psutil.Process], timeout: float = 10.0) -> list[psutil.Process]:
    """Wait until every process has exited; return (and then kill) those still running."""
    end = time.monotonic() + timeout
    while (alive := _live(procs)) and time.monotonic() < end:
        time.sleep(0.1)
    for p in alive:  # clean up before the test fails
        p.kill()
    return alive


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_parent_ends_its_local_workers(dataset, tmp_path, sig):
    proc = _start(
        ["analyze", str(dataset), "--jobs", "2", "--analyzer", "slowmod:slow", "--no-cache", "-q"], tmp_path
    )
    workers = _wait_workers(proc, 2, tmp_path / "started")
    os.kill(proc.pid, sig)
    proc.wait(10)
    assert _all_gone(workers) == []


def test_ctrl_c_local_is_one_line_and_leaves_no_workers(dataset, tmp_path):
    proc = _start(
        ["analyze", str(dataset), "--jobs", "2", "--analyzer", "slowmod:slow", "--no-cache", "-q"], tmp_path
    )
    workers = _wait_workers(proc, 2, tmp_path / "started")
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["motorlab: interrupted"]
    assert _all_gone(workers) == []


def test_dask_run_is_quiet_and_has_no_dashboard(dataset, tmp_path):
    out = tmp_path / "r.csv"
    proc = _start(["analyze", str(dataset), "--dask", "--jobs", "1", "--out", str(out)], tmp_path)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("motorlab: 12 recordings (0 from cache)"), err
    assert "INFO" not in err and "dashboard" not in err.lower()
    import json

    prov = json.loads((tmp_path / "r_provenance.json").read_text())
    assert prov["executor"]["kind"] == "dask" and "dashboard" not in prov["executor"]


def test_ctrl_c_under_dask_is_one_line_and_leaves_no_workers(dataset, tmp_path):
    proc = _start(
        ["analyze", str(dataset), "--dask", "--jobs", "2", "--analyzer", "slowmod:slow", "--no-cache", "-q"],
        tmp_path,
        slow_s=2.0,
    )
    workers = _wait_workers(proc, 2, tmp_path / "started", timeout=120)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["motorlab: interrupted"], err
    assert _all_gone(workers) == []


def test_sigkill_of_the_parent_ends_the_dask_workers(dataset, tmp_path):
    proc = _start(
        ["analyze", str(dataset), "--dask", "--jobs", "2", "--analyzer", "slowmod:slow", "--no-cache", "-q"],
        tmp_path,
        slow_s=2.0,
    )
    workers = _wait_workers(proc, 2, tmp_path / "started", timeout=120)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert _all_gone(workers, timeout=20) == []


def test_a_worker_killed_mid_batch_is_one_error_row_and_the_rest_completes(dataset, tmp_path):
    out = tmp_path / "r.csv"
    proc = _start(
        [
            "analyze",
            str(dataset),
            "--jobs",
            "2",
            "--analyzer",
            "killmod:killer",
            "--no-cache",
            "--out",
            str(out),
        ],
        tmp_path,
    )
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("motorlab: error: ")]
    assert len(errors) == 1 and "S003" in errors[0] and "process died on this recording" in errors[0]
    import csv

    with open(out, newline="") as fh:
        participants = {r["participant"] for r in csv.DictReader(fh)}
    assert participants == {f"S{i:03d}" for i in range(12)} - {"S003"}
