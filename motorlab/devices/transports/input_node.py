"""Transport for a Linux input device node (``/dev/input/eventN``): raw ``struct input_event`` bytes.

The node is opened read-only and non-blocking and watched with the event loop
(``loop.add_reader``); whatever a read returns (whole events, in practice) goes
to the codec with the host time. A vanished device (``ENODEV``) or end of file
is a link loss. A permission error is one line with the fix (the ``input``
group). Any readable file with the same bytes works too, e.g. the FIFO an
emulator writes to.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time

from ..base import DeviceError
from .base import DataCallback, LostCallback, Transport

#: what to do when /dev/input/event* cannot be opened (research/devices_clinic.md §1d)
INPUT_GROUP_FIX = "add yourself to the input group: sudo usermod -aG input $USER, then log in again"

#: bytes asked per read (a few hundred events)
READ_SIZE = 24 * 512


def open_failure(path: str, exc: OSError) -> DeviceError:
    """The one-line error for a node that cannot be opened."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return DeviceError(f"{path}: permission denied: {INPUT_GROUP_FIX}")
    if exc.errno == errno.ENOENT:
        return DeviceError(f"{path}: no such input device (unplugged? list them with 'motorlab devices')")
    return DeviceError(f"{path}: cannot open input device ({exc.strerror or exc})")


class InputNodeTransport(Transport):
    def __init__(self, path: str):
        self.address = path
        self.path = path
        self._fd: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    async def open(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise open_failure(self.path, exc) from None
        loop = asyncio.get_running_loop()
        self._fd, self._loop = fd, loop

        def readable() -> None:
            try:
                data = os.read(fd, READ_SIZE)
            except BlockingIOError:
                return
            except OSError as exc:
                self._detach()
                on_lost(DeviceError(f"{self.path}: input device gone ({exc.strerror or exc})"))
                return
            if not data:
                self._detach()
                on_lost(DeviceError(f"{self.path}: input device closed"))
                return
            on_data(data, time.monotonic())

        loop.add_reader(fd, readable)

    def _detach(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(fd)
        try:
            os.close(fd)
        except OSError:
            pass

    async def write(self, data: bytes) -> None:
        if data:
            raise DeviceError(f"{self.path}: an input device takes no commands")

    async def close(self) -> None:
        self._detach()
