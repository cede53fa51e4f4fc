"""Serial transport on pyserial: a reader thread hands bytes to asyncio.

pyserial is blocking, so one daemon thread per port reads whatever is waiting
(``in_waiting`` or one byte with a short timeout) and schedules the callback on
the event loop with the host receive time (``time.monotonic()``).
"""

from __future__ import annotations

import asyncio
import threading
import time

import serial

from ..base import DeviceError
from .base import DataCallback, LostCallback, Transport


class SerialTransport(Transport):
    def __init__(self, port: str, baudrate: int = 115200, read_timeout_s: float = 0.02):
        self.address = port
        self.port = port
        self.baudrate = baudrate
        self.read_timeout_s = read_timeout_s
        self._ser: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    @property
    def is_open(self) -> bool:
        return self._ser is not None and self._ser.is_open

    async def open(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        loop = asyncio.get_running_loop()
        try:
            ser = serial.serial_for_url(
                self.port, baudrate=self.baudrate, timeout=self.read_timeout_s, exclusive=True
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            reason = str(exc).split(":")[-1].strip() or type(exc).__name__
            raise DeviceError(f"{self.port}: cannot open serial port ({reason})") from None
        self._ser = ser
        self._closing.clear()

        def reader() -> None:
            exc: BaseException | None = None
            try:
                while not self._closing.is_set():
                    data = ser.read(ser.in_waiting or 1)
                    if data:
                        t = time.monotonic()
                        loop.call_soon_threadsafe(on_data, data, t)
            except (serial.SerialException, OSError, TypeError, AttributeError) as e:
                exc = e
            if not self._closing.is_set():
                try:
                    loop.call_soon_threadsafe(on_lost, exc)
                except RuntimeError:  # loop already closed
                    pass

        self._thread = threading.Thread(target=reader, name=f"serial-{self.port}", daemon=True)
        self._thread.start()

    async def write(self, data: bytes) -> None:
        if self._ser is None:
            raise DeviceError(f"{self.port}: port is not open")
        try:
            self._ser.write(data)
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(f"{self.port}: write failed ({exc})") from None

    async def close(self) -> None:
        self._closing.set()
        ser, self._ser = self._ser, None
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 1.0)
            self._thread = None
        if ser is not None:
            try:
                ser.close()
            except (serial.SerialException, OSError):
                pass
