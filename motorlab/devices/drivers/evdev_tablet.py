"""Driver for graphics tablets on Linux (Wacom and others): ``input:///dev/input/eventN``.

The pen node's axes are read with python-evdev (``pip install 'motorlab[tablet]'``):
name, declared ranges and resolutions (``InputDevice.absinfo``); the event
bytes then go through :class:`~motorlab.devices.codecs.evdev_tablet.EvdevTabletCodec`:
x/y in mm from the declared resolution, pressure and hover distance as
fractions, tilt in rad, proximity (``in_range``), tip contact, barrel button,
timed by the **kernel timestamps**. A tablet that declares no resolution is
refused (one line). The report rate is not fixed (133-266 reports/s, higher
while pressing): it is measured (:attr:`TabletDriver.measured_rate_hz`) and
written to the sidecar.

After ``SYN_DROPPED`` the codec asks for the current state; the driver reads
it from the device (``absinfo`` values and ``active_keys()``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..base import CodecEvent, CodecStats, Command, DeviceError, DeviceInfo, Start
from ..codecs.evdev_tablet import (
    ABS_DISTANCE,
    ABS_PRESSURE,
    ABS_TILT_X,
    ABS_TILT_Y,
    ABS_X,
    ABS_Y,
    AbsInfoLike,
    EvdevTabletCodec,
)
from ..transports.base import Transport
from ..transports.input_node import InputNodeTransport, open_failure
from .codec_driver import CodecDriver

AXES = (ABS_X, ABS_Y, ABS_PRESSURE, ABS_DISTANCE, ABS_TILT_X, ABS_TILT_Y)
#: (axis values by code, keys held down) read from the device after SYN_DROPPED
StateReader = Callable[[], tuple[Mapping[int, int], Iterable[int]]]
#: nominal report rate for the metadata, Hz; the real one is measured
NOMINAL_RATE_HZ = 200.0


class _NotOpened:
    """Placeholder codec until the node's axes are known (at :meth:`TabletDriver.open`)."""

    protocol = "evdev-tablet"

    def __init__(self) -> None:
        self.stats = CodecStats()

    def feed(self, data: bytes) -> list[CodecEvent]:
        return []

    def encode(self, command: Command) -> bytes:
        return b""


class TabletDriver(CodecDriver):
    """A tablet's pen node. ``absinfo``/``name``/``state`` come from python-evdev unless given
    (an emulator gives them; it has no real node)."""

    def __init__(
        self,
        transport: Transport,
        url: str = "",
        absinfo: Mapping[int, AbsInfoLike] | None = None,
        name: str = "",
        state: StateReader | None = None,
    ):
        super().__init__(transport, _NotOpened(), url)
        self._absinfo = dict(absinfo) if absinfo is not None else None
        self.name = name
        self._state = state
        self._evdev: Any = None

    def _read_device(self) -> None:
        """Name, axes and a state reader from python-evdev."""
        path = self.transport.address
        try:  # a permission problem first: it has a one-line fix whatever else is missing
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        except OSError as exc:
            raise open_failure(path, exc) from None
        try:
            import evdev
        except ModuleNotFoundError:
            raise DeviceError(
                f"{self.url}: tablets need python-evdev: pip install 'motorlab[tablet]'"
            ) from None
        try:
            dev = evdev.InputDevice(self.transport.address)
        except OSError as exc:
            raise open_failure(self.transport.address, exc) from None
        self._evdev = dev
        self.name = dev.name
        caps: list[Any] = list(dev.capabilities(absinfo=True).get(evdev.ecodes.EV_ABS, []))
        self._absinfo = {code: info for code, info in caps if code in AXES}

        def state() -> tuple[Mapping[int, int], Iterable[int]]:
            return {c: dev.absinfo(c).value for c in self._absinfo or {}}, dev.active_keys()

        self._state = state

    async def open(self) -> None:
        if self._absinfo is None:
            self._read_device()
        if isinstance(self.codec, _NotOpened):
            assert self._absinfo is not None
            self.codec = EvdevTabletCodec(self._absinfo, name=self.transport.address)
        await super().open()

    def _on_data(self, data: bytes, host_t: float) -> None:
        super()._on_data(data, host_t)
        codec = self.codec
        if isinstance(codec, EvdevTabletCodec) and codec.needs_resync and self._state is not None:
            values, keys = self._state()
            codec.resync(values, keys)

    async def info(self) -> DeviceInfo:
        if self._info is None:
            if not isinstance(self.codec, EvdevTabletCodec):
                raise DeviceError(f"{self.url}: tablet not opened")
            self._info = DeviceInfo(
                model=self.name or "graphics tablet",
                serial=self.transport.address,
                firmware="n/a",
                channels=self.codec.channels,
                nominal_rate_hz=NOMINAL_RATE_HZ,
                protocol="evdev-tablet",
                manufacturer="n/a",
            )
        return self._info

    async def send(self, command: Command) -> None:
        self.codec.encode(command)  # an input node takes no commands: only the timing restarts

    async def set_rate(self, rate_hz: float) -> None:
        raise DeviceError(f"{self.url}: a tablet's report rate is set by the tablet (it is measured)")

    async def start(self) -> None:
        self.clock.reset()
        await self.send(Start())
        self._streaming = True

    async def stop(self) -> None:
        self._streaming = False

    async def tare(self) -> None:
        raise DeviceError(f"{self.url}: a tablet has no tare")

    async def battery(self) -> float | None:
        return None

    @property
    def measured_rate_hz(self) -> float:
        rate = getattr(self.codec, "rate_hz", math.nan)
        return float(rate)

    async def close(self) -> None:
        await super().close()
        dev, self._evdev = self._evdev, None
        if dev is not None:
            dev.close()


def make_driver(transport: Transport, url: str) -> TabletDriver:
    if not isinstance(transport, InputNodeTransport):
        raise DeviceError(f"{url}: tablets are opened as input:///dev/input/eventN")
    return TabletDriver(transport, url)
