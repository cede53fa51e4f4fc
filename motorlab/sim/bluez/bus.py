"""A private D-Bus with the emulated BlueZ on it, for BLE simulators and tests.

bleak's Linux backend talks to ``org.bluez`` on the *system* bus, whose address
it takes from ``DBUS_SYSTEM_BUS_ADDRESS``. :class:`PrivateBus` starts a
``dbus-daemon`` listening on a Unix socket in a fresh temporary directory (short
path: socket names are limited to 108 bytes), configured by ``bus.conf``;
nothing listens on a network. :class:`BleSandbox` puts a
:class:`~.fakebluez.FakeBlueZ` on it and points this process's
``DBUS_SYSTEM_BUS_ADDRESS`` there, so bleak's unmodified code runs against it.

One sandbox is shared per event loop (bleak keeps one bus connection per loop),
reference-counted: every ``sim://`` BLE device and every test fixture calls
:meth:`BleSandbox.acquire` and later :meth:`BleSandbox.release`; the last
release stops the emulated BlueZ and the daemon and restores the environment.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ...errors import DeviceError

if TYPE_CHECKING:
    from typing_extensions import Self

    from .fakebluez import FakeBlueZ

log = logging.getLogger(__name__)

CONFIG_PATH = Path(__file__).with_name("bus.conf")
#: what bleak's version probe (``bluetoothctl --version``) prints inside the sandbox
EMULATED_BLUEZ_VERSION = "5.72"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the daemon gets SIGTERM if this process dies without cleaning up."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class PrivateBus:
    """A ``dbus-daemon`` private to this process (Unix socket in a temp dir)."""

    def __init__(self, config: Path = CONFIG_PATH):
        self.config = config
        self.address = ""
        self.directory: Path | None = None
        self._proc: subprocess.Popen[str] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("dbus-daemon") is not None

    def start(self) -> str:
        """Start the daemon; returns its address (``unix:path=...,guid=...``)."""
        exe = shutil.which("dbus-daemon")
        if exe is None:
            raise DeviceError("dbus-daemon not found: BLE simulators need it (install the 'dbus' package)")
        self.directory = Path(tempfile.mkdtemp(prefix="mlbus", dir="/tmp"))
        self._proc = subprocess.Popen(
            [
                exe,
                f"--config-file={self.config}",
                f"--address=unix:path={self.directory}/bus",
                "--print-address=1",
                "--nofork",
                "--nosyslog",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # the child only calls prctl(PR_SET_PDEATHSIG) before exec: no lock, no Python state
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        assert self._proc.stdout is not None
        self.address = self._proc.stdout.readline().strip()  # printed once listening
        self._proc.stdout.close()
        if not self.address:
            err = (self._proc.stderr.read() if self._proc.stderr else "").strip().splitlines()
            self.stop()
            raise DeviceError(f"dbus-daemon failed to start ({err[-1] if err else 'no address printed'})")
        atexit.register(self.stop)
        return self.address

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            if proc.stderr is not None:
                proc.stderr.close()
            atexit.unregister(self.stop)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BleSandbox:
    """Private bus + emulated BlueZ + this process's environment pointed at them."""

    _by_loop: ClassVar[dict[asyncio.AbstractEventLoop, BleSandbox]] = {}

    def __init__(self) -> None:
        self.bus = PrivateBus()
        self.bluez: FakeBlueZ | None = None
        self.refs = 0
        self._saved_env: dict[str, str | None] = {}

    # -- shared instance ----------------------------------------------------------
    @classmethod
    async def acquire(cls) -> BleSandbox:
        """The running loop's sandbox, started on first use; pair with :meth:`release`."""
        loop = asyncio.get_running_loop()
        box = cls._by_loop.get(loop)
        if box is None:
            box = cls()
            cls._by_loop[loop] = box
            try:
                await box._start()
            except BaseException:
                cls._by_loop.pop(loop, None)
                await box._stop()
                raise
        box.refs += 1
        return box

    @classmethod
    def current(cls) -> BleSandbox | None:
        """The sandbox of the running loop, if one is up."""
        return cls._by_loop.get(asyncio.get_running_loop())

    async def release(self) -> None:
        self.refs -= 1
        if self.refs > 0:
            return
        for loop, box in list(self._by_loop.items()):
            if box is self:
                del self._by_loop[loop]
        await self._stop()

    # -- life cycle -----------------------------------------------------------------
    async def _start(self) -> None:
        try:
            from .fakebluez import FakeBlueZ
        except ModuleNotFoundError as exc:
            raise DeviceError(
                f"BLE simulators need the '{exc.name}' package (pip install dbus-fast)"
            ) from None
        address = self.bus.start()
        self._set_env("DBUS_SYSTEM_BUS_ADDRESS", address)
        if shutil.which("bluetoothctl") is None:
            # bleak probes the BlueZ version with `bluetoothctl --version` and
            # warns when it cannot; answer like a current BlueZ would.
            assert self.bus.directory is not None
            shim_dir = self.bus.directory / "bin"
            shim_dir.mkdir()
            shim = shim_dir / "bluetoothctl"
            shim.write_text(f"#!/bin/sh\necho {EMULATED_BLUEZ_VERSION}\n")
            shim.chmod(0o755)
            self._set_env("PATH", f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}")
        self.bluez = await FakeBlueZ(address).start()

    async def _stop(self) -> None:
        if self.bluez is not None:
            try:
                await self.bluez.stop()
            except Exception as exc:  # noqa: BLE001 - best effort on teardown
                log.debug("emulated BlueZ did not stop cleanly: %s", exc)
            self.bluez = None
        self.bus.stop()
        for key, old in self._saved_env.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
        self._saved_env.clear()
        # let bleak's bus connection notice the daemon is gone before anyone reconnects
        await asyncio.sleep(0)

    def _set_env(self, key: str, value: str) -> None:
        self._saved_env.setdefault(key, os.environ.get(key))
        os.environ[key] = value
