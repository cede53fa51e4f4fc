"""A recording survives SIGKILL of the recording process mid-trial.

The real CLI records from the emulated dynamometer in a subprocess; the test
kills it with SIGKILL in the middle of a squeeze and checks that every sample
up to 0.2 s before the kill is on disk, contiguous, and that ``motorlab
recover`` finalises the file. CLOCK_MONOTONIC is shared by all processes, and
the writer stores its ``t = 0`` on that clock in the sidecar.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np

from motorlab.cli.main import main
from motorlab.storage.bids import read_recording, recording_status


def _wait_for(pred, timeout=30.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_mid_trial_keeps_all_but_the_last_200ms(tmp_path):
    rate = 100.0
    cmd = [
        sys.executable,
        "-m",
        "motorlab",
        "record",
        "grip",
        "--device",
        f"sim://grip?seed=5&rate={rate:g}",
        "--participant",
        "P007",
        "--new",
        "--out",
        str(tmp_path),
        "--yes",
        "--no-live",
        "--trials",
        "2",
        "--countdown",
        "0.5",
        "--squeeze",
        "5",
        "--rest",
        "1",
        "--rate",
        f"{rate:g}",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        motion = _wait_for(lambda: next(tmp_path.rglob("*_motion.tsv"), None), what="the motion file")
        events = motion.with_name(motion.name.replace("_motion.tsv", "_events.tsv"))
        _wait_for(lambda: events.exists() and "squeeze" in events.read_text(), what="the squeeze cue")
        time.sleep(1.0)  # well inside the first squeeze window
        assert proc.poll() is None, proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
        t_kill = time.monotonic()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    side = json.loads(motion.with_name(motion.name.replace("_motion.tsv", "_motion.json")).read_text())
    assert side["MotorlabStatus"] == "recording"
    t0 = side["MotorlabHostMonotonicT0"]
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        rec = read_recording(motion)
    assert rec.n_samples > rate  # more than a second of data
    # everything up to the last 0.2 s before the kill is there ...
    assert t0 + rec.timestamps[-1] >= t_kill - 0.2
    # ... and nothing in between is missing
    gaps = np.diff(rec.timestamps)
    assert gaps.max() < 1.5 / rate and gaps.min() > 0.5 / rate
    assert any(e.extra.get("cue") == "squeeze" for e in rec.events)
    # the squeeze is in the data: force rose well above rest
    assert np.nanmax(rec.channel("force")) > 50.0

    assert main(["recover", str(tmp_path)]) == 0
    assert recording_status(motion) == "recovered"
    again = read_recording(motion)
    assert again.n_samples == rec.n_samples
