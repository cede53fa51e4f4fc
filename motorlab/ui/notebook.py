"""A synchronous facade for notebooks and scripts: open a device, record N seconds, get a Recording.

bleak and the drivers are asyncio; a notebook (Jupyter) already runs an event
loop in its main thread, where ``asyncio.run`` fails ("event loop is already
running", bleak#1115). So every :class:`NotebookDevice` runs its own event
loop in a background thread and the methods here block on it; they work the
same in a plain script, inside ``async`` code and in a notebook cell::

    from motorlab.ui.notebook import record
    rec = record("sim://grip?seed=1", seconds=5)      # or ble://…, serial://…, replay://…
    rec.channel("force").max()

    from motorlab.ui.notebook import open_device
    with open_device("sim://grip") as dev:
        dev.tare()
        rec = dev.record(3, task="grip")

Samples go through the same :class:`~motorlab.session.acquisition.Acquisition`
as a recording (the device's stored calibration applied, link gaps as
``gap`` events); the result stays in memory (``motorlab record`` is the way
to store a visit).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..devices.base import DeviceInfo
from ..devices.device import Device
from ..devices.registry import open_device as _open_device
from ..errors import DeviceError
from ..recording import Event, Metadata, Recording, validate_pseudonym
from ..session.acquisition import Acquisition
from ..session.calibration import load_calibration
from ..session.prepare import tare as _tare

if TYPE_CHECKING:
    from typing_extensions import Self

T = TypeVar("T")


class _MemorySink:
    """Keeps acquired samples and events in memory."""

    def __init__(self) -> None:
        self.t: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.events: list[Event] = []

    def append(self, t: np.ndarray, values: np.ndarray) -> None:
        self.t.append(np.array(t, dtype=np.float64))
        self.values.append(np.array(values, dtype=np.float64))

    def add_event(self, event: Event) -> None:
        self.events.append(event)


class NotebookDevice:
    """An open device driven from synchronous code (its event loop runs in a background thread)."""

    def __init__(self, url: str, timeout_s: float = 30.0):
        self.url = url
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="motorlab-notebook", daemon=True)
        self._thread.start()
        self._device: Device | None = None
        try:
            self._device = self._call(_open_device(url))
            self.info: DeviceInfo = self._call(self._device.driver.info())
        except BaseException:
            self.close()
            raise

    def _call(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout_s if timeout_s is not None else self.timeout_s)

    @property
    def device(self) -> Device:
        if self._device is None:
            raise DeviceError(f"{self.url}: device is closed")
        return self._device

    def tare(self) -> str:
        """Zero the device with no load; returns "" or why it has no tare."""
        self.device  # noqa: B018
        return self._call(_tare(self.device.driver))

    def record(self, seconds: float, participant: str = "P000", task: str = "notebook") -> Recording:
        """Stream for ``seconds`` s and return what arrived as a :class:`Recording`."""
        self.device  # noqa: B018 - a closed device is a one-line error before anything runs
        if not seconds > 0:
            raise DeviceError(f"{self.url}: seconds must be positive, got {seconds}")
        validate_pseudonym(participant)
        return self._call(self._record(float(seconds), participant, task), seconds + self.timeout_s)

    async def _record(self, seconds: float, participant: str, task: str) -> Recording:
        device, info = self.device, self.info
        cal = load_calibration(info)
        sink = _MemorySink()
        acq = Acquisition(device.driver, sink, cal.corrector)
        acq.start()
        await device.driver.start()
        try:
            if device.emulator is not None:
                device.emulator.cue("squeeze" if task == "grip" else "write")
            await asyncio.sleep(seconds)
        finally:
            await device.driver.stop()
            await acq.drain()
            await acq.stop()
        t = np.concatenate(sink.t) if sink.t else np.zeros(0)
        data = np.concatenate(sink.values) if sink.values else np.zeros((0, len(info.channels)))
        md = Metadata(
            participant=participant,
            task=task,
            tracksys="".join(c for c in info.model.split()[-1] if c.isalnum()) or "device",
            device_model=info.model,
            device_serial=info.serial,
            firmware=info.firmware,
            manufacturer=info.manufacturer,
            calibration_id=cal.id,
            acq_time=_dt.datetime.now().isoformat(timespec="milliseconds"),
            extra={"device_protocol": info.protocol, "integrity": device.driver.integrity()},
        )
        return Recording(t, data, list(info.channels), info.nominal_rate_hz, md, sink.events)

    def close(self) -> None:
        """Close the device and stop the background loop (idempotent)."""
        device, self._device = self._device, None
        try:
            if device is not None and self._loop.is_running():
                self._call(device.close())
        finally:
            if self._loop.is_running():
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(5.0)
            if not self._loop.is_running() and not self._loop.is_closed():
                self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_device(url: str, timeout_s: float = 30.0) -> NotebookDevice:
    """Open ``url`` for synchronous use (close it, or use ``with``)."""
    return NotebookDevice(url, timeout_s)


def record(
    url: str, seconds: float, *, participant: str = "P000", task: str = "notebook", tare: bool = False
) -> Recording:
    """Open ``url``, (tare,) record ``seconds`` s, close; returns the :class:`Recording`.

    Blocks until done; safe to call from a notebook cell or from inside a running event loop.
    """
    with open_device(url) as dev:
        if tare:
            dev.tare()
        return dev.record(seconds, participant, task)
