"""Driver of the motorlab open protocol (DIY grip dynamometer, DIY IMU pen).

The generic :class:`CodecDriver` already does the request/ack/stream plumbing
and reconnection; this subclass only makes a failed handshake say what was
heard instead (bytes that are not motorlab frames). Its BLE profile is in
:data:`motorlab.devices.spec.MOTORLAB_BLE`.
"""

from __future__ import annotations

from ..base import DeviceInfo, ProtocolMismatch
from ..codecs.motorlab_protocol import MotorlabCodec
from ..transports.base import Transport
from .codec_driver import CodecDriver


class MotorlabDriver(CodecDriver):
    """``CodecDriver`` with a descriptive handshake failure."""

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


def make_driver(transport: Transport, url: str) -> MotorlabDriver:
    return MotorlabDriver(transport, MotorlabCodec(), url)
