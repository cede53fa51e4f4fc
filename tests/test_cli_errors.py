"""Bad input gives one clear line naming the port/path — never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tty

import pytest


def _motorlab(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "motorlab", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def test_missing_port(tmp_path):
    proc = _motorlab(
        "record",
        "grip",
        "--device",
        "serial:///dev/ttyMOTORLAB9?protocol=motorlab",
        "--participant",
        "P001",
        "--new",
        "--out",
        str(tmp_path),
        "--yes",
    )
    _one_line_error(proc, "/dev/ttyMOTORLAB9", "cannot open")
    assert not any(tmp_path.rglob("*_motion.tsv"))


@pytest.fixture
def ascii_scale_port():
    """A pty where a device prints 'Weight: 12.345 kg' lines (a plain HX711 sketch),
    i.e. something that is not the motorlab protocol."""
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def talk():
        while not stop.is_set():
            try:
                os.write(master, b"Weight: 12.345 kg\r\n")
            except OSError:
                return
            time.sleep(0.05)

    th = threading.Thread(target=talk, daemon=True)
    th.start()
    yield os.ttyname(slave)
    stop.set()
    th.join(1)
    os.close(master)
    os.close(slave)


def test_device_speaking_another_protocol(tmp_path, ascii_scale_port):
    proc = _motorlab(
        "record",
        "grip",
        "--device",
        f"serial://{ascii_scale_port}?protocol=motorlab",
        "--participant",
        "P001",
        "--new",
        "--out",
        str(tmp_path),
        "--yes",
    )
    _one_line_error(proc, ascii_scale_port, "motorlab")


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    proc = _motorlab(
        "record",
        "grip",
        "--device",
        "sim://grip",
        "--participant",
        "P001",
        "--new",
        "--out",
        str(blocker / "data"),
        "--yes",
        "--countdown",
        "0.1",
        "--squeeze",
        "0.2",
    )
    _one_line_error(proc, str(blocker))


def test_name_like_participant_is_refused(tmp_path):
    proc = _motorlab(
        "record",
        "grip",
        "--device",
        "sim://grip",
        "--participant",
        "MariaLopez",
        "--out",
        str(tmp_path),
        "--yes",
    )
    _one_line_error(proc, "MariaLopez", "pseudonym")


def test_unknown_device_url():
    proc = _motorlab(
        "record", "grip", "--device", "usb://whatever", "--participant", "P001", "--new", "--yes"
    )
    _one_line_error(proc, "usb://whatever")


def test_analyze_unreadable_file(tmp_path):
    bad = tmp_path / "sub-P001_ses-01_task-grip_tracksys-x_motion.tsv"
    bad.write_text("1\t2\n")
    proc = _motorlab("analyze", str(bad))
    assert proc.returncode != 0
    assert (
        "Traceback" not in proc.stderr
        and "sub-P001_ses-01_task-grip_tracksys-x_motion" in proc.stderr + proc.stdout
    )


def _imported(importtime_line: str) -> str:
    """The module named by one ``-X importtime`` line (``import time: self | total | name``)."""
    return importtime_line.rsplit("|", 1)[-1].strip() if importtime_line.startswith("import time:") else ""


def test_ctrl_c_while_the_commands_load_is_one_line_not_a_traceback():
    """SIGINT while ``motorlab`` is still importing its commands (NumPy, SciPy, rich: seconds on a
    slow machine) ends with ``motorlab: interrupted`` and status 130, like Ctrl-C during a command.

    ``-X importtime`` reports each finished import on stderr: the first NumPy module reported
    means the commands are being loaded, and that is when the signal is sent."""
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "motorlab", "doctor"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if _imported(line).startswith("numpy"):
            break
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read().splitlines()
    proc.wait(timeout=60)
    messages = [ln for ln in rest if not ln.startswith("import time:")]
    assert proc.returncode == 130, (proc.returncode, messages)
    assert messages == ["motorlab: interrupted"], messages
    # the signal came while the commands were loading: the recording model never loaded
    assert "motorlab.recording" not in {_imported(ln) for ln in rest}
