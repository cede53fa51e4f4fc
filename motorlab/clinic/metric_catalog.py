"""Metrics a therapist can set goals on and that the report headlines.

Each entry names the task it comes from, how it is read from the typed result of
:func:`motorlab.analysis.analyze_recording` (:class:`~motorlab.analysis.results.RecordingMetrics`),
whether it is measured per hand, which direction is better and how trials of one
session are combined (the mean of the valid trials, as in Mathiowetz et al. 1985 for
grip; for grip the per-hand mean of 3 of the analysis).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeGuard

from ..errors import MotorlabError

if TYPE_CHECKING:
    from ..analysis.results import RecordingMetrics

#: (value in the metric's unit or None, number of trials it averages)
Reading = tuple[float | None, int]


def _finite(value: float | None) -> TypeGuard[float]:
    return value is not None and not isinstance(value, bool) and math.isfinite(value)


def _mean_of(values: Iterable[float]) -> Reading:
    vals = [float(v) for v in values if _finite(v)]
    return (sum(vals) / len(vals), len(vals)) if vals else (None, 0)


def _recording_value(m: RecordingMetrics, hand: str, value: float | None) -> Reading:
    """A metric measured once per recording, credited to the recording's hand."""
    return (float(value), 1) if m.identity.hand == hand and _finite(value) else (None, 0)


def _grip_strength_kgf(m: RecordingMetrics, hand: str) -> Reading:
    if m.grip is None:
        return None, 0
    s = m.grip.summary(hand)
    if s is not None and _finite(s.summary.mean_of_3_kgf):
        return s.summary.mean_of_3_kgf, s.summary.n_used
    return _mean_of(
        t.result.peak_force_kgf
        for t in m.grip.trials
        if (t.hand or m.identity.hand) == hand and t.status == "valid"
    )


def _pinch_kgf(grip: str) -> Callable[[RecordingMetrics, str], Reading]:
    """Mean of the valid trials of one pinch grip (``tip``/``key``/``palmar``) and hand, kg."""

    def read(m: RecordingMetrics, hand: str) -> Reading:
        s = m.pinch.summary(grip, hand) if m.pinch is not None else None
        if s is None or not _finite(s.summary.mean_of_3_kgf):
            return None, 0
        return s.summary.mean_of_3_kgf, s.summary.n_used

    return read


def _sustained_fatigue_pct(m: RecordingMetrics, hand: str) -> Reading:
    if m.gripsustained is None:
        return None, 0
    return _mean_of(
        t.result.fatigue_index_pct
        for t in m.gripsustained.trials
        if (t.hand or m.identity.hand) == hand and t.status == "valid"
    )


def _writing_speed(m: RecordingMetrics, hand: str) -> Reading:
    value = m.handwriting.result.writing_speed_cm_per_s if m.handwriting is not None else None
    return _recording_value(m, hand, value)


def _spiral_tremor_rms(m: RecordingMetrics, hand: str) -> Reading:
    return _recording_value(m, hand, m.spiral.result.tremor_rms_cm if m.spiral is not None else None)


def _acc_tremor_rms(m: RecordingMetrics, hand: str) -> Reading:
    acc = m.tremor.accelerometer if m.tremor is not None else None
    return _recording_value(m, hand, acc.rms if acc is not None else None)


@dataclass(frozen=True)
class GoalMetric:
    """A session-level metric.

    Attributes:
        key: identifier used in goals files and on the command line.
        task: BIDS task label the metric is computed from.
        read: ``read(metrics, hand) -> (value, n_trials)`` from one recording's typed result
            (None when the recording does not measure it for that hand).
        unit: display unit.
        label: short technical label.
        plain: what it means, in words for families.
        higher_is_better: direction of improvement.
        per_hand: measured separately for right and left hand.
        decimals: digits shown in the report.
    """

    key: str
    task: str
    read: Callable[[RecordingMetrics, str], Reading]
    unit: str
    label: str
    plain: str
    higher_is_better: bool = True
    per_hand: bool = True
    decimals: int = 1


GOAL_METRICS: dict[str, GoalMetric] = {
    m.key: m
    for m in (
        GoalMetric(
            "grip_strength_kgf",
            "grip",
            _grip_strength_kgf,
            "kg",
            "Grip strength",
            "how hard the hand can squeeze (mean of the trials)",
        ),
        GoalMetric(
            "sustained_grip_fatigue_pct",
            "gripsustained",
            _sustained_fatigue_pct,
            "%",
            "Sustained grip fatigue",
            "how much force fades while holding a squeeze",
            higher_is_better=False,
        ),
        *(
            GoalMetric(
                f"{grip}_pinch_kgf",
                "pinch",
                _pinch_kgf(grip),
                "kg",
                f"{title} strength",
                f"how hard the {what} can pinch (mean of the trials; no norm table)",
            )
            for grip, title, what in (
                ("tip", "Tip pinch", "thumb tip and index tip"),
                ("key", "Key pinch", "thumb against the side of the index"),
                ("palmar", "Palmar pinch", "thumb against index and middle finger"),
            )
        ),
        GoalMetric(
            "writing_speed_cm_s",
            "handwriting",
            _writing_speed,
            "cm/s",
            "Writing speed",
            "how fast the pen moves while writing",
        ),
        GoalMetric(
            "spiral_tremor_rms_cm",
            "spiral",
            _spiral_tremor_rms,
            "cm",
            "Spiral tremor (RMS)",
            "how much the line of a drawn spiral shakes (tremor-band wobble)",
            higher_is_better=False,
            decimals=3,
        ),
        GoalMetric(
            "rest_tremor_rms_ms2",
            "tremorrest",
            _acc_tremor_rms,
            "m/s²",
            "Rest tremor (RMS)",
            "how much the hand shakes at rest",
            higher_is_better=False,
            decimals=3,
        ),
        GoalMetric(
            "postural_tremor_rms_ms2",
            "tremorpostural",
            _acc_tremor_rms,
            "m/s²",
            "Postural tremor (RMS)",
            "how much the hand shakes when held out",
            higher_is_better=False,
            decimals=3,
        ),
    )
}


def goal_metric(key: str) -> GoalMetric:
    """The catalog entry for ``key``; MotorlabError listing the known keys otherwise."""
    try:
        return GOAL_METRICS[key]
    except KeyError:
        raise MotorlabError(f"unknown metric {key!r}; choose one of: {', '.join(GOAL_METRICS)}") from None


def metrics_for_task(task: str) -> list[GoalMetric]:
    return [m for m in GOAL_METRICS.values() if m.task == task]
