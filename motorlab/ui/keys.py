"""The therapist's keys in a real terminal: SPACE start trial, r repeat, x invalid, q quit.

:class:`TerminalKeys` puts the terminal in cbreak mode (restored on close) and
turns single key presses into the controls of :mod:`motorlab.session.controls`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import termios
import tty
from collections.abc import Callable
from typing import TextIO

from ..session.controls import KEY_NAMES, ControlQueue


class TerminalKeys(ControlQueue):
    """Key presses on ``stream`` (default: stdin) as controls."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stdin
        self._saved: list | None = None
        self._fd: int | None = None

    def start(self, now: Callable[[], float]) -> None:
        fd = self.stream.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        self._fd = fd

        def on_key() -> None:
            ch = os.read(fd, 1).decode(errors="ignore").lower()
            if ch in KEY_NAMES:
                self.push(KEY_NAMES[ch])

        asyncio.get_running_loop().add_reader(fd, on_key)

    def close(self) -> None:
        if self._fd is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            if self._saved is not None:
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._fd = None
