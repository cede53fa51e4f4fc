"""Devices: transports, sans-I/O codecs, drivers, discovery, calibration and device specs.

Open a device by URL and read blocks of samples::

    from motorlab.devices import open_device

    async with await open_device("serial:///dev/ttyUSB0?protocol=motorlab") as device:
        info = await device.driver.info()
        await device.driver.start()
        async for block in device.driver.blocks():  # SampleBlock: device_time (n,), values (n, ch)
            ...

* :func:`open_device` -> :class:`Device` (``.driver``; ``.emulator`` for ``sim://`` URLs,
  typed by the :class:`Emulator` protocol); :func:`parse_device_url`, :func:`make_driver`.
* :data:`DEVICES` / :data:`PROTOCOLS` (:mod:`.spec`): every supported device as data.
* Discovery: :func:`discover_serial`, :func:`discover_ble`, :func:`probe`, :func:`probe_all`.
* Types: :class:`DeviceInfo`, :class:`SampleBlock`, :class:`LinkStatus`, :class:`DeviceError`.
"""

from ..errors import DeviceError
from .base import DeviceInfo, LinkStatus, ProtocolMismatch, SampleBlock
from .device import Device, Emulator
from .discovery import Candidate, ProbeResult, discover_ble, discover_serial, probe, probe_all
from .registry import DeviceURL, make_driver, open_device, parse_device_url
from .spec import DEVICES, PROTOCOLS, BleProfile, DeviceSpec, ProtocolSpec

__all__ = [
    "DEVICES",
    "PROTOCOLS",
    "BleProfile",
    "Candidate",
    "Device",
    "DeviceError",
    "DeviceInfo",
    "DeviceSpec",
    "DeviceURL",
    "Emulator",
    "LinkStatus",
    "ProbeResult",
    "ProtocolMismatch",
    "ProtocolSpec",
    "SampleBlock",
    "discover_ble",
    "discover_serial",
    "make_driver",
    "open_device",
    "parse_device_url",
    "probe",
    "probe_all",
]
