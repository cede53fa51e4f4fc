"""Helpers shared by the BLE end-to-end tests: record a driver into a Recording."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from motorlab.recording import Metadata, Recording
from motorlab.session.acquisition import Acquisition
from motorlab.storage.bids import RecordingWriter, read_recording


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(0.02)


async def record(
    driver,
    root: Path,
    task: str,
    script: Callable[[Acquisition], Awaitable[None]],
    participant: str = "P001",
) -> Recording:
    """Start ``driver``, run ``script`` while an Acquisition writes BIDS files, read them back."""
    info = await driver.info()
    md = Metadata(
        participant=participant,
        task=task,
        tracksys="".join(c for c in info.model.split()[-1] if c.isalnum()),
        device_model=info.model,
        device_serial=info.serial,
        firmware=info.firmware,
    )
    writer = RecordingWriter(root, md, info.channels, info.nominal_rate_hz)
    acq = Acquisition(driver, writer)
    acq.start()
    await driver.start()
    try:
        await script(acq)
    finally:
        await driver.stop()
        await acq.drain()
        await acq.stop()
        path = writer.close()
    return read_recording(path)
