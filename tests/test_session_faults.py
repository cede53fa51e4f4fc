"""Recording under faults, with the real CLI in a subprocess and the emulated dynamometer on a pty.

Ctrl-C and SIGTERM mid-trial stop like ``q`` (the trial kept as incomplete, one line,
status ``interrupted``); SIGKILL + ``motorlab recover`` keeps the interrupted trial and the
emulated flag; a file-size limit (RLIMIT_FSIZE, the kernel's EFBIG, as a full disk gives
ENOSPC) stops the recording at once with one line and keeps what was written; a device
without a force channel is refused before the first trial.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from motorlab.cli.main import main
from motorlab.storage.bids import read_recording, recording_status

RATE = 100.0


def _cmd(out: Path, *extra: str, device: str = f"sim://grip?seed=5&rate={RATE:g}") -> list[str]:
    return [
        sys.executable,
        "-m",
        "motorlab",
        "record",
        "grip",
        "--device",
        device,
        "--participant",
        "P007",
        "--new",  # an unregistered ID on purpose: these tests are about stopping and failing
        "--out",
        str(out),
        "--yes",
        "--no-live",
        "--countdown",
        "0.5",
        "--squeeze",
        "5",
        "--rest",
        "1",
        "--rate",
        f"{RATE:g}",
        *extra,
    ]


def _wait_for(pred, timeout=60.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := pred():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _start_and_reach_squeeze(out: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        _cmd(out, "--trials", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: killpg is what a terminal's Ctrl-C does
    )
    motion = _wait_for(lambda: next(out.rglob("*_motion.tsv"), None), what="the motion file")
    events = motion.with_name(motion.name.replace("_motion.tsv", "_events.tsv"))
    _wait_for(lambda: events.exists() and "squeeze" in events.read_text(), what="the squeeze cue")
    time.sleep(1.0)  # inside the first squeeze
    assert proc.poll() is None, proc.communicate()[1]
    return proc, motion


def _sidecar(motion: Path) -> dict:
    return json.loads(motion.with_name(motion.name.replace("_motion.tsv", "_motion.json")).read_text())


def _trials(motion: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = read_recording(motion)
    return rec, [e for e in rec.events if e.trial_type == "trial"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_mid_trial_behaves_like_q(tmp_path, sig):
    proc, motion = _start_and_reach_squeeze(tmp_path)
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"motorlab: interrupted; {motion} kept with ")
    assert lines[0].endswith("status 'interrupted'; incomplete: trial 1 right")
    side = _sidecar(motion)
    assert side["MotorlabStatus"] == "interrupted"
    assert side["MotorlabStopReason"] == f"interrupted ({sig.name})"
    assert side["MotorlabEmulated"] is True
    rec, trials = _trials(motion)
    assert [(t.extra["trial"], t.extra["status"], t.extra["reason"]) for t in trials] == [
        (1, "incomplete", "interrupted")
    ]
    assert 0.8 < trials[0].duration < 4.9  # cut short: about 1 s of its 5 s squeeze
    assert rec.n_samples > RATE  # everything streamed so far is there
    assert np.nanmax(rec.channel("force")) > 50.0


def test_sigkill_then_recover_keeps_the_interrupted_trial_and_the_emulated_flag(tmp_path, capsys):
    proc, motion = _start_and_reach_squeeze(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert _sidecar(motion)["MotorlabEmulated"] is True  # written at the start
    _, before = _trials(motion)
    assert before == []  # the trial row is written when a trial ends
    assert main(["recover", str(tmp_path)]) == 0
    assert "the interrupted trial kept as incomplete (1 row)" in capsys.readouterr().out
    assert recording_status(motion) == "recovered"
    side = _sidecar(motion)
    assert side["MotorlabEmulated"] is True
    rec, trials = _trials(motion)
    assert [(t.extra["trial"], t.extra["hand"], t.extra["status"]) for t in trials] == [
        (1, "right", "incomplete")
    ]
    assert trials[0].extra["reason"] == "recording interrupted"
    assert trials[0].onset + trials[0].duration == pytest.approx(rec.timestamps[-1])
    onsets = [e.onset for e in rec.events]
    assert onsets == sorted(onsets)
    # recovering again changes nothing
    assert main(["recover", str(tmp_path)]) == 0
    assert len(_trials(motion)[1]) == 1


def _limit_file_size(nbytes: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return apply


def test_write_failure_mid_task_stops_at_once_and_keeps_what_was_written(tmp_path):
    limit = 8_000  # bytes per file: the motion file reaches it within the first squeeze
    proc = subprocess.run(
        _cmd(tmp_path, "--trials", "3"),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size(limit),
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    (motion,) = tmp_path.rglob("*_motion.tsv")
    assert lines[0].startswith(f"motorlab: {motion}: writing failed at ")
    assert "File too large" in lines[0] and "marked incomplete" in lines[0]
    failed_at = float(lines[0].split("writing failed at ", 1)[1].split(" s ", 1)[0])  # recording time
    assert motion.stat().st_size <= limit
    side = _sidecar(motion)
    assert side["MotorlabStatus"] == "failed"
    assert side["MotorlabStopReason"].startswith("writing failed: ")
    rec, trials = _trials(motion)
    assert rec.n_samples > 100  # what was written is kept and readable
    assert np.all(np.diff(rec.timestamps) > 0)
    assert trials and trials[-1].extra["status"] == "incomplete"
    assert trials[-1].extra["reason"] == "writing failed"
    # it stopped at once (on the recording clock, whatever the machine's load): the running
    # trial ended within a second of the failure, long before the ~20 s protocol was over
    assert failed_at < 10.0
    assert trials[-1].onset + trials[-1].duration - failed_at < 1.0


def test_grip_task_on_a_device_without_force_is_refused_before_the_first_trial(tmp_path):
    proc = subprocess.run(
        _cmd(tmp_path, device="sim://pen?seed=1"), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("motorlab: sim://pen?seed=1: ")
    assert "has no force channel, which task 'grip' needs" in lines[0]
    assert list(tmp_path.rglob("*_motion.tsv")) == []  # nothing started: no trial was run


def test_ctrl_c_typed_on_a_real_terminal(tmp_path):
    """The byte a terminal sends for Ctrl-C (0x03) on a real pty: its line discipline raises SIGINT."""
    import fcntl
    import pty
    import termios

    master, slave = pty.openpty()

    def controlling_tty() -> None:  # after setsid (start_new_session): the pty becomes our terminal
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        _cmd(tmp_path, "--trials", "2"),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=controlling_tty,
    )
    os.close(slave)
    try:
        motion = _wait_for(lambda: next(tmp_path.rglob("*_motion.tsv"), None), what="the motion file")
        events = motion.with_name(motion.name.replace("_motion.tsv", "_events.tsv"))
        _wait_for(lambda: events.exists() and "squeeze" in events.read_text(), what="the squeeze cue")
        time.sleep(0.5)
        os.write(master, b"\x03")
        proc.wait(30)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = out.decode(errors="replace")
    assert proc.returncode == 130, text
    assert "Traceback" not in text
    lines = [ln.replace("^C", "").strip() for ln in text.splitlines() if ln.strip()]  # the tty echoes ^C
    said = [ln for ln in lines if ln.startswith("motorlab")]
    assert len(said) == 1 and said[0].startswith(f"motorlab: interrupted; {motion} kept with "), text
    assert _sidecar(motion)["MotorlabStatus"] == "interrupted"
    _, trials = _trials(motion)
    assert [t.extra["status"] for t in trials] == ["incomplete"]
