"""The live view in a real terminal: tmux runs `motorlab record grip` on the emulator.

The screen is read with ``tmux capture-pane``; the countdown, the trial counter
and the prompt to press SPACE must appear, and keys typed with ``send-keys``
drive the task (SPACE starts a trial, q stops safely).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
import warnings

import pytest

from motorlab.storage.bids import find_recordings, read_recording

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux not installed"
)


def _tmux(*args: str, sock: str) -> str:
    return subprocess.run(["tmux", "-L", sock, *args], check=True, capture_output=True, text=True).stdout


def _screen(sock: str) -> str:
    return _tmux("capture-pane", "-p", "-t", "live", sock=sock)


def _wait_screen(sock: str, text: str, timeout: float = 40.0) -> str:
    end = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < end:
        screen = _screen(sock)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared on screen; last screen:\n{screen}")


def test_live_view_shows_countdown_and_trial_counter_and_obeys_keys(tmp_path):
    sock = f"motorlab-{uuid.uuid4().hex[:8]}"
    cmd = " ".join(
        shlex.quote(c)
        for c in [
            sys.executable,
            "-m",
            "motorlab",
            "record",
            "grip",
            "--device",
            "sim://grip?seed=11",
            "--participant",
            "P010",
            "--new",
            "--out",
            str(tmp_path),
            "--trials",
            "3",
            "--countdown",
            "3",
            "--squeeze",
            "3",
            "--rest",
            "30",
        ]
    )
    _tmux("new-session", "-d", "-s", "live", "-x", "110", "-y", "40", f"{cmd}; sleep 30", sock=sock)
    try:
        _wait_screen(sock, "Press SPACE")
        assert "trial 0 of 3" in _screen(sock)
        _tmux("send-keys", "-t", "live", " ", sock=sock)
        screen = _wait_screen(sock, "trial 1 of 3")
        assert "get ready" in screen.lower() or "squeeze" in screen.lower()
        # the countdown digits 3-2-1 are shown big on the 'time' row
        _wait_screen(sock, "Squeeze as hard as you can")
        _wait_screen(sock, "Let go and rest")
        _tmux("send-keys", "-t", "live", "q", sock=sock)
        _wait_screen(sock, "stopped early by the therapist")
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
    (motion,) = find_recordings(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = read_recording(motion)  # finalised, not torn
    trials = rec.events_of("trial")
    assert len(trials) == 1 and trials[0].extra["status"] == "valid"
    assert rec.n_samples > 0
