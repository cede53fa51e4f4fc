"""A private D-Bus with the emulated BlueZ on it, for BLE simulators and tests.

bleak's Linux backend talks to ``org.bluez`` on the *system* bus, whose address
it takes from ``DBUS_SYSTEM_BUS_ADDRESS``. :class:`PrivateBus` starts a
``dbus-daemon`` listening on a Unix socket in a fresh temporary directory (short
path: socket names are limited to 108 bytes), configured by ``ble_bus.conf``;
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
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..base import DeviceError

if TYPE_CHECKING:
    from ..drivers.codec_driver import CodecDriver
    from ..transports.ble import BleTransport
    from .fakebluez import FakeBlueZ, Peripheral, PeripheralSpec

CONFIG_PATH = Path(__file__).with_name("ble_bus.conf")
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
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
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

    def __enter__(self) -> PrivateBus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BleSandbox:
    """Private bus + emulated BlueZ + this process's environment pointed at them."""

    _by_loop: dict[asyncio.AbstractEventLoop, BleSandbox] = {}

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
            except Exception:  # noqa: BLE001 - best effort on teardown
                pass
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


# ------------------------------------------------------------ emulator plumbing
def sim_param(params: dict[str, str], name: str, default: float, url: str = "sim://") -> float:
    """A numeric ``sim://`` URL parameter; a bad value is a one-line DeviceError."""
    text = params.get(name)
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        raise DeviceError(f"{url}: parameter {name}={text!r} is not a number") from None


class BleEmulator:
    """Base of the emulated BLE devices: one peripheral of the emulated BlueZ.

    Subclasses build :meth:`peripheral_spec`, react to writes and stream with
    :meth:`spawn`-ed tasks. The device clock (:meth:`device_time`, s) starts when
    the emulator is attached ("switched on"). Everything runs on the event loop
    that attached it.
    """

    participant: object = None
    #: GATT layout the driver uses (motorlab.devices.registry.BleProfile)
    profile: object = None

    def __init__(self, address: str, name: str):
        self.address = address.upper()
        self.name = name
        self.peripheral: Peripheral | None = None
        self._bluez: FakeBlueZ | None = None
        self._t0 = 0.0
        self._tasks: set[asyncio.Task] = set()
        self.closed = False

    def peripheral_spec(self) -> PeripheralSpec:
        raise NotImplementedError

    def attach(self, bluez: FakeBlueZ) -> Peripheral:
        """Switch the device on inside ``bluez`` (it starts advertising)."""
        self._bluez = bluez
        self._t0 = asyncio.get_running_loop().time()
        self.peripheral = bluez.add_peripheral(self.peripheral_spec())
        self.peripheral.on_disconnect.append(self.on_link_down)
        return self.peripheral

    def device_time(self) -> float:
        """Seconds since the device was switched on."""
        return asyncio.get_running_loop().time() - self._t0

    def cue(self, kind: str) -> None:
        """The virtual participant hears cue ``kind`` now (device time)."""
        on_cue = getattr(self.participant, "on_cue", None)
        if on_cue is not None:
            on_cue(kind, self.device_time())

    @property
    def truth(self):
        return getattr(self.participant, "truth", None)

    def drop_link(self) -> None:
        """Simulate a link loss (supervision timeout); the device stays in range."""
        if self.peripheral is not None:
            self.peripheral.drop_link()

    def on_link_down(self) -> None:
        """Called when the central goes away; by default streaming stops."""
        self.cancel_tasks()

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    def later(self, fn, *args) -> None:
        """Run ``fn(*args)`` after the current D-Bus call has returned (device reply latency)."""
        asyncio.get_running_loop().call_soon(fn, *args)

    def close(self) -> None:
        """Switch the device off: streaming stops, the link drops, it stops advertising."""
        if self.closed:
            return
        self.closed = True
        self.cancel_tasks()
        if self._bluez is not None and self.peripheral is not None:
            self._bluez.remove_peripheral(self.peripheral)


async def open_ble_sim(
    emulator: BleEmulator, make_driver: Callable[[BleTransport], CodecDriver]
) -> CodecDriver:
    """Put ``emulator`` into the loop's emulated BlueZ and open the real driver on it.

    The driver reaches the device through :class:`BleTransport` -> bleak ->
    emulated BlueZ; ``driver.emulator`` is set, the handshake (``info()``) done,
    and closing the driver also switches the emulator off and releases the
    sandbox.
    """
    from ..transports.ble import BleTransport

    box = await BleSandbox.acquire()
    driver = None
    try:
        assert box.bluez is not None
        emulator.attach(box.bluez)
        driver = make_driver(BleTransport(emulator.address, emulator.profile))
        driver.emulator = emulator
        await driver.open()
        await driver.info()
    except BaseException:
        if driver is not None:
            await driver.close()
        emulator.close()
        await box.release()
        raise

    close_driver = driver.close
    released = False

    async def close() -> None:
        nonlocal released
        try:
            await close_driver()
        finally:
            emulator.close()
            if not released:
                released = True
                await box.release()

    driver.close = close  # type: ignore[method-assign]
    return driver


class BleByteLink:
    """A byte stream out of a BLE notify characteristic, for emulators written for a pty.

    Stands in for :class:`~.pty_link.PtyLink` on the device side: ``write(data)``
    may be called from any thread (an emulator's firmware thread); bytes are cut
    into notifications of at most ``chunk`` bytes (ATT_MTU - 3) on the event loop,
    which flushes after each burst. ``write`` returns False (bytes lost, like an
    unplugged cable) while no central is subscribed.
    """

    def __init__(self, emulator: BleEmulator, notify_uuid: str, chunk: int = 244):
        self.emulator = emulator
        self.notify_uuid = notify_uuid
        self.chunk = chunk
        self.link_path = f"ble://{emulator.address}"
        self.loop = asyncio.get_running_loop()
        self._pending: list[bytes] = []
        self._wake = asyncio.Event()
        self._closed = False
        self._task = self.loop.create_task(self._pump())

    @property
    def present(self) -> bool:
        p = self.emulator.peripheral
        return p is not None and p.subscribed(self.notify_uuid)

    def write(self, data: bytes) -> bool:
        if self._closed or not self.present:
            return False
        try:
            self.loop.call_soon_threadsafe(self._enqueue, bytes(data))
        except RuntimeError:  # loop closed
            return False
        return True

    def _enqueue(self, data: bytes) -> None:
        self._pending.append(data)
        self._wake.set()

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            data, self._pending = b"".join(self._pending), []
            peripheral = self.emulator.peripheral
            if peripheral is None:
                continue
            for i in range(0, len(data), self.chunk):
                peripheral.notify(self.notify_uuid, data[i : i + self.chunk])
            await peripheral.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.loop.call_soon_threadsafe(self._task.cancel)
        except RuntimeError:
            pass
