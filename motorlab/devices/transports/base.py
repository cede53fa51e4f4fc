"""Transport interface: moves bytes, knows nothing of protocols."""

from __future__ import annotations

import abc
from collections.abc import Callable

#: on_data(data, host_time_monotonic_s)
DataCallback = Callable[[bytes, float], None]
#: on_lost(exception or None) — called once when the link goes away unexpectedly
LostCallback = Callable[[BaseException | None], None]


class Transport(abc.ABC):
    """A byte pipe to one device. Callbacks run on the asyncio loop thread."""

    #: human-readable address used in error messages, e.g. ``/dev/ttyUSB0``
    address: str = "?"

    @abc.abstractmethod
    async def open(self, on_data: DataCallback, on_lost: LostCallback) -> None: ...

    @abc.abstractmethod
    async def write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @property
    @abc.abstractmethod
    def is_open(self) -> bool: ...

    @property
    def peer_address(self) -> str | None:
        """Hardware address of the device found (a BLE MAC), when the link knows one."""
        return None
