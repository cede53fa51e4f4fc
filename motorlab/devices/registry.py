"""Device URLs: parse them and open what they name.

A device URL names what to open:

* ``serial:///dev/ttyUSB0?protocol=motorlab&baud=115200`` — a serial port;
* ``ble://<address-or-name>?protocol=tindeq`` — a BLE peripheral (bleak);
* ``sim://grip?seed=1&peak_n=300`` — a built-in emulator speaking the real wire
  protocol over a pseudo-terminal (or an emulated BlueZ for BLE devices).

What each protocol and simulator is comes from :mod:`.spec`. Driver modules
are imported lazily (``motorlab.devices.drivers.<spec.driver>``), and so is
:mod:`motorlab.sim` for ``sim://`` URLs: the simulators are an optional part
of the package that the device layer reaches only through
:data:`SIM_MODULE`'s ``open_sim(url) -> Device``.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import DeviceError
from .device import Device
from .spec import PROTOCOLS, ProtocolSpec

if TYPE_CHECKING:
    from .drivers.codec_driver import CodecDriver
    from .transports.base import Transport

#: module whose ``open_sim(url: DeviceURL) -> Device`` opens ``sim://`` URLs (imported on first use)
SIM_MODULE = "motorlab.sim.opening"
#: module whose ``open_replay(url: DeviceURL) -> Device`` opens ``replay://`` URLs (it reads files)
REPLAY_MODULE = "motorlab.session.replay"

MakeDriver = Callable[["Transport", str], "CodecDriver"]
SimOpener = Callable[["DeviceURL"], Awaitable[Device]]


@dataclass(frozen=True)
class DeviceURL:
    """A parsed device URL: scheme (``serial``/``ble``/``sim``), target (port, address
    or simulator name), query parameters and the original text."""

    scheme: str
    target: str
    params: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def protocol(self) -> str | None:
        return self.params.get("protocol")


def parse_device_url(text: str) -> DeviceURL:
    """Split a device URL; an unknown scheme or an empty target is a one-line DeviceError."""
    parts = urlsplit(text)
    if parts.scheme not in {"serial", "ble", "sim", "replay", "input"}:
        if text.startswith("/dev/") or text.upper().startswith("COM"):
            raise DeviceError(
                f"{text}: a port needs the URL form serial://{text}?protocol=NAME "
                f"(NAME: {', '.join(sorted(p for p, s in PROTOCOLS.items() if s.serial))}; "
                "`motorlab devices --probe` finds it)"
            )
        raise DeviceError(
            f"{text}: unknown device URL scheme (use serial://, ble://, input://, sim:// or replay://)"
        )
    target = unquote(parts.netloc + parts.path) if parts.scheme != "sim" else parts.netloc
    if not target:
        raise DeviceError(f"{text}: device URL names no port, address or simulator")
    return DeviceURL(parts.scheme, target, dict(parse_qsl(parts.query)), text)


def protocol_spec(name: str) -> ProtocolSpec:
    """The spec of protocol ``name``; an unknown name is a one-line DeviceError."""
    spec = PROTOCOLS.get(name)
    if spec is None:
        raise DeviceError(f"unknown protocol {name!r}; known: {', '.join(sorted(PROTOCOLS))}")
    return spec


def driver_factory(spec: ProtocolSpec) -> MakeDriver:
    """``make_driver(transport, url)`` of a protocol's driver module (imported now)."""
    try:
        module = importlib.import_module(f"{__package__}.drivers.{spec.driver}")
    except ModuleNotFoundError as exc:
        raise DeviceError(f"protocol {spec.name!r} is not available in this build ({exc.name})") from None
    return cast(MakeDriver, module.make_driver)


def make_driver(url: str | DeviceURL) -> CodecDriver:
    """Build (not open) the driver for a serial:// or ble:// URL."""
    u = url if isinstance(url, DeviceURL) else parse_device_url(url)
    if u.scheme == "input":  # a Linux input node: a graphics tablet's pen
        from .transports.input_node import InputNodeTransport

        spec = protocol_spec(u.protocol or "evdev-tablet")
        if not spec.input:
            raise DeviceError(f"{u.text}: protocol {spec.name!r} does not run on an input node")
        return driver_factory(spec)(InputNodeTransport(u.target), u.text)
    if u.protocol is None:
        raise DeviceError(f"{u.text}: add ?protocol=NAME ({', '.join(sorted(PROTOCOLS))})")
    spec = protocol_spec(u.protocol)
    if u.scheme == "serial":
        if not spec.serial:
            raise DeviceError(f"{u.text}: protocol {spec.name!r} is BLE-only")
        from .transports.serial_port import SerialTransport

        try:
            baud = int(u.params.get("baud", spec.default_baud))
        except ValueError:
            raise DeviceError(f"{u.text}: baud={u.params['baud']!r} is not a whole number") from None
        return driver_factory(spec)(SerialTransport(u.target, baud), u.text)
    if u.scheme == "ble" and spec.ble_adverts is not None:  # a device that only advertises
        from .transports.ble_adverts import BleAdvertisementTransport

        return driver_factory(spec)(BleAdvertisementTransport(u.target, spec.ble_adverts), u.text)
    if u.scheme == "ble":
        if spec.ble is None:
            raise DeviceError(f"{u.text}: protocol {spec.name!r} has no BLE profile")
        from .transports.ble import BleTransport

        return driver_factory(spec)(BleTransport(u.target, spec.ble), u.text)
    raise DeviceError(f"{u.text}: use open_device() for sim:// URLs")


def _sim_opener(url: str) -> SimOpener:
    try:
        module = importlib.import_module(SIM_MODULE)
    except ModuleNotFoundError as exc:
        raise DeviceError(
            f"{url}: simulators are not available ({exc.name} is missing; pip install 'motorlab[sim]')"
        ) from None
    return cast(SimOpener, module.open_sim)


async def open_device(url: str) -> Device:
    """Open a device by URL: the connected driver (handshake done) and, for ``sim://``,
    its emulator. Close it with ``await device.close()`` or ``async with``."""
    u = parse_device_url(url)
    if u.scheme == "sim":
        return await _sim_opener(url)(u)
    if u.scheme == "replay":
        opener = cast(SimOpener, importlib.import_module(REPLAY_MODULE).open_replay)
        return await opener(u)
    driver = make_driver(u)
    await driver.open()
    try:
        await driver.info()
    except BaseException:
        await driver.close()
        raise
    return Device(driver, url)
