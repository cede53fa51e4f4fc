"""The therapist's controls during a task, from any input (keyboard, script, browser).

* ``space`` — start the next trial (when the protocol waits for the client)
* ``repeat`` — repeat the current/last trial (it is kept on disk, marked invalid)
* ``invalid`` — mark the current/last trial invalid (e.g. the client let go early)
* ``quit`` — stop safely: the current trial is kept as ``incomplete``, the file is finalised

A :class:`ControlSource` delivers them on an asyncio queue. :class:`ControlQueue`
is the plain one (anything may :meth:`~ControlQueue.push`; with nobody pushing,
the protocol runs by itself); :class:`ScriptedKeys` replays ``KEY@SECONDS``
items for unattended runs and tests (e.g. ``"x@6.5,q@12"``; ``space`` is written
``_``). The terminal's keyboard is :class:`motorlab.ui.keys.TerminalKeys`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal, Protocol

from ..errors import ParameterError

Control = Literal["space", "repeat", "invalid", "quit"]
#: key -> control (single keys of the terminal and of key scripts)
KEY_NAMES: dict[str, Control] = {" ": "space", "_": "space", "r": "repeat", "x": "invalid", "q": "quit"}


class ControlSource(Protocol):
    """Delivers controls on :attr:`queue` between :meth:`start` and :meth:`close`."""

    queue: asyncio.Queue[Control]

    def start(self, now: Callable[[], float]) -> None:
        """Begin delivering; ``now()`` is the recording clock (s)."""
        ...

    def close(self) -> None: ...


class ControlQueue:
    """Controls pushed by anyone (a view, a test); none at all lets the protocol run by itself."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Control] = asyncio.Queue()

    def push(self, control: Control) -> None:
        self.queue.put_nowait(control)

    def start(self, now: Callable[[], float]) -> None:
        pass

    def close(self) -> None:
        pass


def parse_key_script(text: str) -> list[tuple[float, Control]]:
    """``"x@6.5,q@12"`` -> [(6.5, "invalid"), (12.0, "quit")]."""
    items = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, at = part.partition("@")
        if key.lower() not in KEY_NAMES or not at:
            raise ParameterError(f"bad key script item {part!r}: use KEY@SECONDS with KEY in _ r x q")
        try:
            seconds = float(at)
        except ValueError:
            raise ParameterError(f"bad key script item {part!r}: {at!r} is not a number of seconds") from None
        items.append((seconds, KEY_NAMES[key.lower()]))
    return sorted(items)


class ScriptedKeys(ControlQueue):
    """Replays ``(seconds, control)`` items (or a ``KEY@SECONDS`` script) on the recording clock."""

    def __init__(self, script: str | list[tuple[float, Control]]) -> None:
        super().__init__()
        self.items = parse_key_script(script) if isinstance(script, str) else list(script)
        self._task: asyncio.Task[None] | None = None

    def start(self, now: Callable[[], float]) -> None:
        async def play() -> None:
            for at, control in self.items:
                await asyncio.sleep(max(0.0, at - now()))
                self.push(control)

        self._task = asyncio.get_running_loop().create_task(play())

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
