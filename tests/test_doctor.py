"""``motorlab doctor``: the real command, with each check made to fail on purpose.

Bluetooth runs against a private dbus-daemon (with and without the emulated
BlueZ); device permissions are checked as an unprivileged user (``setpriv`` to
nobody when the tests run as root); probe locations are moved with the
documented environment variables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from motorlab.sim.bluez.bus import PrivateBus

NOBODY = 65534


def _env(tmp: Path, real_chromium: bool = False, **extra: str) -> dict[str, str]:
    """Probe locations inside ``tmp``; a quick stand-in browser unless ``real_chromium``
    (starting Chromium takes seconds; one test runs the real one)."""
    env = os.environ.copy()
    (tmp / "dev").mkdir(exist_ok=True)
    env.update(
        MOTORLAB_DEV_DIR=str(tmp / "dev"), MOTORLAB_DATA=str(tmp / "data"), MOTORLAB_DOCTOR_PLATFORM="linux"
    )
    if not real_chromium:
        stub = tmp / "chromium-stub"
        stub.write_text("#!/bin/sh\necho Chromium 0.0 stand-in\n")
        stub.chmod(0o755)
        env["MOTORLAB_CHROMIUM"] = str(stub)
    env.update(extra)
    return env


def _cmd(as_nobody: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "motorlab", "doctor"]
    if as_nobody and os.geteuid() == 0:
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    return cmd


def doctor(env: dict[str, str], as_nobody: bool = False) -> tuple[int, list[str]]:
    run = subprocess.run(_cmd(as_nobody), env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode, run.stdout.splitlines()


async def adoctor(env: dict[str, str]) -> tuple[int, list[str]]:
    """The command in a child process while this loop serves the emulated BlueZ."""
    proc = await asyncio.create_subprocess_exec(
        *_cmd(), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode is not None
    return proc.returncode, out.decode().splitlines()


@pytest.fixture
def shared_tmp():
    """A temporary folder an unprivileged user can reach (pytest's is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="motorlab-doctor-"))
    d.chmod(0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------------------------ Bluetooth
async def test_all_checks_pass_with_bluez_and_a_powered_adapter(fake_bluez, tmp_path):
    code, lines = await adoctor(_env(tmp_path, real_chromium=True))
    assert "ok       bluetooth: BlueZ reachable, adapter hci0 powered" in lines
    assert lines[-1] == "no problems found" and code == 0, lines


async def test_a_switched_off_adapter_is_a_problem_with_its_fix(fake_bluez, tmp_path):
    fake_bluez.adapter.powered = False
    code, lines = await adoctor(_env(tmp_path))
    assert code == 1
    assert (
        "PROBLEM  bluetooth: adapter hci0 is switched off -> rfkill unblock bluetooth && bluetoothctl power on"
        in lines
    )


def test_bus_without_bluez_is_a_problem(tmp_path):
    if not PrivateBus.available():
        pytest.skip("dbus-daemon not installed")
    with PrivateBus() as bus:
        code, lines = doctor(_env(tmp_path, DBUS_SYSTEM_BUS_ADDRESS=bus.address))
    assert code == 1
    assert (
        "PROBLEM  bluetooth: BlueZ is not running (no org.bluez on the system bus) -> "
        "sudo apt install bluez && sudo systemctl enable --now bluetooth"
    ) in lines


def test_unreachable_system_bus_is_a_problem(tmp_path):
    where = f"unix:path={tmp_path}/no-bus"
    code, lines = doctor(_env(tmp_path, DBUS_SYSTEM_BUS_ADDRESS=where))
    assert code == 1
    [line] = [ln for ln in lines if "bluetooth" in ln]
    assert line.startswith(f"PROBLEM  bluetooth: cannot reach the D-Bus system bus at {where} (")
    assert line.endswith("-> start D-Bus (sudo systemctl start dbus) or fix DBUS_SYSTEM_BUS_ADDRESS")


def test_macos_and_windows_get_their_platform_notes(tmp_path):
    _, lines = doctor(_env(tmp_path, MOTORLAB_DOCTOR_PLATFORM="darwin"))
    [line] = [ln for ln in lines if "bluetooth" in ln]
    assert "Privacy & Security > Bluetooth" in line and line.startswith("ok")
    assert not any("serial ports" in ln or "tablets" in ln for ln in lines)
    _, lines = doctor(_env(tmp_path, MOTORLAB_DOCTOR_PLATFORM="win32"))
    [line] = [ln for ln in lines if "bluetooth" in ln]
    assert "re-pair" in line and "GATT" in line


# ------------------------------------------------------------------ permissions
def test_serial_and_input_nodes_without_permission_name_the_group_to_join(shared_tmp):
    dev = shared_tmp / "dev"
    (dev / "input").mkdir(parents=True)
    tty, event = dev / "ttyUSB0", dev / "input" / "event3"
    tty.touch()
    event.touch()
    if os.geteuid() == 0:
        os.chown(tty, 0, 20)  # root:dialout, as udev makes it
        os.chown(event, 0, 0)
        for p in (tty, event):
            p.chmod(0o660)
    else:
        for p in (tty, event):
            p.chmod(0o000)
    (shared_tmp / "dev").chmod(0o755)
    (dev / "input").chmod(0o755)
    code, lines = doctor(_env(shared_tmp), as_nobody=True)
    assert code == 1
    group = "dialout" if os.geteuid() == 0 else tty.group()
    assert (
        f"PROBLEM  serial ports: {tty} is not readable/writable by you -> add yourself to the "
        f"{group} group: sudo usermod -aG {group} $USER, then log in again"
    ) in lines
    assert (
        f"PROBLEM  tablets: {event} is not readable/writable by you -> add yourself to the "
        "input group: sudo usermod -aG input $USER, then log in again"
    ) in lines


def test_accessible_device_nodes_are_ok(tmp_path):
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "ttyACM0").touch()
    _, lines = doctor(_env(tmp_path))
    assert "ok       serial ports: 1 device node(s) readable and writable" in lines


# ------------------------------------------------------------------ chromium
def test_missing_or_broken_chromium_is_a_problem(tmp_path):
    fix = "install it (sudo apt install chromium) or set MOTORLAB_CHROMIUM=/path/to/chromium"
    not_executable = tmp_path / "chromium"
    not_executable.write_text("not a program")
    _, lines = doctor(_env(tmp_path, MOTORLAB_CHROMIUM=str(not_executable)))
    assert f"PROBLEM  chromium: {not_executable} does not run (PermissionError) -> {fix}" in lines
    failing = tmp_path / "chrome-fails"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    code, lines = doctor(_env(tmp_path, MOTORLAB_CHROMIUM=str(failing)))
    assert code == 1 and f"PROBLEM  chromium: {failing} --version failed (exit 3) -> {fix}" in lines
    env = _env(tmp_path, PATH=str(tmp_path / "empty"))
    del env["MOTORLAB_CHROMIUM"]
    _, lines = doctor(env)
    assert f"PROBLEM  chromium: no Chromium or Chrome found for browser-rendered reports -> {fix}" in lines


# ------------------------------------------------------------------ data folder and disk
def test_unwritable_data_folder_is_a_problem(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder's parent should be")
    data = blocker / "data"
    code, lines = doctor(_env(tmp_path, MOTORLAB_DATA=str(data)))
    assert code == 1
    [line] = [ln for ln in lines if "data folder" in ln]
    assert line.startswith(f"PROBLEM  data folder: {data} is not writable (it would be created in {blocker})")
    assert line.endswith(
        f"-> fix the permissions of {data} or choose another folder with MOTORLAB_DATA=/path"
    )


def test_data_folder_owned_by_someone_else_is_a_problem(shared_tmp):
    data = shared_tmp / "data"
    data.mkdir(mode=0o755)
    if os.geteuid() != 0:
        data.chmod(0o555)
    code, lines = doctor(_env(shared_tmp), as_nobody=True)
    assert code == 1
    assert any(ln.startswith(f"PROBLEM  data folder: {data} is not writable: ") for ln in lines), lines


def test_low_free_disk_is_a_problem(tmp_path):
    code, lines = doctor(_env(tmp_path, MOTORLAB_DOCTOR_MIN_FREE_MB="1e12"))
    assert code == 1
    [line] = [ln for ln in lines if "free disk" in ln]
    assert line.startswith("PROBLEM  free disk: ") and "less than 1000000000000 MB" in line
    assert line.endswith("-> free some space or move MOTORLAB_DATA to a larger disk")
