"""Killing ``motorlab app`` mid-trial loses no recorded sample.

The real command runs in a subprocess (uvicorn, the visit thread, the emulated grip
dynamometer on a pty); a WebSocket client is the task screen: it starts the first
trial with Space and waits for the squeeze. Then the server is killed:

* SIGTERM (or Ctrl-C): the shutdown quits the task like Q, so the file is finalised
  with the running trial ``incomplete``;
* SIGKILL: nothing runs any more, yet every sample up to 0.2 s before the kill is on
  disk (the recorder's crash-safe writer), no trial is passed off as valid, and
  ``motorlab recover`` finalises the file with the interrupted trial ``incomplete``.

CLOCK_MONOTONIC is shared by all processes; the writer stores its ``t = 0`` on it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import warnings
from pathlib import Path

import numpy as np
import pytest
from websockets.sync.client import connect

from motorlab.cli.main import main
from motorlab.clinic import ClientRegistry, make_client
from motorlab.storage.bids import read_recording, recording_status
from motorlab.units import newton_to_kgf

RATE_HZ = 80.0


def _start_app(root: Path) -> tuple[subprocess.Popen, int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "motorlab", "app", "--no-browser", "--data", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(10):
        line = proc.stdout.readline()
        m = re.match(r"open: http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
        if m:
            return proc, int(m.group(1)), m.group(2)
    proc.kill()
    raise AssertionError(f"motorlab app printed no link: {proc.stderr.read() if proc.stderr else ''}")


def _start_visit(port: int, token: str) -> None:
    body = urllib.parse.urlencode(
        [
            ("client", "P3001"),
            ("task", "grip"),
            ("device_force", f"sim://grip?seed=6&peak_n=160&rate={RATE_HZ:g}"),
            ("trials", "2"),
            ("timing", "standard"),
        ]
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/visit/start",
            body=body,
            headers={
                "Cookie": f"motorlab_{port}={token}",
                "Origin": f"http://127.0.0.1:{port}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        resp = conn.getresponse()
        text = resp.read().decode()
        assert (resp.status, resp.getheader("location")) == (303, "/task"), text
    finally:
        conn.close()


def _squeeze(ws) -> None:
    """Be the task screen: Space at the first wait, then wait until the force passes 5 kg."""
    end = time.monotonic() + 30
    sent = False
    while time.monotonic() < end:
        msg = json.loads(ws.recv(timeout=10))
        if msg["type"] != "live":
            continue
        if msg["step"]["kind"] == "waiting" and not sent:
            ws.send(json.dumps({"type": "command", "command": "space", "id": 1}))
            sent = True
        force = msg["force"] or {}
        if msg["step"]["kind"] == "trial" and (force.get("now") or 0) > 5.0:
            assert msg["task"]["trial"] == 1 and msg["task"]["hand"] == "right"
            return
    raise AssertionError("the first squeeze never reached 5 kg on the screen")


def _motion(root: Path) -> Path:
    (path,) = (root / "sub-P3001" / "ses-01" / "motion").glob("*_task-grip_*_motion.tsv")
    return path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_killing_the_app_mid_trial_loses_no_sample(tmp_path, sig):
    root = tmp_path / "clinic"
    ClientRegistry(root).add(make_client("P3001", 2015, "M", "right"))
    proc, port, token = _start_app(root)
    try:
        _start_visit(port, token)
        with connect(
            f"ws://127.0.0.1:{port}/ws/live",
            additional_headers={"Cookie": f"motorlab_{port}={token}", "Origin": f"http://127.0.0.1:{port}"},
        ) as ws:
            _squeeze(ws)
            time.sleep(0.5)  # well inside the 5-s squeeze
            assert proc.poll() is None
            os.kill(proc.pid, sig)
            t_kill = time.monotonic()
            proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    motion = _motion(root)
    side = json.loads(motion.with_suffix(".json").read_text())
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        rec = read_recording(motion)
    t = rec.timestamps
    assert np.diff(t).max() < 1.5 / RATE_HZ and np.diff(t).min() > 0.5 / RATE_HZ  # nothing missing
    assert side["MotorlabHostMonotonicT0"] + t[-1] >= t_kill - 0.2  # everything up to the kill
    assert newton_to_kgf(np.nanmax(rec.channel("force"))) > 5.0  # the squeeze is in the data
    assert any(e.extra.get("cue") == "squeeze" for e in rec.events)
    trials = [e for e in rec.events if e.trial_type == "trial"]
    if sig == signal.SIGTERM:
        # uvicorn shuts down gracefully, then ends with the signal it caught (the convention)
        err = proc.stderr.read() if proc.stderr else ""
        assert proc.returncode in (0, -signal.SIGTERM) and "Traceback" not in err, err
        assert side["MotorlabStatus"] == "complete"
        assert [(e.extra["trial"], e.extra["hand"], e.extra["status"]) for e in trials] == [
            (1, "right", "incomplete")
        ]
    else:
        assert proc.returncode == -signal.SIGKILL
        assert side["MotorlabStatus"] == "recording"
        assert all(e.extra.get("status") != "valid" for e in trials)  # never passed off as valid
        assert main(["recover", str(root)]) == 0
        assert recording_status(motion) == "recovered"
        again = read_recording(motion)
        assert again.n_samples == rec.n_samples
        # recover keeps the interrupted trial, as incomplete
        trials = [e for e in again.events if e.trial_type == "trial"]
        assert [(e.extra["trial"], e.extra["hand"], e.extra["status"]) for e in trials] == [
            (1, "right", "incomplete")
        ]
