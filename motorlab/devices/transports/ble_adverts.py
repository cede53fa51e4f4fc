"""Transport for devices that only advertise (WH-C06 scales): manufacturer data from a running BLE scan.

There is no connection. ``open`` starts a bleak scan and waits for the first
advertisement of the target (a MAC address, or a name prefix) that carries
manufacturer data for ``company_id``; each such advertisement's data (after
the company ID, as bleak gives it) goes to the codec with the host time. A
silence of ``silence_timeout_s`` (10 s, as the reference client) is a link
loss: the scan stops and ``on_lost`` is called once, so the driver's
reconnect logic scans again. Nothing can be written.
"""

from __future__ import annotations

import asyncio
import re
import time

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from ..base import DeviceError
from .base import DataCallback, LostCallback, Transport

_MAC = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")


class BleAdvertisementTransport(Transport):
    def __init__(
        self,
        address_or_name: str,
        company_id: int,
        silence_timeout_s: float = 10.0,
        scan_timeout_s: float = 5.0,
    ):
        self.address = address_or_name
        self.target = address_or_name
        self.company_id = company_id
        self.silence_timeout_s = silence_timeout_s
        self.scan_timeout_s = scan_timeout_s
        self.found: BLEDevice | None = None
        self.adverts = 0
        self._scanner: BleakScanner | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._last = 0.0

    @property
    def is_open(self) -> bool:
        return self._scanner is not None

    @property
    def peer_address(self) -> str | None:
        return self.found.address if self.found is not None else None

    def _matches(self, device: BLEDevice, adv: AdvertisementData) -> bool:
        if _MAC.match(self.target):
            return device.address.upper() == self.target.upper()
        name = adv.local_name or device.name or ""
        return bool(name) and name.lower().startswith(self.target.lower())

    async def open(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        first = asyncio.get_running_loop().create_future()

        def detected(device: BLEDevice, adv: AdvertisementData) -> None:
            data = adv.manufacturer_data.get(self.company_id)
            if data is None or not self._matches(device, adv):
                return
            self.found = device
            self._last = time.monotonic()
            self.adverts += 1
            if not first.done():
                first.set_result(None)
            on_data(bytes(data), self._last)

        scanner = BleakScanner(detection_callback=detected)
        try:
            await scanner.start()
        except (BleakError, OSError, EOFError) as exc:
            raise DeviceError(
                f"{self.target}: BLE scan failed ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
            ) from None
        self._scanner = scanner
        try:
            await asyncio.wait_for(first, self.scan_timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise DeviceError(
                f"{self.target}: no advertisement with manufacturer data 0x{self.company_id:04X} "
                f"within {self.scan_timeout_s:g} s (is the scale on and in range?)"
            ) from None
        self._watchdog = asyncio.get_running_loop().create_task(self._watch(on_lost))

    async def _watch(self, on_lost: LostCallback) -> None:
        while self._scanner is not None:
            await asyncio.sleep(min(0.1, self.silence_timeout_s / 10))
            if time.monotonic() - self._last > self.silence_timeout_s:
                await self._stop_scan()
                on_lost(DeviceError(f"{self.target}: no advertisement for {self.silence_timeout_s:g} s"))
                return

    async def write(self, data: bytes) -> None:
        if data:
            raise DeviceError(f"{self.target}: this device only advertises; nothing can be sent")

    async def _stop_scan(self) -> None:
        scanner, self._scanner = self._scanner, None
        if scanner is not None:
            try:
                await scanner.stop()
            except (BleakError, OSError, EOFError):
                pass

    async def close(self) -> None:
        task, self._watchdog = self._watchdog, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        await self._stop_scan()
