"""Emulated BLE peripherals: the common base, opening one behind the emulated BlueZ, and a byte link.

* :class:`BleEmulator` — one peripheral of the emulated BlueZ (:mod:`motorlab.sim.bluez`),
  driven by a virtual participant on its device clock.
* :func:`open_ble_sim` — attach an emulator and open the *real* driver on it
  through :class:`~motorlab.devices.transports.ble.BleTransport` -> bleak ->
  emulated BlueZ; returns a :class:`~motorlab.devices.device.Device`.
* :class:`BleByteLink` — stands in for a :class:`~motorlab.sim.pty_link.PtyLink`
  so that an emulator written for a serial line can notify over BLE.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ...devices.device import Device
from ...devices.registry import DeviceURL, protocol_spec
from ...devices.spec import BleProfile
from ...errors import DeviceError
from ..bluez.bus import BleSandbox
from .base import ParticipantDevice

if TYPE_CHECKING:
    from ...devices.drivers.codec_driver import CodecDriver
    from ...devices.transports.ble import BleTransport
    from ..bluez.fakebluez import FakeBlueZ, Peripheral, PeripheralSpec


def sim_param(params: dict[str, str], name: str, default: float, url: str = "sim://") -> float:
    """A numeric ``sim://`` URL parameter; a bad value is a one-line DeviceError."""
    text = params.get(name)
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        raise DeviceError(f"{url}: parameter {name}={text!r} is not a number") from None


class BleEmulator(ParticipantDevice):
    """Base of the emulated BLE devices: one peripheral of the emulated BlueZ.

    Subclasses set :attr:`protocol` (their GATT layout comes from the spec),
    build :meth:`peripheral_spec`, react to writes and stream with
    :meth:`spawn`-ed tasks. The device clock (:meth:`device_time`, s) starts when
    the emulator is attached ("switched on"). Everything runs on the event loop
    that attached it.
    """

    #: the wire protocol it speaks (key of motorlab.devices.spec.PROTOCOLS)
    protocol: str = ""

    def __init__(self, address: str, name: str):
        self.address = address.upper()
        self.name = name
        self.peripheral: Peripheral | None = None
        self._bluez: FakeBlueZ | None = None
        self._t0 = 0.0
        self._tasks: set[asyncio.Task] = set()
        self.closed = False

    @property
    def profile(self) -> BleProfile:
        """GATT layout the driver uses (from :mod:`motorlab.devices.spec`)."""
        profile = protocol_spec(self.protocol).ble
        if profile is None:
            raise DeviceError(f"{self.sim_name}: protocol {self.protocol!r} has no BLE profile")
        return profile

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

    def drop_link(self) -> None:
        """Simulate a link loss (supervision timeout); the device stays in range."""
        if self.peripheral is not None:
            self.peripheral.drop_link()

    def on_link_down(self) -> None:
        """Called when the central goes away; by default streaming stops."""
        self.cancel_tasks()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    def later(self, fn: Callable[..., object], *args: object) -> None:
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
    emulator: BleEmulator, make_driver: Callable[[BleTransport], CodecDriver], url: DeviceURL
) -> Device:
    """Put ``emulator`` into the loop's emulated BlueZ and open the real driver on it.

    The driver reaches the device through :class:`BleTransport` -> bleak ->
    emulated BlueZ and does its handshake (``info()``). Closing the returned
    device switches the emulator off and releases the sandbox.
    """
    from ...devices.transports.ble import BleTransport

    box = await BleSandbox.acquire()

    async def release() -> None:
        try:
            emulator.close()
        finally:
            await box.release()

    device: Device | None = None
    try:
        assert box.bluez is not None
        emulator.attach(box.bluez)
        device = Device(
            make_driver(BleTransport(emulator.address, emulator.profile)), url.text, emulator, release
        )
        await device.driver.open()
        await device.driver.info()
    except BaseException:
        if device is not None:
            await device.close()
        else:
            await release()
        raise
    return device


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
