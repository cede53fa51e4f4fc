"""BLE transport on bleak's public API.

``open`` scans for the peripheral (by MAC address, or by advertised name or name
prefix), connects with the *scanned* ``BLEDevice`` (connecting to a bare address
fails on BlueZ once the scan that saw it has stopped, bleak#1176), subscribes to
the profile's notify characteristic with ``StartNotify`` (``use_start_notify``:
some peripherals drop the link or lose the first notifications with
AcquireNotify, bleak#1885) and reports an unexpected disconnect once through
``on_lost``. Notification callbacks only stamp the host time
(``time.monotonic()``) and hand the bytes on.

Writes are split into chunks of at most ``max_chunk`` bytes (20 = the payload
of the default 23-byte ATT MTU, which GDX and WitMotion devices expect).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from ..base import DeviceError
from ..spec import BleProfile
from .base import DataCallback, LostCallback, Transport

log = logging.getLogger(__name__)

_MAC = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")
#: everything bleak and its D-Bus layer raise for a failed operation
_BLE_ERRORS = (BleakError, OSError, EOFError, asyncio.TimeoutError)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text and text[0] else type(exc).__name__


class BleTransport(Transport):
    """A byte pipe to one BLE peripheral: notifications in, characteristic writes out."""

    def __init__(
        self,
        address_or_name: str,
        profile: BleProfile,
        scan_timeout_s: float = 5.0,
        connect_timeout_s: float = 10.0,
        max_chunk: int = 20,
    ):
        self.address = address_or_name
        self.target = address_or_name
        self.profile = profile
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_chunk = max_chunk
        #: the BLEDevice found by the last scan (its address is the MAC on Linux)
        self.device: BLEDevice | None = None
        self._client: BleakClient | None = None
        self._generation = 0  # ignores disconnect callbacks of earlier connections
        self._closing = False

    @property
    def is_open(self) -> bool:
        return self._client is not None and self._client.is_connected

    @property
    def peer_address(self) -> str | None:
        return self.device.address if self.device is not None else None

    @property
    def by_address(self) -> bool:
        return bool(_MAC.match(self.target))

    async def scan(self) -> BLEDevice:
        """Find the peripheral; a missing one is a one-line :class:`DeviceError`."""
        try:
            if self.by_address:
                device = await BleakScanner.find_device_by_address(self.target, timeout=self.scan_timeout_s)
            else:
                wanted = self.target.lower()

                def matches(dev: BLEDevice, adv) -> bool:
                    name = (adv.local_name or dev.name or "").lower()
                    return bool(name) and name.startswith(wanted)

                device = await BleakScanner.find_device_by_filter(matches, timeout=self.scan_timeout_s)
        except _BLE_ERRORS as exc:
            raise DeviceError(f"{self.target}: BLE scan failed ({_reason(exc)})") from None
        if device is None:
            what = "address" if self.by_address else "name"
            raise DeviceError(
                f"{self.target}: no BLE device with this {what} found within {self.scan_timeout_s:g} s "
                f"(is it switched on, in range and not connected to another host?)"
            )
        return device

    async def open(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        self._closing = False
        self.device = await self.scan()
        self._generation += 1
        generation = self._generation

        def disconnected(_client: BleakClient) -> None:
            if generation != self._generation or self._closing:
                return
            self._generation += 1  # report each loss once
            on_lost(DeviceError(f"{self.target}: BLE link lost"))

        def notified(_char: object, data: bytearray) -> None:
            on_data(bytes(data), time.monotonic())

        client = BleakClient(self.device, disconnected_callback=disconnected, timeout=self.connect_timeout_s)
        try:
            await client.connect()
            self._client = client
            await client.start_notify(self.profile.notify_uuid, notified, bluez={"use_start_notify": True})
        except _BLE_ERRORS as exc:
            self._generation += 1
            await self._disconnect(client)
            self._client = None
            raise DeviceError(f"{self.target}: BLE connect failed ({_reason(exc)})") from None

    async def write(self, data: bytes) -> None:
        client = self._client
        if client is None or not client.is_connected:
            raise DeviceError(f"{self.target}: BLE device is not connected")
        try:
            for i in range(0, len(data), self.max_chunk):
                await client.write_gatt_char(
                    self.profile.write_uuid,
                    data[i : i + self.max_chunk],
                    response=self.profile.write_with_response,
                )
        except _BLE_ERRORS as exc:
            raise DeviceError(f"{self.target}: BLE write failed ({_reason(exc)})") from None

    async def close(self) -> None:
        self._closing = True
        self._generation += 1
        client, self._client = self._client, None
        if client is not None:
            await self._disconnect(client)

    async def _disconnect(self, client: BleakClient) -> None:
        try:
            await asyncio.wait_for(client.disconnect(), self.connect_timeout_s)
        except (*_BLE_ERRORS, RuntimeError) as exc:
            log.debug("%s: disconnect: %s", self.target, exc)
