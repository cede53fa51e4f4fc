"""Dexterity timings: Nine-Hole-Peg-style timed trials and Box-and-Block counts.

Nine-Hole Peg Test (tablet.md §3.3, instructions derived from Mathiowetz et al. 1985): the
time (s) from touching the first peg to the last peg landing in the container, per hand,
dominant hand first; :func:`pegs_per_minute` turns it into a rate (pegs moved in and out:
``2 * n_pegs`` placements per trial by default? no — the score is the board of ``n_pegs``
pegs put in *and* taken out, reported here as ``n_pegs`` pegs per time, the common rate).
Box and Block: blocks carried over the partition in ``duration_s`` (60 s).

No norms: the published tables (Mathiowetz 1985, Poole 2005, NIH Toolbox) were not
readable (tablet.md §3.3), so every summary says so (:data:`DEXTERITY_NO_NORM`).
:func:`analyze_dexterity` reads a ``_beh.tsv`` written by ``motorlab record pegs|boxblock``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AnalysisError, MotorlabWarning
from ..storage.beh import read_beh
from ..storage.notes import read_notes

#: why dexterity results carry no norm
DEXTERITY_NO_NORM = (
    "no norm: the published Nine-Hole-Peg / Box-and-Block tables are not bundled (not transcribed); "
    "compare with this client's earlier sessions"
)
#: pegs on a Nine-Hole-Peg board
NINE_HOLE_PEGS = 9
#: Box-and-Block test duration, s
BOX_AND_BLOCK_S = 60.0


def pegs_per_minute(time_s: float, n_pegs: int = NINE_HOLE_PEGS) -> float:
    """Pegs per minute for a board of ``n_pegs`` done in ``time_s`` seconds (NaN plus a
    MotorlabWarning for a non-positive or missing time)."""
    if not (math.isfinite(time_s) and time_s > 0):
        warnings.warn(
            f"peg time {time_s!r} s is not a positive time; rate is NaN", MotorlabWarning, stacklevel=2
        )
        return math.nan
    return 60.0 * n_pegs / time_s


def blocks_per_minute(count: float, duration_s: float = BOX_AND_BLOCK_S) -> float:
    """Blocks per minute (NaN plus a warning for a non-positive duration or negative count)."""
    if not (duration_s > 0 and count >= 0):
        warnings.warn(
            f"box-and-block count {count!r} in {duration_s!r} s is invalid", MotorlabWarning, stacklevel=2
        )
        return math.nan
    return 60.0 * count / duration_s


@dataclass(frozen=True)
class DexterityTrial:
    """One timed peg trial (``time_s``, ``pegs_per_min``) or one block count (``count``,
    ``per_min``); ``status`` ``valid``/``invalid``."""

    task: str
    hand: str
    trial: int
    status: str
    value: float  # time_s for pegs, blocks for boxblock
    per_min: float
    n_pegs: int = NINE_HOLE_PEGS

    def to_row(self) -> dict[str, Any]:
        key = "time_s" if self.task == "ninehole" else "blocks"
        rate = "pegs_per_min" if self.task == "ninehole" else "blocks_per_min"
        row: dict[str, Any] = {
            "row": "trial",
            "trial": self.trial,
            "hand": self.hand,
            "status": self.status,
            key: self.value,
            rate: self.per_min,
        }
        if self.task == "ninehole":
            row["n_pegs"] = self.n_pegs
        return row


@dataclass(frozen=True)
class DexteritySummary:
    """A hand's valid trials: the mean score (time s or blocks), the best and the rate per minute."""

    task: str
    hand: str
    n_valid: int
    mean: float
    best: float
    per_min: float
    norm_note: str = DEXTERITY_NO_NORM

    def to_row(self) -> dict[str, Any]:
        if self.task == "ninehole":
            values = {"mean_time_s": self.mean, "best_time_s": self.best, "pegs_per_min": self.per_min}
        else:
            values = {"blocks": self.mean, "blocks_per_min": self.per_min}
        return {
            "row": "summary",
            "trial": "all",
            "hand": self.hand,
            "status": "summary",
            "n_valid": self.n_valid,
            **values,
            "norm_note": self.norm_note,
        }


@dataclass(frozen=True)
class DexterityMetrics:
    """The trials and per-hand summaries of one dexterity file; ``notes``: the therapist's notes."""

    task: str
    participant: str
    session: str
    trials: tuple[DexterityTrial, ...]
    summaries: tuple[DexteritySummary, ...]
    notes: tuple[dict[str, Any], ...] = ()

    def summary(self, hand: str) -> DexteritySummary | None:
        return next((s for s in self.summaries if s.hand == hand), None)

    def to_rows(self) -> list[dict[str, Any]]:
        ident = {"participant": self.participant, "session": self.session, "task": self.task}
        rows = [t.to_row() for t in self.trials] + [s.to_row() for s in self.summaries]
        return [{**ident, **r} for r in rows]


def dexterity_metrics(
    task: str,
    participant: str,
    session: str,
    trials: list[DexterityTrial],
    notes: tuple[dict[str, Any], ...] = (),
) -> DexterityMetrics:
    """Summaries per hand (valid trials): peg time mean and best (shortest), pegs/min of the
    mean time; block count mean and blocks/min."""
    summaries = []
    for hand in dict.fromkeys(t.hand for t in trials):
        valid = [t for t in trials if t.hand == hand and t.status == "valid" and math.isfinite(t.value)]
        if not valid:
            summaries.append(DexteritySummary(task, hand, 0, math.nan, math.nan, math.nan))
            continue
        values = np.array([t.value for t in valid])
        mean = float(values.mean())
        if task == "ninehole":
            rate = pegs_per_minute(mean, valid[0].n_pegs)
            summaries.append(DexteritySummary(task, hand, len(valid), mean, float(values.min()), rate))
        else:
            rates = np.array([t.per_min for t in valid])
            summaries.append(
                DexteritySummary(task, hand, len(valid), mean, float(values.max()), float(rates.mean()))
            )
    return DexterityMetrics(task, participant, session, tuple(trials), tuple(summaries), notes)


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def analyze_dexterity(path: str | Path) -> DexterityMetrics:
    """Metrics of a ``_task-ninehole_beh.tsv`` or ``_task-boxblock_beh.tsv`` file."""
    rows, sidecar = read_beh(path)
    md = sidecar.get("MotorlabMetadata", {})
    task = str(md.get("task") or sidecar.get("TaskName", ""))
    if task not in ("ninehole", "boxblock"):
        raise AnalysisError(f"{path}: not a dexterity file (task {task!r}; expected ninehole or boxblock)")
    trials = []
    for i, r in enumerate(rows):
        pegs = _num(r.get("n_pegs", ""))
        n_pegs = int(pegs) if math.isfinite(pegs) and pegs > 0 else NINE_HOLE_PEGS
        if task == "ninehole":
            value = _num(r.get("time_s", ""))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MotorlabWarning)
                rate = pegs_per_minute(value, n_pegs) if r.get("status") == "valid" else math.nan
        else:
            value = _num(r.get("blocks", ""))
            duration = _num(r.get("duration_s", "")) or BOX_AND_BLOCK_S
            rate = blocks_per_minute(value, duration)
        number = _num(r.get("trial", ""))
        trials.append(
            DexterityTrial(
                task,
                str(r.get("hand", "n/a")),
                int(number) if math.isfinite(number) else i + 1,
                str(r.get("status", "valid")),
                value,
                rate,
                n_pegs,
            )
        )
    notes = tuple(read_notes(path))
    return dexterity_metrics(task, str(md.get("participant", "")), str(md.get("session", "")), trials, notes)
