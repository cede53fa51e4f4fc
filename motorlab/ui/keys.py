"""The therapist's keys in a real terminal: SPACE start trial, r repeat, x invalid, q quit, n note.

:class:`TerminalKeys` puts the terminal in cbreak mode (restored on close) and
turns single key presses into the controls of :mod:`motorlab.session.controls`.
``n`` starts a note: the keys typed then are text (shown through ``on_typing``), Enter
keeps it (``on_note``), Escape drops it; the task runs on meanwhile.
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
        #: receives a finished note
        self.on_note: Callable[[str], object] | None = None
        #: receives the note being typed (None when typing ends)
        self.on_typing: Callable[[str | None], None] | None = None
        self._note: str | None = None

    def key(self, ch: str) -> None:
        """Handle one typed character (see the module docstring)."""
        if self._note is None:
            if ch.lower() == "n" and self.on_note is not None:
                self._note = ""
                self._typing(self._note)
            elif ch.lower() in KEY_NAMES:
                self.push(KEY_NAMES[ch.lower()])
            return
        if ch in ("\r", "\n"):
            text, self._note = self._note, None
            self._typing(None)
            if text.strip() and self.on_note is not None:
                self.on_note(text)
        elif ch == "\x1b":
            self._note = None
            self._typing(None)
        elif ch in ("\x7f", "\b"):
            self._note = self._note[:-1]
            self._typing(self._note)
        elif ch.isprintable():
            self._note += ch
            self._typing(self._note)

    def _typing(self, text: str | None) -> None:
        if self.on_typing is not None:
            self.on_typing(text)

    def start(self, now: Callable[[], float]) -> None:
        fd = self.stream.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd, termios.TCSANOW)  # keep keys pressed while the task was starting
        self._fd = fd

        def on_key() -> None:
            for ch in os.read(fd, 64).decode(errors="ignore"):
                self.key(ch)

        asyncio.get_running_loop().add_reader(fd, on_key)

    def close(self) -> None:
        if self._fd is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            if self._saved is not None:
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._fd = None
