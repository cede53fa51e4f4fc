"""Keys the therapist presses during a task, from a terminal or a script.

* ``space`` — start the next trial (when the protocol waits for the client)
* ``r`` — repeat the current/last trial (it is kept on disk, marked invalid)
* ``x`` — mark the current/last trial invalid (e.g. the client let go early)
* ``q`` — stop safely: the current trial is kept as ``incomplete``, the file is finalised

:class:`TerminalKeys` reads single key presses from a real terminal (cbreak mode,
restored on exit); :class:`ScriptedKeys` replays ``KEY@SECONDS`` items for
non-interactive runs and tests (e.g. ``"x@6.5,q@12"``; ``space`` is written ``_``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import termios
import tty
from typing import Protocol

from ..errors import ParameterError

KEY_NAMES = {" ": "space", "_": "space", "r": "repeat", "x": "invalid", "q": "quit"}


class KeySource(Protocol):
    queue: asyncio.Queue[str]

    def start(self, now) -> None: ...

    def close(self) -> None: ...


class NoKeys:
    """No keyboard (``--yes``): the protocol runs by itself."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    def start(self, now) -> None:
        pass

    def close(self) -> None:
        pass


class TerminalKeys:
    def __init__(self, stream=None) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.stream = stream or sys.stdin
        self._saved = None
        self._fd: int | None = None

    def start(self, now) -> None:
        fd = self.stream.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        self._fd = fd
        loop = asyncio.get_running_loop()

        def on_key() -> None:
            ch = os.read(fd, 1).decode(errors="ignore").lower()
            if ch in KEY_NAMES:
                self.queue.put_nowait(KEY_NAMES[ch])

        loop.add_reader(fd, on_key)

    def close(self) -> None:
        if self._fd is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            if self._saved is not None:
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._fd = None


def parse_key_script(text: str) -> list[tuple[float, str]]:
    """``"x@6.5,q@12"`` -> [(6.5, "invalid"), (12.0, "quit")]."""
    items = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, at = part.partition("@")
        if key.lower() not in KEY_NAMES or not at:
            raise ParameterError(f"bad key script item {part!r}: use KEY@SECONDS with KEY in _ r x q")
        items.append((float(at), KEY_NAMES[key.lower()]))
    return sorted(items)


class ScriptedKeys:
    def __init__(self, script: str | list[tuple[float, str]]) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.items = parse_key_script(script) if isinstance(script, str) else list(script)
        self._task: asyncio.Task | None = None

    def start(self, now) -> None:
        async def play() -> None:
            for at, key in self.items:
                await asyncio.sleep(max(0.0, at - now()))
                self.queue.put_nowait(key)

        self._task = asyncio.get_running_loop().create_task(play())

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
