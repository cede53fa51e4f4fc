"""Fan-out of one live task to every connected screen, at most 30 messages a second.

The :class:`LiveHub` runs in the server's event loop. Each tick it polls the
attached :class:`~motorlab.ui.web.live.LiveSource`, decimates the new samples
into the current trial's curve and ink, and wakes one sender per screen. A
sender sends only what its screen has not seen (a cursor into the curve and the
ink), so a slow screen skips frames but never loses curve points, and a screen
that connects mid-trial gets the whole trial's curve in its first message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from starlette.websockets import WebSocket, WebSocketDisconnect

from ...errors import MotorlabError, one_line
from .decimate import FORCE_BUCKET_S, INK_STEP_MM, decimate_minmax, thin_ink
from .live import (
    MAX_RATE_HZ,
    CurveChunk,
    LiveSnapshot,
    LiveSource,
    LiveUpdate,
    idle_message,
    live_message,
    parse_client_message,
)

log = logging.getLogger(__name__)

#: a trial's display curve is coarsened (bucket doubled) when it grows past this many points
MAX_CURVE_POINTS = 6000
#: ink points kept for display per trial; beyond it the screen says the drawing is too long to show
MAX_INK_POINTS = 60000


@dataclass(eq=False)
class _Screen:
    """One connected screen and what it has been sent."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)
    version: int = -1
    trial_key: str | None = None
    curve_sent: int = 0
    ink_sent: int = 0
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class LiveHub:
    """Polls one :class:`LiveSource` and feeds every screen.

    Args:
        rate_hz: polls (and at most messages per screen) per second, ≤ :data:`MAX_RATE_HZ`.
        bucket_s: initial bucket width of the force curve's min/max decimation (s).
        ink_step_mm: smallest pen movement drawn as a new ink point (mm).
    """

    def __init__(
        self, rate_hz: float = MAX_RATE_HZ, bucket_s: float = FORCE_BUCKET_S, ink_step_mm: float = INK_STEP_MM
    ) -> None:
        if not 0 < rate_hz <= MAX_RATE_HZ:
            raise MotorlabError(f"live rate must be in (0, {MAX_RATE_HZ:g}] messages/s, got {rate_hz!r}")
        self.rate_hz = rate_hz
        self.bucket_s0 = bucket_s
        self.ink_step_mm = ink_step_mm
        self._source: LiveSource | None = None
        self._polled: LiveSource | None = None
        self._screens: set[_Screen] = set()
        self._version = 0
        self._seq = 0
        self._reset_trial("")
        self._snapshot: LiveSnapshot | None = None
        self._idle_text = "No task is running."
        self._idle_links: tuple[tuple[str, str], ...] = ()
        self._idle_changed = False
        self.polls = 0

    # ------------------------------------------------------------------ source
    @property
    def source(self) -> LiveSource | None:
        return self._source

    def attach(self, source: LiveSource | None) -> None:
        """Show ``source`` on every screen from the next tick on (None: back to idle). Thread-safe."""
        if source is not None:
            self._idle_text = "No task is running."
            self._idle_links = ()
        self._source = source

    def detach(self, text: str | None = None, links: tuple[tuple[str, str], ...] = ()) -> None:
        """Back to idle; screens show ``text`` (default "No task is running.") and ``links``
        (``(href, words)`` pairs of this app's pages, e.g. the report after a visit). Thread-safe."""
        self._idle_text = text or "No task is running."
        self._idle_links = tuple(links)
        self._idle_changed = True
        self._source = None

    @property
    def screen_count(self) -> int:
        """Task screens connected now."""
        return len(self._screens)

    # ------------------------------------------------------------------ state
    def _reset_trial(self, key: str) -> None:
        self._trial_key = key
        self._epoch = 0
        self._bucket_s = self.bucket_s0
        self._t0: float | None = None
        self._curve_t: list[float] = []
        self._curve_v: list[float] = []
        self._ink: list[list[float]] = []
        self._ink_last: tuple[float, float] | None = None
        self._ink_full = False

    @property
    def _display_key(self) -> str:
        return f"{self._trial_key}#{self._epoch}"

    def _integrate(self, upd: LiveUpdate) -> None:
        snap = upd.snapshot
        if snap.task.trial_key != self._trial_key:
            self._reset_trial(snap.task.trial_key)
        if upd.force is not None and snap.force is not None and upd.force.t_s.size:
            t, v = decimate_minmax(upd.force.t_s, upd.force.value, self._bucket_s)
            if t.size:
                if self._t0 is None:
                    self._t0 = float(t[0])
                self._curve_t.extend((t - self._t0).tolist())
                self._curve_v.extend(v.tolist())
            if len(self._curve_t) > MAX_CURVE_POINTS:
                self._coarsen()
        if upd.pen is not None and snap.pen is not None and snap.pen.has_position and not self._ink_full:
            p = upd.pen
            idx, new = thin_ink(p.x_mm, p.y_mm, p.down, self.ink_step_mm, self._ink_last)
            for i, n in zip(idx.tolist(), new.tolist()):
                f = float(p.force[i])
                self._ink.append(
                    [
                        round(float(p.x_mm[i]), 2),
                        round(float(p.y_mm[i]), 2),
                        round(f, 3) if np.isfinite(f) else 0.0,
                        int(n),
                    ]
                )
            last_down = bool(p.down[-1]) if p.down.size else False
            self._ink_last = (self._ink[-1][0], self._ink[-1][1]) if (last_down and self._ink) else None
            if len(self._ink) > MAX_INK_POINTS:
                self._ink_full = True
        self._snapshot = snap

    def _coarsen(self) -> None:
        """Halve the curve's resolution (bucket × 2); screens then receive it again from the start."""
        while len(self._curve_t) > MAX_CURVE_POINTS // 2:
            self._bucket_s *= 2
            t, v = decimate_minmax(np.asarray(self._curve_t), np.asarray(self._curve_v), self._bucket_s)
            self._curve_t, self._curve_v = t.tolist(), v.tolist()
        self._epoch += 1

    def tick(self) -> bool:
        """Poll the source once; True when screens have something new."""
        src = self._source
        self.polls += 1
        if src is None and self._idle_changed:  # new idle text (e.g. the visit has ended)
            self._idle_changed = False
            self._polled, self._snapshot = None, None
            self._reset_trial("")
            self._version += 1
            return True
        if src is not self._polled:
            self._polled = src
            self._snapshot = None
            self._reset_trial("")
            self._version += 1
            if src is None:
                return True
        if src is None:
            return False
        try:
            upd = src.poll()
        except Exception as exc:  # a faulty source must not stop the server; the screens are told
            log.exception("live source failed")
            self.detach()
            self._idle_text = f"The live task stopped answering ({one_line(exc)})."
            return False
        if upd is None:
            return False
        self._integrate(upd)
        self._seq += 1
        self._version += 1
        return True

    async def run(self) -> None:
        """Tick forever at :attr:`rate_hz` (cancel to stop)."""
        interval = 1.0 / self.rate_hz
        loop = asyncio.get_running_loop()
        next_t = loop.time()
        while True:
            if self.tick():
                for s in self._screens:
                    s.wake.set()
            next_t += interval
            now = loop.time()
            if next_t < now:  # fell behind (busy machine): skip, never burst
                next_t = now + interval
            await asyncio.sleep(next_t - now)

    # ------------------------------------------------------------------ screens
    def message_for(self, screen: _Screen) -> dict[str, Any] | None:
        """What ``screen`` has not seen yet (None if nothing)."""
        if screen.version == self._version:
            return None
        screen.version = self._version
        snap = self._snapshot
        if snap is None:
            screen.trial_key = None
            if self._source is None:
                return idle_message(self._idle_text, self._idle_links)
            return idle_message("Waiting for the task to start…")
        key = self._display_key
        if screen.trial_key != key:
            screen.trial_key, screen.curve_sent, screen.ink_sent = key, 0, 0
        curve = None
        if snap.force is not None:
            pts = [
                [round(t, 3), round(v, 3)]
                for t, v in zip(self._curve_t[screen.curve_sent :], self._curve_v[screen.curve_sent :])
            ]
            curve = CurveChunk(key, screen.curve_sent, pts)
            screen.curve_sent = len(self._curve_t)
        ink = None
        if snap.pen is not None and snap.pen.has_position:
            ink = CurveChunk(key, screen.ink_sent, self._ink[screen.ink_sent :])
            screen.ink_sent = len(self._ink)
        msg = live_message(self._seq, snap, curve, ink)
        if self._ink_full:
            msg["alerts"] = [*msg["alerts"], "The drawing is too long to show in full; it is still recorded."]
        return msg

    async def serve(self, websocket: WebSocket) -> None:
        """Run one screen's connection (already authorised by the security middleware)."""
        await websocket.accept()
        screen = _Screen()
        screen.wake.set()
        self._screens.add(screen)

        async def send(msg: dict[str, Any]) -> None:
            async with screen.send_lock:
                await websocket.send_text(json.dumps(msg, separators=(",", ":"), ensure_ascii=False))

        async def sender() -> None:
            while True:
                await screen.wake.wait()
                screen.wake.clear()
                msg = self.message_for(screen)
                if msg is not None:
                    await send(msg)

        async def receiver() -> None:
            while True:
                text = await websocket.receive_text()
                await send(self._handle(text))

        tasks = [asyncio.ensure_future(sender()), asyncio.ensure_future(receiver())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                exc = t.exception()
                if exc is not None and not isinstance(exc, (WebSocketDisconnect, RuntimeError)):
                    log.warning("screen connection ended: %s", one_line(exc))
        finally:
            self._screens.discard(screen)
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(BaseException):
                    await t

    def _handle(self, text: str) -> dict[str, Any]:
        """Answer one message from a screen with an ``ack`` or an ``error``."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {"type": "error", "text": "message is not JSON"}
        try:
            kind, value, mid = parse_client_message(data)
        except MotorlabError as exc:
            return {
                "type": "error",
                "id": data.get("id") if isinstance(data, dict) else None,
                "text": str(exc),
            }
        src = self._source
        ack: dict[str, Any] = {"type": "ack", "id": mid, kind: value if kind == "command" else True}
        if src is None:
            return {**ack, "accepted": False, "text": "No task is running."}
        try:
            if kind == "command":
                src.command(value)
            else:
                src.note(value)
        except MotorlabError as exc:
            return {**ack, "accepted": False, "text": one_line(exc)}
        return {**ack, "accepted": True}
