"""Replay a stored recording through the live path: ``replay://PATH?speed=10``.

:func:`open_replay` reads a BIDS motion recording (``PATH`` is its
``_motion.tsv`` or ``_motion.json``) and opens it as a device
(:class:`~motorlab.devices.drivers.replay.ReplayDriver`): its samples arrive
at their recorded pace (``speed`` times faster on request) through the
driver's queue, so a recorder, the live views, ``motorlab stream`` (LSL) and
the notebook facade take them exactly as they take a device's. The device
times are the original timestamps and the session keeps them
(:attr:`~motorlab.devices.drivers.replay.ReplayDriver.preserves_time`).

:func:`replay_recording` writes the replay as a new recording (same metadata,
channels and events) — for demos, teaching and re-analysis; its metrics are
those of the original, bit for bit (``tests/test_replay.py``).

The replayed device reports the serial ``replay-<original serial>``, so a
stored calibration of the original device is never applied a second time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..devices.base import DeviceInfo
from ..devices.device import Device
from ..devices.drivers.replay import ReplayDriver, ReplayTransport
from ..devices.registry import DeviceURL, parse_device_url
from ..errors import DeviceError, MotorlabError, one_line
from ..storage.bids import RecordingWriter, read_recording
from .acquisition import Acquisition


def _speed(url: DeviceURL) -> float:
    text = url.params.get("speed", "1")
    try:
        speed = float(text)
    except ValueError:
        raise DeviceError(f"{url.text}: speed={text!r} is not a number") from None
    if not speed > 0:
        raise DeviceError(f"{url.text}: speed must be positive (got {text})")
    return speed


async def open_replay(url: DeviceURL) -> Device:
    """Open ``replay://PATH?speed=S`` as a device (the registry's entry for ``replay://``)."""
    path = Path(url.target)
    speed = _speed(url)
    if not path.exists():
        raise DeviceError(f"{path}: no such recording to replay")
    try:
        rec = await asyncio.to_thread(read_recording, path)
    except (MotorlabError, OSError) as exc:
        raise DeviceError(f"cannot replay: {one_line(exc)}") from None
    md = rec.metadata
    info = DeviceInfo(
        model=md.device_model,
        serial=f"replay-{md.device_serial}",
        firmware=md.firmware,
        channels=tuple(rec.channels),
        nominal_rate_hz=rec.sampling_rate,
        protocol="replay",
        manufacturer=md.manufacturer,
    )
    transport = ReplayTransport(str(path), rec.timestamps, rec.data, speed)
    driver = ReplayDriver(transport, info, rec.events, url.text, md)
    await driver.open()
    return Device(driver, url.text)


async def replay_recording(url: str, root: Path | str) -> Path:
    """Play ``replay://PATH`` through driver and acquisition into a new recording under ``root``."""
    if not url.startswith("replay://"):
        url = "replay://" + str(Path(url).resolve())
    device = await open_replay(parse_device_url(url))
    driver = device.driver
    assert isinstance(driver, ReplayDriver)
    md = driver.source_metadata
    assert md is not None
    info = await driver.info()
    writer = RecordingWriter(
        root, md, info.channels, info.nominal_rate_hz, extra_sidecar={"MotorlabReplayOf": url}
    )
    try:
        acq = Acquisition(driver, writer)
        for event in driver.events:
            acq.add_event(event)
        acq.start()
        await driver.start()
        await driver.finished()
        await driver.stop()
        await acq.drain(0.0)
        await acq.stop()
    finally:
        await device.close()
        path = writer.close()
    return path


__all__ = ["open_replay", "replay_recording"]
