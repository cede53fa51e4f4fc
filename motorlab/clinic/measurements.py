"""Session-level values of the catalog metrics, computed from a client's recordings.

Per recording the rows of :func:`motorlab.analysis.recording_metrics.analyze_recording`
are used as they are. A session value of a metric for a hand is taken from the
recording's summary row (``trial`` empty) when it has the column, otherwise it
is the mean over the valid trial rows of that hand (mean of trials, Mathiowetz
et al. 1985). When a task was recorded more than once in a session, the last
complete recording counts.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MotorlabError, one_line
from .history import RecordingInfo, SessionInfo
from .metric_catalog import GOAL_METRICS, GoalMetric


@dataclass
class RecordingResult:
    """One analysed recording of a session."""

    info: RecordingInfo
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class SessionMeasurements:
    """Everything measured in one session."""

    session: SessionInfo
    results: list[RecordingResult] = field(default_factory=list)
    #: (metric key, hand) -> value in the metric's unit; hand "n/a" for whole-body metrics
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    #: (metric key, hand) -> number of trials the value averages
    n_trials: dict[tuple[str, str], int] = field(default_factory=dict)

    def value(self, metric: str, hand: str = "n/a") -> float | None:
        v = self.values.get((metric, hand))
        return v if v is not None and math.isfinite(v) else None

    def results_of(self, task: str) -> list[RecordingResult]:
        return [r for r in self.results if r.info.task == task]


def analyze_file(info: RecordingInfo) -> RecordingResult:
    """Analyse one recording; unreadable files become ``error`` text, never an exception."""
    from ..analysis.recording_metrics import analyze_recording
    from ..storage.bids import read_recording

    res = RecordingResult(info)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res.rows = list(analyze_recording(read_recording(info.path)))
        except (MotorlabError, OSError, ValueError) as exc:
            res.error = f"{info.path.name}: {one_line(exc)}"
    res.warnings = sorted({str(w.message).splitlines()[0] for w in caught})
    return res


def is_summary_row(row: dict[str, Any]) -> bool:
    """A per-hand summary row (``row == "summary"``), not a trial or recording row."""
    return row.get("row") == "summary" or row.get("trial") in ("all", "")


def is_trial_row(row: dict[str, Any]) -> bool:
    return row.get("row") == "trial" or (row.get("row") is None and row.get("trial") not in (None, "all", ""))


def metric_from_rows(
    rows: list[dict[str, Any]], metric: GoalMetric, hand: str, recording_hand: str = "n/a"
) -> tuple[float | None, int]:
    """(session value, trials used) of ``metric`` for ``hand`` from one recording's rows.

    Rows without a ``hand`` (tremor, handwriting, spiral) take the recording's hand.
    """
    if metric.per_hand:
        mine = [r for r in rows if (r.get("hand") or recording_hand) == hand]
    else:
        mine = list(rows)
    if metric.summary_column:
        for r in mine:
            if is_summary_row(r) and _finite(r.get(metric.summary_column)):
                n = r.get("n_used", r.get("n_valid"))
                used = int(n) if _finite(n) else 0
                return float(r[metric.summary_column]), used
    col = metric.column
    vals = [
        float(r[col])
        for r in mine
        if not is_summary_row(r) and r.get("status", "valid") == "valid" and _finite(r.get(col))
    ]
    if not vals:
        return None, 0
    return sum(vals) / len(vals), len(vals)


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def measure_session(session: SessionInfo) -> SessionMeasurements:
    """Analyse every recording of a session and collect the catalog metric values."""
    out = SessionMeasurements(session)
    out.results = [analyze_file(info) for info in session.recordings]
    for metric in GOAL_METRICS.values():
        for res in out.results:  # later recordings of the same task override earlier ones
            if res.info.task != metric.task or res.error:
                continue
            hands = ("right", "left", "n/a") if metric.per_hand else ("n/a",)
            for hand in hands:
                value, n = metric_from_rows(res.rows, metric, hand, res.info.hand)
                if value is not None:
                    out.values[(metric.key, hand)] = value
                    out.n_trials[(metric.key, hand)] = n
    return out


def measure_sessions(sessions: list[SessionInfo]) -> list[SessionMeasurements]:
    return [measure_session(s) for s in sessions]


def recording_paths(sessions: list[SessionInfo]) -> list[Path]:
    return [r.path for s in sessions for r in s.recordings]
