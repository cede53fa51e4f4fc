"""Trials of a recording: the ``trial`` events with their final status, and the analysis window.

A trial's status is its ``trial`` event's ``status`` (``valid`` when absent), overridden by
a later ``trial_status`` event for the same trial and hand (the therapist marking the
previous trial invalid between trials; it applies to the latest attempt of that trial begun
before it, so a replacement attempt keeps its own status). Tasks analysed over a window (tremor holds,
handwriting, spiral) use the valid trials only: invalid or incomplete trials, the
instructions and the countdown are never analysed. A recording without ``trial`` events
(an imported file) is analysed whole; one whose trials are all invalid is not analysed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..recording import Recording
from .grid import Grid

#: ``status`` of a task row analysed over the whole recording because it has no trial events
WHOLE_RECORDING = "no trial events: whole recording"


@dataclass(frozen=True)
class TrialSpec:
    """One trial: number, hand, final status, and its time span (s from the recording start)."""

    trial: int | str
    hand: str
    status: str
    onset_s: float
    end_s: float
    reason: str = ""


def trial_specs(rec: Recording) -> list[TrialSpec]:
    """The recording's ``trial`` events with their final status (see the module docstring)."""
    trials = rec.events_of("trial")
    if not trials:
        return []
    # a trial_status event applies to the latest attempt of its trial and hand that began
    # before it (a replacement attempt of the same trial number keeps its own status)
    overrides: dict[int, tuple[str, str]] = {}
    for ev in rec.events_of("trial_status"):
        key = (str(ev.extra.get("trial")), str(ev.extra.get("hand", rec.metadata.hand)))
        before = [
            i
            for i, tr in enumerate(trials)
            if (str(tr.extra.get("trial", i + 1)), str(tr.extra.get("hand", rec.metadata.hand))) == key
            and tr.onset <= ev.onset
        ]
        if before:
            overrides[before[-1]] = (str(ev.extra.get("status", "valid")), str(ev.extra.get("reason", "")))
    end_of_rec = float(rec.timestamps.max()) + 1.0 / rec.sampling_rate if rec.n_samples else 0.0
    out = []
    for i, ev in enumerate(trials):
        trial = ev.extra.get("trial", i + 1)
        hand = str(ev.extra.get("hand", rec.metadata.hand))
        status = str(ev.extra.get("status", "valid"))
        reason = str(ev.extra.get("reason", ""))
        status, reason = overrides.get(i, (status, reason))
        if ev.duration and np.isfinite(ev.duration) and ev.duration > 0:
            end = ev.onset + ev.duration
        else:
            end = trials[i + 1].onset if i + 1 < len(trials) else end_of_rec
        out.append(TrialSpec(trial, hand, status, float(ev.onset), float(end), reason))
    return out


@dataclass(frozen=True)
class AnalysisWindow:
    """What a window task analyses.

    Attributes:
        rows: rows of the grid to analyse (valid trials; all rows without trial events).
        status: ``valid`` when something is analysed, else the statuses of the trials (``invalid``…).
        hand: the analysed trials' hand (the recording's hand without trial events).
        trials: the trial numbers analysed.
        note: why nothing (or not everything) was analysed; empty when all went as planned.
    """

    rows: np.ndarray
    status: str
    hand: str
    trials: tuple[int | str, ...]
    note: str = ""

    @property
    def analysed(self) -> bool:
        return bool(self.rows.size)


def analysis_window(rec: Recording, grid: Grid) -> AnalysisWindow:
    """The grid rows of the valid trials (see the module docstring)."""
    specs = trial_specs(rec)
    if not specs:
        return AnalysisWindow(np.arange(grid.t_s.size), "valid", rec.metadata.hand, (), WHOLE_RECORDING)
    valid = [s for s in specs if s.status == "valid"]
    notes = []
    rows: list[np.ndarray] = []
    used: list[TrialSpec] = []
    for s in valid:
        w = grid.window(s.onset_s, s.end_s)
        if isinstance(w, str):
            notes.append(f"trial {s.trial}: {w}")
            continue
        rows.append(np.arange(w.start, w.stop))
        used.append(s)
    skipped = [s for s in specs if s.status != "valid"]
    if skipped:
        notes.append(
            "left out: "
            + ", ".join(f"trial {s.trial} ({s.status}{', ' + s.reason if s.reason else ''})" for s in skipped)
        )
    hands = sorted({s.hand for s in used} or {s.hand for s in specs})
    hand = hands[0] if len(hands) == 1 else "/".join(hands)
    if not used:
        statuses = sorted({s.status for s in specs}) if not valid else ["valid"]
        why = "no valid trial" if not valid else "no valid trial has samples"
        return AnalysisWindow(np.empty(0, np.int64), "/".join(statuses), hand, (), "; ".join([why, *notes]))
    return AnalysisWindow(np.concatenate(rows), "valid", hand, tuple(s.trial for s in used), "; ".join(notes))


def window_samples(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values`` at ``rows``, with one NaN row wherever consecutive rows are not adjacent (so
    filters and spectra never join two trials)."""
    if rows.size == 0:
        return values[:0]
    jumps = np.flatnonzero(np.diff(rows) != 1) + 1
    if jumps.size == 0:
        return values[rows[0] : rows[-1] + 1]
    pieces = np.split(rows, jumps)
    nan_row = np.full((1, *values.shape[1:]), np.nan)
    out = []
    for i, p in enumerate(pieces):
        if i:
            out.append(nan_row)
        out.append(values[p])
    return np.concatenate(out)
