"""The report's dexterity parts: every Nine-Hole-Peg / Box-and-Block trial of the session as a
table, the results caption and the rows of the session's behavioural files.

The numbers are the typed results of :func:`motorlab.analysis.dexterity.analyze_dexterity`
kept by :func:`motorlab.clinic.measurements.measure_session`; nothing is re-read here.
"""

from __future__ import annotations

import math

from ..analysis.dexterity import DEXTERITY_NO_NORM
from ..clinic.history import SessionInfo
from ..clinic.measurements import SessionMeasurements
from .document import Table

#: BIDS task label -> title (report headings, parent page)
DEXTERITY_TITLES = {"ninehole": "Nine-Hole Peg", "boxblock": "Box and Block"}


def _n(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if math.isfinite(value) else "–"


def dexterity_caption(task: str) -> str:
    """What the task's numbers are, and why they have no norm."""
    if task == "ninehole":
        what = (
            "Nine-Hole Peg: seconds from touching the first peg to the last peg landing in the "
            "container, the mean of the valid trials per hand; rate = pegs × 60 / time."
        )
    else:
        what = "Box and Block: blocks carried over the partition, as blocks per minute of the timed trial."
    return f"{what} {DEXTERITY_NO_NORM[0].upper()}{DEXTERITY_NO_NORM[1:]}."


def dexterity_trial_table(m: SessionMeasurements, task: str) -> Table | None:
    """Every trial of the session's ``task`` file(s): hand and trial, status, score, rate."""
    rows = []
    for res in m.dexterity:
        if res.metrics is None or res.metrics.task != task:
            continue
        for t in res.metrics.trials:
            score = f"{_n(t.value, 1)} s" if task == "ninehole" else f"{_n(t.value, 0)} blocks"
            rate = f"{_n(t.per_min, 1)} pegs/min" if task == "ninehole" else f"{_n(t.per_min, 0)} blocks/min"
            rows.append((f"{t.hand} {t.trial}", t.status, score, rate))
    if not rows:
        return None
    head = ("Trial", "Status", "Time" if task == "ninehole" else "Blocks", "Rate")
    return Table(
        head,
        tuple(rows),
        caption=f"Every {DEXTERITY_TITLES[task]} trial; invalid trials are listed but left out of the mean.",
    )


def beh_rows(session: SessionInfo) -> tuple[tuple[str, ...], ...]:
    """Rows for the session's recordings table: one per behavioural file."""
    return tuple(
        (
            DEXTERITY_TITLES.get(b.task, b.task),
            "both",
            "timed or counted by the therapist",
            "–",
            "unreadable" if b.error else "complete",
            b.path.name,
        )
        for b in session.beh
    )
