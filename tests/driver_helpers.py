"""Shared checks of device drivers against the wrong (or a silent) device."""

from __future__ import annotations

import pytest

from motorlab.devices.base import ProtocolMismatch


async def protocol_mismatch_message(driver, reply_timeout_s: float = 0.5) -> str:
    """Open ``driver``, ask for its info and expect a :class:`ProtocolMismatch`; the driver is
    closed either way. Returns the message, asserted to be one line."""
    driver.reply_timeout_s = reply_timeout_s
    try:
        await driver.open()
        with pytest.raises(ProtocolMismatch) as exc:
            await driver.info()
    finally:
        await driver.close()
    message = str(exc.value)
    assert "\n" not in message, message
    return message
