"""``motorlab doctor``: check what breaks for users in practice, one line per problem with its fix.

Checks (each prints ``ok`` or ``PROBLEM … -> fix``; exit status 1 when any problem):

* **Bluetooth** (Linux): the D-Bus system bus is reachable, BlueZ (``org.bluez``)
  is on it, an adapter exists and is powered. On macOS and Windows a note
  says what to check there instead (the Bluetooth privacy permission of the
  terminal; uncached GATT services after a firmware change).
* **Serial and input devices** (Linux): every ``ttyUSB*``/``ttyACM*`` and
  ``input/event*`` node is readable and writable by this user; if not, the
  group to join (``dialout``, ``input``).
* **Chromium** for browser-rendered reports and the app's screenshots:
  ``$MOTORLAB_CHROMIUM`` or ``chromium``/``chromium-browser``/``google-chrome``
  on the PATH, and it runs (``--version``).
* **Data folder** (``$MOTORLAB_DATA`` or ``./motorlab-data``): exists or can be
  created, and a file can be written there; **free disk** there is at least
  ``$MOTORLAB_DOCTOR_MIN_FREE_MB`` (default 500 MB).

Probe locations can be moved for tests and odd systems: ``MOTORLAB_DEV_DIR``
(default ``/dev``), ``MOTORLAB_DOCTOR_PLATFORM`` (default ``sys.platform``).
"""

from __future__ import annotations

import argparse
import asyncio
import grp
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..clinic.dataset import resolve_data_root

