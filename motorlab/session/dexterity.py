"""Timed dexterity trials (Nine-Hole-Peg style) run with the therapist's keys, no sensor.

:class:`PegTimer` walks the trials of each hand (dominant first): it waits for ``space``
(the client touches the first peg), times until the next ``space`` (the last peg lands in
the container) on the monotonic clock, and records the time. ``x`` while timing (or right
after a trial) marks that trial invalid and schedules one replacement; ``r`` while timing
abandons the attempt (invalid) and re-arms at once with a replacement; ``q`` stops, keeping
the trials done. Its :class:`PegState` is what a view shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .controls import ControlQueue, ControlSource


class _Quit(Exception):
    """The therapist pressed q."""


@dataclass(frozen=True)
class TimedTrial:
    """One timed trial: ``time_s`` (NaN when abandoned), ``status`` valid/invalid/incomplete."""

    hand: str
    trial: int
    status: str
    time_s: float
    reason: str = ""


@dataclass
class PegState:
    """Where the timer is (mutable, read by views).

    Attributes:
        phase: ``ready`` (waiting for SPACE to start), ``timing``, ``done``.
        hand: the hand being tested.
        trial_index, trial_total: over all hands, replacements included ("trial 2 of 3").
        started: monotonic time the current trial started (timing only).
        last_time_s: the last trial's time.
        message: the last thing the therapist did.
    """

    phase: str = "ready"
    hand: str = ""
    trial_index: int = 0
    trial_total: int = 0
    started: float = 0.0
    last_time_s: float = float("nan")
    message: str = ""
    trials: list[TimedTrial] = field(default_factory=list)
    quit: bool = False

    def elapsed_s(self, now: float | None = None) -> float:
        return ((now or time.monotonic()) - self.started) if self.phase == "timing" else 0.0


class PegTimer:
    """Runs ``trials`` timed trials per hand in ``hands`` order (see the module docstring)."""

    def __init__(
        self,
        hands: tuple[str, ...],
        trials: int = 1,
        controls: ControlSource | None = None,
        on_change: Callable[[PegState], None] | None = None,
        confirm_end: bool = False,
    ):
        self.plan = [(h, k) for h in hands for k in range(1, trials + 1)]
        #: after the last trial, wait for SPACE (so ``x`` can still mark it invalid)
        self.confirm_end = confirm_end
        self.controls: ControlSource = controls if controls is not None else ControlQueue()
        self.on_change = on_change
        self.state = PegState(trial_total=len(self.plan))

    def _changed(self, message: str | None = None) -> None:
        if message is not None:
            self.state.message = message
        if self.on_change is not None:
            self.on_change(self.state)

    async def run(self) -> list[TimedTrial]:
        st = self.state
        t0 = time.monotonic()
        self.controls.start(lambda: time.monotonic() - t0)
        queue = list(self.plan) + ([("", 0)] if self.confirm_end else [])  # ("", 0): confirm the end
        last_done: int | None = None  # index in st.trials of the trial just finished
        try:
            while queue:
                hand, k = queue.pop(0)
                if not hand:
                    st.phase = "ready"
                    self._changed("all trials done: SPACE to finish (x: the last trial was invalid)")
                    while True:
                        control = await self.controls.queue.get()
                        if control in ("space", "quit"):
                            break
                        if control == "invalid" and last_done is not None:
                            prev = st.trials[last_done]
                            st.trials[last_done] = TimedTrial(
                                prev.hand, prev.trial, "invalid", prev.time_s, "marked by therapist"
                            )
                            queue[:0] = [(prev.hand, prev.trial), ("", 0)]
                            st.trial_total += 1
                            last_done = None
                            self._changed(
                                f"trial {st.trial_index} of {st.trial_total} marked invalid — one replacement added"
                            )
                            break
                    continue
                st.hand, st.phase = hand, "ready"
                self._changed(f"{hand} hand: press SPACE when the client touches the first peg")
                while True:
                    control = await self.controls.queue.get()
                    if control == "quit":
                        raise _Quit
                    if control == "space":
                        break
                    if control == "invalid" and last_done is not None:
                        prev = st.trials[last_done]
                        st.trials[last_done] = TimedTrial(
                            prev.hand, prev.trial, "invalid", prev.time_s, "marked by therapist"
                        )
                        queue.insert(0, (prev.hand, prev.trial))
                        queue.insert(1, (hand, k))
                        st.trial_total += 1
                        last_done = None
                        hand, k = queue.pop(0)
                        st.hand = hand
                        self._changed(
                            f"trial {st.trial_index} of {st.trial_total} marked invalid — one replacement added; SPACE to start it"
                        )
                st.trial_index += 1
                st.phase, st.started = "timing", time.monotonic()
                self._changed(f"timing the {hand} hand — SPACE when the last peg is in the container")
                status, reason = "valid", ""
                while True:
                    control = await self.controls.queue.get()
                    if control == "quit":
                        st.trials.append(TimedTrial(hand, k, "incomplete", float("nan"), "stopped"))
                        raise _Quit
                    if control == "space":
                        break
                    if control == "invalid" and status == "valid":
                        status, reason = "invalid", "marked by therapist"
                        queue.insert(0, (hand, k))
                        st.trial_total += 1
                        self._changed(
                            f"trial {st.trial_index} of {st.trial_total} marked invalid — one replacement added"
                        )
                    if control == "repeat":
                        status, reason = "invalid", "repeated"
                        break
                elapsed = time.monotonic() - st.started
                if reason == "repeated":
                    st.trials.append(TimedTrial(hand, k, status, float("nan"), reason))
                    queue.insert(0, (hand, k))
                    st.trial_total += 1
                    last_done = None
                    self._changed(f"trial {st.trial_index} abandoned — one replacement added")
                    continue
                st.trials.append(TimedTrial(hand, k, status, elapsed, reason))
                st.last_time_s = elapsed
                last_done = len(st.trials) - 1 if status == "valid" else None
                st.phase = "ready"
                self._changed(f"{hand} hand: {elapsed:.1f} s" + (" (invalid)" if status != "valid" else ""))
        except _Quit:
            st.quit = True
        finally:
            self.controls.close()
            st.phase = "done"
            self._changed()
        return st.trials
