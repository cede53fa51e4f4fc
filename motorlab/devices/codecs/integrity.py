"""Integrity counters and sequence tracking shared by the clinic-device codecs.

:class:`IntegrityStats` extends :class:`~motorlab.devices.base.CodecStats` with
the counters the partly reverse-engineered protocols need (unknown and
malformed frames, duplicates, steps back). :class:`CounterTracker` unwraps a
device's wrapping sample counter or tick clock and classifies every step as
the next sample, a gap (with the number of samples missing), a duplicate or a
step back.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

from ..base import CodecStats


@dataclass
class IntegrityStats(CodecStats):
    """:class:`CodecStats` plus the counters of protocols that real units may speak differently.

    Attributes (besides the base counters):
        unknown_frames: well-formed frames or messages of a kind the codec does not know
            (skipped, never fatal).
        malformed_frames: frames that failed a structural check (length, count field,
            number syntax); checksum failures are counted in ``crc_errors``.
        duplicates: samples dropped because they repeat one already delivered.
        out_of_order: counter or clock steps backwards (the time base is re-anchored).
    """

    unknown_frames: int = 0
    malformed_frames: int = 0
    duplicates: int = 0
    out_of_order: int = 0


class Step(Enum):
    """How a counter value relates to the one before it."""

    FIRST = "first"
    NEXT = "next"
    GAP = "gap"
    DUPLICATE = "duplicate"
    BACK = "back"


_NEXT = Step.NEXT  # (a module constant: reading an Enum member off its class costs more than the fast path)


class CounterTracker:
    """Unwraps a ``bits``-wide counter and classifies each step.

    The counter may count samples (step 1) or clock ticks (step = the sample
    period in ticks). ``step=None`` learns the step as the median of the last
    :data:`LEARN` forward steps, so a device whose counter unit is not known
    for sure (Kinvent) still gets gap detection once a few samples have been
    seen; until then every forward step counts as one sample.

    A step of 0 is a duplicate (the sample is dropped by the caller). A step of
    more than half the counter range is read as a step back (a restart or a
    reordered frame): the unwrapped value is re-anchored one step after the
    previous one, so times keep increasing. A learned step is learned again
    after :data:`RELEARN` gaps in a row (the device's rate went down).

    :meth:`advance` checks the usual case first, the expected next sample
    (a step of exactly the current step), and takes the general path for
    everything else; both give the same result.
    """

    LEARN = 16
    RELEARN = 8

    def __init__(self, bits: int, step: int | None = None) -> None:
        self.modulus = 1 << bits
        self.fixed_step = step
        self._recent: deque[int] = deque(maxlen=self.LEARN)
        self._last_raw: int | None = None
        self._last: int = 0  # unwrapped value of the last accepted sample
        self._gaps_in_a_row = 0
        #: the current step if it is a forward step (0 < step <= half the range), else -1 (which no
        #: step equals); updated after every general advance (see advance)
        self._expected = -1
        self._update_expected()

    def reset(self) -> None:
        self._recent.clear()
        self._last_raw = None
        self._last = 0
        self._gaps_in_a_row = 0
        self._update_expected()

    def _update_expected(self) -> None:
        step = self.step
        self._expected = step if step is not None and 0 < step <= self.modulus // 2 else -1

    @property
    def step(self) -> int | None:
        """Counter units per sample: fixed, or learned (``None`` until a forward step was seen)."""
        if self.fixed_step is not None:
            return self.fixed_step
        if not self._recent:
            return None
        ordered = sorted(self._recent)
        return ordered[len(ordered) // 2]

    def advance(self, raw: int) -> tuple[Step, int, int]:
        """Classify ``raw`` -> (step kind, unwrapped value, samples missing before it)."""
        expected = self._expected
        if self._last_raw is not None and (raw - self._last_raw) % self.modulus == expected:
            # the next sample: what the general path does for it. Appending a value equal to the
            # median of the recent steps keeps the median, so the step (and _expected) stay valid.
            self._last_raw = raw
            self._last += expected
            self._gaps_in_a_row = 0
            self._recent.append(expected)
            return _NEXT, self._last, 0
        result = self._advance_general(raw)
        self._update_expected()
        return result

    def _advance_general(self, raw: int) -> tuple[Step, int, int]:
        """:meth:`advance` for any step (the first value, gaps, duplicates, steps back, learning)."""
        if self._last_raw is None:
            self._last_raw, self._last = raw, raw
            return Step.FIRST, raw, 0
        delta = (raw - self._last_raw) % self.modulus
        if delta == 0:
            return Step.DUPLICATE, self._last, 0
        step = self.step
        if delta > self.modulus // 2:
            self._last_raw = raw
            self._last += step or 1
            return Step.BACK, self._last, 0
        self._last_raw = raw
        self._last += delta
        if step is None:
            self._recent.append(delta)
            return Step.NEXT, self._last, 0
        k = max(1, round(delta / step))
        if k == 1:
            self._gaps_in_a_row = 0
            self._recent.append(delta)
            return Step.NEXT, self._last, 0
        self._gaps_in_a_row += 1
        if self.fixed_step is None and self._gaps_in_a_row >= self.RELEARN:
            self._recent.clear()
            self._recent.append(delta)
            self._gaps_in_a_row = 0
        return Step.GAP, self._last, k - 1