DEFAULT_MIN_FREE_MB = 500.0
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``problem`` False = all good; ``fix`` says what to do."""

    check: str
    problem: bool
    message: str
    fix: str = ""

    def line(self) -> str:
        if not self.problem:
            return f"ok       {self.check}: {self.message}"
        return f"PROBLEM  {self.check}: {self.message} -> {self.fix}"


def _ok(check: str, message: str) -> Finding:
    return Finding(check, False, message)


def _bad(check: str, message: str, fix: str) -> Finding:
    return Finding(check, True, message, fix)


def _platform() -> str:
    return os.environ.get("MOTORLAB_DOCTOR_PLATFORM", sys.platform)


# ------------------------------------------------------------------ Bluetooth
async def _bluez() -> list[Finding]:
    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus

    where = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/var/run/dbus/system_bus_socket")
    try:
        bus = await asyncio.wait_for(MessageBus(bus_type=BusType.SYSTEM).connect(), 3.0)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is this one problem
        return [
            _bad(
                "bluetooth",
                f"cannot reach the D-Bus system bus at {where} ({type(exc).__name__})",
                "start D-Bus (sudo systemctl start dbus) or fix DBUS_SYSTEM_BUS_ADDRESS",
            )
        ]
    try:
        reply = await asyncio.wait_for(
            bus.call(
                Message(
                    destination="org.bluez",
                    path="/",
                    interface="org.freedesktop.DBus.ObjectManager",
                    member="GetManagedObjects",
                )
            ),
            3.0,
        )
    except asyncio.TimeoutError:
        reply = None
    finally:
        bus.disconnect()
    if reply is None or reply.message_type == MessageType.ERROR:
        return [
            _bad(
                "bluetooth",
                "BlueZ is not running (no org.bluez on the system bus)",
                "sudo apt install bluez && sudo systemctl enable --now bluetooth",
            )
        ]
    adapters = {
        path: ifaces["org.bluez.Adapter1"]
        for path, ifaces in reply.body[0].items()
        if "org.bluez.Adapter1" in ifaces
    }
    if not adapters:
        return [
            _bad(
                "bluetooth",
                "BlueZ runs but sees no Bluetooth adapter",
                "plug in a Bluetooth 4.0+ USB adapter, or check 'rfkill list' and dmesg",
            )
        ]
    out = []
    for path, props in sorted(adapters.items()):
        name = path.rsplit("/", 1)[-1]
        powered = props.get("Powered")
        if powered is not None and not powered.value:
            out.append(
                _bad(
                    "bluetooth",
                    f"adapter {name} is switched off",
                    "rfkill unblock bluetooth && bluetoothctl power on",
                )
            )
        else:
            out.append(_ok("bluetooth", f"BlueZ reachable, adapter {name} powered"))
    return out


def check_bluetooth() -> list[Finding]:
    platform = _platform()
    if platform == "darwin":
        return [
            _ok(
                "bluetooth",
                "macOS: allow Bluetooth for your terminal or Python in System Settings > "
                "Privacy & Security > Bluetooth (without it the first scan aborts the process)",
            )
        ]
    if platform.startswith("win"):
        return [
            _ok(
                "bluetooth",
                "Windows: if a device reports 'Could not get GATT services: Unreachable', remove "
                "and re-pair it in Settings > Bluetooth (its services are cached); keep it close",
            )
        ]
    if not platform.startswith("linux"):
        return [_ok("bluetooth", f"no Bluetooth check for platform {platform}")]
    return asyncio.run(_bluez())


# ------------------------------------------------------------------ device permissions
def _device_access(check: str, patterns: tuple[str, ...], default_group: str) -> list[Finding]:
    if not _platform().startswith("linux"):
        return []
    dev = Path(os.environ.get("MOTORLAB_DEV_DIR", "/dev"))
    nodes = sorted(p for pattern in patterns for p in dev.glob(pattern))
    if not nodes:
        return [_ok(check, f"no device nodes ({', '.join(patterns)}) in {dev} right now")]
    denied = [p for p in nodes if not os.access(p, os.R_OK | os.W_OK)]
    if not denied:
        return [_ok(check, f"{len(nodes)} device node(s) readable and writable")]
    try:
        group = grp.getgrgid(denied[0].stat().st_gid).gr_name
    except (KeyError, OSError):
        group = default_group
    if group == "root":
        group = default_group
    return [
        _bad(
            check,
            f"{denied[0]} is not readable/writable by you"
            + (f" (and {len(denied) - 1} more)" if len(denied) > 1 else ""),
            f"add yourself to the {group} group: sudo usermod -aG {group} $USER, then log in again",
        )
    ]


def check_serial() -> list[Finding]:
    return _device_access("serial ports", ("ttyUSB*", "ttyACM*"), "dialout")


def check_input() -> list[Finding]:
    return _device_access("tablets", ("input/event*",), "input")


# ------------------------------------------------------------------ chromium
def check_chromium() -> list[Finding]:
    wanted = os.environ.get("MOTORLAB_CHROMIUM", "").strip()
    path = wanted or next((p for n in CHROMIUM_NAMES if (p := shutil.which(n))), "")
    fix = "install it (sudo apt install chromium) or set MOTORLAB_CHROMIUM=/path/to/chromium"
    if not path:
        return [_bad("chromium", "no Chromium or Chrome found for browser-rendered reports", fix)]
    try:
        run = subprocess.run(
            [path, "--headless", "--version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [_bad("chromium", f"{path} does not run ({type(exc).__name__})", fix)]
    if run.returncode != 0:
        return [_bad("chromium", f"{path} --version failed (exit {run.returncode})", fix)]
    return [_ok("chromium", (run.stdout.strip().splitlines() or [path])[0])]


# ------------------------------------------------------------------ data folder
def check_data_folder() -> list[Finding]:
    root = resolve_data_root(None).absolute()
    fix = f"fix the permissions of {root} or choose another folder with MOTORLAB_DATA=/path"
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    target = root if root.exists() else existing
    if root.exists() and not root.is_dir():
        return [_bad("data folder", f"{root} is not a folder", fix)]
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".motorlab-doctor-"):
            pass
    except OSError as exc:
        what = "" if target == root else f" (it would be created in {target})"
        return [_bad("data folder", f"{root} is not writable{what}: {exc.strerror or exc}", fix)]
    out = [_ok("data folder", f"{root} is writable" + ("" if root.exists() else " (will be created)"))]
    try:
        minimum = float(os.environ.get("MOTORLAB_DOCTOR_MIN_FREE_MB", DEFAULT_MIN_FREE_MB))
    except ValueError:
        minimum = DEFAULT_MIN_FREE_MB
    free_mb = shutil.disk_usage(target).free / 1e6
    if free_mb < minimum:
        out.append(
            _bad(
                "free disk",
                f"{free_mb:.0f} MB free at {target} (less than {minimum:.0f} MB)",
                "free some space or move MOTORLAB_DATA to a larger disk",
            )
        )
    else:
        out.append(_ok("free disk", f"{free_mb / 1000:.1f} GB free at {target}"))
    return out


CHECKS = (check_bluetooth, check_serial, check_input, check_chromium, check_data_folder)


def run_checks() -> list[Finding]:
    return [f for check in CHECKS for f in check()]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="check Bluetooth, device permissions, Chromium, data folder and disk; one line per problem",
        description="Check what usually breaks (Bluetooth stack, serial/input permissions, Chromium, "
        "data folder, free disk) and print one line per problem with its fix. Exit status 1 on a problem.",
    )
    p.add_argument("--problems-only", action="store_true", help="print only the problems")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    findings = run_checks()
    for f in findings:
        if f.problem or not args.problems_only:
            print(f.line())
    problems = sum(f.problem for f in findings)
    print(f"{problems} problem(s) found" if problems else "no problems found")
    return 1 if problems else 0
