"""The Kinvent coefficient handshake, shared by the K-Force (BLE) and K-Grip (USB) drivers.

Both answer ``0x21`` (sent with sampling off) with six ASCII digits, the device's stored kg per
raw count (÷1e6; ``codecs.kinvent.parse_coefficient``). No answer means the port or peripheral
is not a Kinvent sensor (or is silent): a :class:`ProtocolMismatch` naming it.
"""

from __future__ import annotations

from ..base import Ack, DeviceError, ProtocolMismatch
from ..codecs.kinvent import GetCoefficient
from .codec_driver import CodecDriver


async def query_coefficient(driver: CodecDriver, device: str) -> float:
    """The sensor's kg-per-count coefficient; ``device`` names it in the error ("K-Grip")."""
    try:
        ev = await driver.request(
            GetCoefficient(), lambda e: isinstance(e, Ack) and e.command == "coefficient"
        )
    except DeviceError:
        raise ProtocolMismatch(
            f"{driver.url}: no {device} coefficient reply (device silent or another protocol)"
        ) from None
    assert isinstance(ev, Ack)
    return float(ev.value)  # type: ignore[arg-type]
