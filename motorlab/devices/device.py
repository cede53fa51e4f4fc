"""An opened device: what :func:`~motorlab.devices.registry.open_device` returns.

A :class:`Device` joins the connected driver (handshake done) with, for
``sim://`` URLs, a typed handle on its emulator. Production code talks to the
emulator only through the :class:`Emulator` protocol — cue the virtual
participant, read its ground truth, and let a virtual technician load or turn
the sensor during calibration; the emulators themselves live in
:mod:`motorlab.sim`, which the device layer never imports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from typing_extensions import Self

    from .drivers.codec_driver import CodecDriver


class Emulator(Protocol):
    """The emulated side of a ``sim://`` device (implemented in :mod:`motorlab.sim`)."""

    def cue(self, kind: str) -> float:
        """The virtual participant hears cue ``kind`` (``squeeze``, ``release``, ``write``…) now;
        returns the device time (s) it heard it at. Unknown cues are ignored."""
        ...

    @property
    def truth(self) -> object:
        """JSON-serialisable ground truth (what the participant really did)."""
        ...

    def apply_load(self, newtons: float | None) -> None:
        """Virtual technician: hang a known static load on the sensor, N (None removes it).

        Raises :class:`~motorlab.errors.DeviceError` when the device has no load cell."""
        ...

    def set_pose(self, up: str) -> None:
        """Virtual technician: hold the device still with axis ``up`` (``+x`` … ``-z``) pointing up.

        Raises :class:`~motorlab.errors.DeviceError` when the device cannot be posed."""
        ...


@dataclass(eq=False)
class Device:
    """An open device: its driver, and for ``sim://`` devices its emulator.

    Close it with :meth:`close` (or ``async with``): the driver stops and
    disconnects, then anything the device owns is released (an emulator is
    switched off).

    Attributes:
        driver: the connected :class:`~motorlab.devices.drivers.codec_driver.CodecDriver`.
        url: the URL it was opened with.
        emulator: the emulator behind a ``sim://`` device, None for real hardware.
        release: called once after the driver has closed (set by whoever opened it).
    """

    driver: CodecDriver
    url: str
    emulator: Emulator | None = None
    release: Callable[[], Awaitable[None]] | None = None

    @property
    def emulated(self) -> bool:
        """A built-in emulator: it has an emulator handle or its URL is ``sim://`` (its data
        must never pass for a measurement)."""
        return self.emulator is not None or self.url.split(":", 1)[0].lower() == "sim"

    async def close(self) -> None:
        """Close the driver, then release what the device owns (idempotent)."""
        try:
            await self.driver.close()
        finally:
            release, self.release = self.release, None
            if release is not None:
                await release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
