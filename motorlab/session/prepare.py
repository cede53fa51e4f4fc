"""Get an opened device ready to acquire: the steps recording and calibration share."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..errors import DeviceError, one_line

if TYPE_CHECKING:
    from ..devices.drivers.codec_driver import CodecDriver

log = logging.getLogger(__name__)


async def tare(driver: CodecDriver) -> str:
    """Zero the device with no load on it; returns "" or why it has no tare (the
    calibration's or the host's offset then covers its zero)."""
    try:
        await driver.tare()
    except DeviceError as exc:
        return one_line(exc)
    return ""


async def battery_or_none(driver: CodecDriver, timeout_s: float = 1.0) -> float | None:
    """Battery charge (%) if the device reports one; never fails the task."""
    try:
        return await asyncio.wait_for(driver.battery(), timeout_s)
    except (DeviceError, OSError, asyncio.TimeoutError) as exc:  # informational only: "unknown"
        log.info("battery level unavailable: %s", exc)
        return None
