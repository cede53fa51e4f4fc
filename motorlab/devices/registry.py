"""Device URLs and the registry of protocols and simulators.

A device URL names what to open:

* ``serial:///dev/ttyUSB0?protocol=motorlab&baud=115200`` — a serial port;
* ``ble://<address-or-name>?protocol=tindeq`` — a BLE peripheral (bleak);
* ``sim://grip?seed=1&peak_n=300`` — a built-in emulator speaking the real wire
  protocol over a pseudo-terminal (or an emulated BlueZ for BLE devices).

Protocol and simulator modules are imported lazily from the tables below; each
protocol module defines ``SPEC: ProtocolSpec`` and each simulator module an
``async def open_sim(params: dict[str, str]) -> CodecDriver``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from .base import DeviceError

if TYPE_CHECKING:
    from .drivers.codec_driver import CodecDriver
    from .transports.base import Transport

#: protocol name -> module defining SPEC
PROTOCOL_MODULES: dict[str, str] = {
    "motorlab": "motorlab.devices.drivers.motorlab_driver",
    "tindeq": "motorlab.devices.drivers.tindeq",
    "witmotion": "motorlab.devices.drivers.witmotion",
    "witmotion-ble": "motorlab.devices.drivers.witmotion_ble",
    "vernier": "motorlab.devices.drivers.vernier",
    "mark10": "motorlab.devices.drivers.mark10",
}

#: simulator name -> module defining open_sim
SIMULATOR_MODULES: dict[str, str] = {
    "grip": "motorlab.devices.emulators.grip_hx711",
    "pen": "motorlab.devices.emulators.imu_pen",
    "penble": "motorlab.devices.emulators.imu_pen_ble",
    "wt901": "motorlab.devices.emulators.witmotion",
    "wt901ble": "motorlab.devices.emulators.witmotion_ble",
    "mark10": "motorlab.devices.emulators.mark10",
    "progressor": "motorlab.devices.emulators.tindeq",
    "gdxhd": "motorlab.devices.emulators.vernier",
}


@dataclass(frozen=True)
class BleProfile:
    """GATT layout of a BLE device (always full 128-bit UUIDs)."""

    service_uuid: str
    notify_uuid: str
    write_uuid: str
    name_prefix: str = ""
    write_with_response: bool = True


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    #: build a driver from an (unopened) transport and the URL text
    make_driver: Callable[[Transport, str], CodecDriver]
    default_baud: int = 115200
    serial: bool = True
    ble: BleProfile | None = None
    description: str = ""


@dataclass(frozen=True)
class DeviceURL:
    scheme: str
    target: str
    params: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def protocol(self) -> str | None:
        return self.params.get("protocol")


def parse_device_url(text: str) -> DeviceURL:
    parts = urlsplit(text)
    if parts.scheme not in {"serial", "ble", "sim"}:
        raise DeviceError(f"{text}: unknown device URL scheme (use serial://, ble:// or sim://)")
    target = unquote(parts.netloc + parts.path) if parts.scheme != "sim" else parts.netloc
    if not target:
        raise DeviceError(f"{text}: device URL names no port, address or simulator")
    return DeviceURL(parts.scheme, target, dict(parse_qsl(parts.query)), text)


def protocol_spec(name: str) -> ProtocolSpec:
    module = PROTOCOL_MODULES.get(name)
    if module is None:
        raise DeviceError(f"unknown protocol {name!r}; known: {', '.join(sorted(PROTOCOL_MODULES))}")
    try:
        return importlib.import_module(module).SPEC
    except ModuleNotFoundError as exc:
        raise DeviceError(f"protocol {name!r} is not available in this build ({exc.name})") from None


def make_driver(url: str | DeviceURL) -> CodecDriver:
    """Build (not open) the driver for a serial:// or ble:// URL."""
    u = url if isinstance(url, DeviceURL) else parse_device_url(url)
    if u.protocol is None:
        raise DeviceError(f"{u.text}: add ?protocol=NAME ({', '.join(sorted(PROTOCOL_MODULES))})")
    spec = protocol_spec(u.protocol)
    if u.scheme == "serial":
        if not spec.serial:
            raise DeviceError(f"{u.text}: protocol {spec.name!r} is BLE-only")
        from .transports.serial_port import SerialTransport

        baud = int(u.params.get("baud", spec.default_baud))
        return spec.make_driver(SerialTransport(u.target, baud), u.text)
    if u.scheme == "ble":
        if spec.ble is None:
            raise DeviceError(f"{u.text}: protocol {spec.name!r} has no BLE profile")
        from .transports.ble import BleTransport

        return spec.make_driver(BleTransport(u.target, spec.ble), u.text)
    raise DeviceError(f"{u.text}: use open_device() for sim:// URLs")


async def open_device(url: str) -> CodecDriver:
    """Open a device by URL and return its connected driver (handshake done)."""
    u = parse_device_url(url)
    if u.scheme == "sim":
        module = SIMULATOR_MODULES.get(u.target)
        if module is None:
            raise DeviceError(f"{url}: unknown simulator; known: {', '.join(sorted(SIMULATOR_MODULES))}")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            raise DeviceError(f"{url}: simulator not available in this build ({exc.name})") from None
        return await mod.open_sim(u.params)
    driver = make_driver(u)
    await driver.open()
    try:
        await driver.info()
    except BaseException:
        await driver.close()
        raise
    return driver
