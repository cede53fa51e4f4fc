"""Session-level values of the catalog metrics, computed from a client's recordings.

Each recording is analysed once (:func:`motorlab.analysis.analyze_recording`) and its typed
result kept; a metric's value for a hand is read from it by the catalog entry
(:attr:`~motorlab.clinic.metric_catalog.GoalMetric.read`): for grip the hand's mean of 3,
otherwise the mean over the valid trials of that hand (Mathiowetz et al. 1985). When a
task was recorded more than once in a session, the last complete recording counts.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MotorlabError, one_line
from .history import BehInfo, RecordingInfo, SessionInfo
from .metric_catalog import GOAL_METRICS

if TYPE_CHECKING:
    from ..analysis.dexterity import DexterityMetrics
    from ..analysis.results import RecordingMetrics


@dataclass
class RecordingResult:
    """One analysed recording of a session: its typed metrics, or why it could not be analysed."""

    info: RecordingInfo
    metrics: RecordingMetrics | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class DexterityResult:
    """One behavioural (dexterity) file of a session: its typed metrics, or why not."""

    info: BehInfo
    metrics: DexterityMetrics | None = None
    error: str | None = None


@dataclass
class SessionMeasurements:
    """Everything measured in one session."""

    session: SessionInfo
    results: list[RecordingResult] = field(default_factory=list)
    #: (metric key, hand) -> value in the metric's unit; hand "n/a" for whole-body metrics
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    #: (metric key, hand) -> number of trials the value averages
    n_trials: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (metric key, hand) of tremor measures that were recorded but found no tremor peak
    not_detected: set[tuple[str, str]] = field(default_factory=set)
    #: the session's dexterity files (Nine-Hole Peg, Box and Block), analysed
    dexterity: list[DexterityResult] = field(default_factory=list)

    def value(self, metric: str, hand: str = "n/a") -> float | None:
        v = self.values.get((metric, hand))
        return v if v is not None and math.isfinite(v) else None

    def no_tremor(self, metric: str, hand: str = "n/a") -> bool:
        """True when this session measured ``metric`` for ``hand`` and detected no tremor."""
        return (metric, hand) in self.not_detected and self.value(metric, hand) is None

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
            res.metrics = analyze_recording(read_recording(info.path))
        except (MotorlabError, OSError, ValueError) as exc:
            res.error = f"{info.path.name}: {one_line(exc)}"
    res.warnings = sorted({str(w.message).splitlines()[0] for w in caught})
    return res


def analyze_beh_file(info: BehInfo) -> DexterityResult:
    """Analyse one dexterity file; an unreadable one becomes ``error`` text, never an exception."""
    from ..analysis.dexterity import analyze_dexterity

    res = DexterityResult(info)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res.metrics = analyze_dexterity(info.path)
        except (MotorlabError, OSError, ValueError) as exc:
            res.error = f"{info.path.name}: {one_line(exc)}"
    return res


def measure_session(session: SessionInfo) -> SessionMeasurements:
    """Analyse every recording of a session and collect the catalog metric values."""
    out = SessionMeasurements(session)
    out.results = [analyze_file(info) for info in session.recordings]
    for metric in GOAL_METRICS.values():
        for res in out.results:  # later recordings of the same task override earlier ones
            if res.info.task != metric.task or res.metrics is None:
                continue
            hands = ("right", "left", "n/a") if metric.per_hand else ("n/a",)
            for hand in hands:
                value, n = metric.read(res.metrics, hand)
                if value is not None:
                    out.values[(metric.key, hand)] = value
                    out.n_trials[(metric.key, hand)] = n
                    out.not_detected.discard((metric.key, hand))
                elif metric.detected is not None and metric.detected(res.metrics, hand) is False:
                    out.values.pop((metric.key, hand), None)
                    out.not_detected.add((metric.key, hand))
    out.dexterity = [analyze_beh_file(b) for b in session.beh]
    for metric in GOAL_METRICS.values():
        for dex in out.dexterity:  # a later file of the same task overrides an earlier one
            if metric.read_beh is None or dex.metrics is None or dex.metrics.task != metric.task:
                continue
            for hand in ("right", "left"):
                value, n = metric.read_beh(dex.metrics, hand)
                if value is not None:
                    out.values[(metric.key, hand)] = value
                    out.n_trials[(metric.key, hand)] = n
    return out


def measure_sessions(sessions: list[SessionInfo]) -> list[SessionMeasurements]:
    return [measure_session(s) for s in sessions]


def recording_paths(sessions: list[SessionInfo]) -> list[Path]:
    return [r.path for s in sessions for r in s.recordings]
