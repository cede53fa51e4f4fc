"""A pseudo-terminal pair that emulators serve devices on.

The emulator holds the master side; the driver opens the slave through pyserial
exactly as it would open ``/dev/ttyUSB0``. A stable symlink (``link_path``)
points at the current slave so that a port that *vanishes and returns*
(:meth:`vanish` / :meth:`restore`) can be reopened under the same name, like a
USB adapter that is unplugged and plugged back in.

The emulator side runs in its own daemon thread: :class:`PtyLink` calls
``on_bytes(data)`` for every chunk the host writes and offers a thread-safe
:meth:`write` for the device's output.
"""

from __future__ import annotations

import os
import select
import tempfile
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self


class PtyLink:
    def __init__(self, on_bytes: Callable[[bytes], None], name: str = "ttyEMU"):
        self._on_bytes = on_bytes
        self._dir = tempfile.mkdtemp(prefix="motorlab-pty-")
        self.link_path = str(Path(self._dir, name))
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._open_pair()

    # -- pty management -----------------------------------------------------------
    def _open_pair(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass unchanged
        tty.setraw(master)
        os.set_blocking(master, False)
        tmp = self.link_path + ".new"
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.link_path)
        with self._lock:
            self._master, self._slave = master, slave

    def _close_pair(self) -> None:
        with self._lock:
            master, slave = self._master, self._slave
            self._master = self._slave = None
        for fd in (master, slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    @property
    def slave_path(self) -> str | None:
        with self._lock:
            return os.ttyname(self._slave) if self._slave is not None else None

    def vanish(self) -> None:
        """Unplug: close the pty (the host's reads fail) and remove the symlink."""
        self._close_pair()
        try:
            os.unlink(self.link_path)
        except FileNotFoundError:
            pass

    def restore(self) -> None:
        """Plug back in: a fresh pty under the same symlink."""
        if self._master is None:
            self._open_pair()

    @property
    def present(self) -> bool:
        return self._master is not None

    # -- I/O thread -----------------------------------------------------------------
    def start(self) -> Self:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"pty-{self.link_path}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                master = self._master
            if master is None:
                self._stop.wait(0.01)
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.02)
                if ready:
                    data = os.read(master, 4096)
                    if data:
                        self._on_bytes(data)
            except (OSError, ValueError):  # closed by vanish() or no reader yet
                self._stop.wait(0.005)

    def write(self, data: bytes, timeout_s: float = 0.5) -> bool:
        """Send device output; returns False when unplugged or when nobody reads the
        port for ``timeout_s`` (the rest is lost, like a UART overrun on a real cable)."""
        with self._lock:
            master = self._master
            if master is None:
                return False
            view = memoryview(data)
            deadline = None
            while view:
                try:
                    n = os.write(master, view)
                    view = view[n:]
                except BlockingIOError:
                    if deadline is None:
                        deadline = time.monotonic() + timeout_s
                    elif time.monotonic() > deadline:
                        return False
                    select.select([], [master], [], 0.05)
                except OSError:
                    return False
        return True

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
        self.vanish()
        try:
            os.rmdir(self._dir)
        except OSError:
            pass

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
