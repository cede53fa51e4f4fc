"""Driver of the motorlab open protocol (DIY grip dynamometer, DIY IMU pen).

The generic :class:`CodecDriver` already does the request/ack/stream plumbing
and reconnection; this subclass only (a) makes a failed handshake say what was
heard instead (bytes that are not motorlab frames), and (b) closes an attached
emulator together with the driver (``sim://`` devices).
"""

from __future__ import annotations

import asyncio

from ..base import DeviceInfo, ProtocolMismatch
from ..codecs.motorlab_protocol import MotorlabCodec
from ..registry import BleProfile, ProtocolSpec
from ..transports.base import Transport
from .codec_driver import CodecDriver

#: GATT layout (firmware_notes/protocol.md section 2); base UUID generated once for this protocol
BLE_PROFILE = BleProfile(
    service_uuid="7d680001-9c86-4f5b-a5ed-40391b489d75",
    notify_uuid="7d680002-9c86-4f5b-a5ed-40391b489d75",
    write_uuid="7d680003-9c86-4f5b-a5ed-40391b489d75",
    name_prefix="motorlab",
    write_with_response=True,
)


class MotorlabDriver(CodecDriver):
    """``CodecDriver`` with a descriptive handshake failure and emulator ownership."""

    codec: MotorlabCodec

    async def info(self) -> DeviceInfo:
        try:
            return await super().info()
        except ProtocolMismatch:
            stats = self.codec.stats
            if stats.bytes_in == 0:
                heard = "the device sent nothing"
            else:
                heard = (
                    f"received {stats.bytes_in} bytes, no valid motorlab frame"
                    f"{' (looks like text)' if self.codec.looked_like_text else ''}"
                )
            raise ProtocolMismatch(
                f"{self.transport.address}: not a motorlab device ({heard}); check ?protocol= and the baud rate"
            ) from None

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            emulator, self.emulator = self.emulator, None
            if emulator is not None:
                await asyncio.to_thread(emulator.close)


def make_driver(transport: Transport, url: str) -> MotorlabDriver:
    return MotorlabDriver(transport, MotorlabCodec(), url)


SPEC = ProtocolSpec(
    name="motorlab",
    make_driver=make_driver,
    default_baud=115200,
    serial=True,
    ble=BLE_PROFILE,
    description="motorlab open protocol (COBS + CRC-16/CCITT-FALSE) for DIY grip and IMU-pen devices",
)
