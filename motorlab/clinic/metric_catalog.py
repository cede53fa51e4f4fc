"""Metrics a therapist can set goals on and that the report headlines.

Each entry names the task it comes from, the column of
:func:`motorlab.analysis.recording_metrics.analyze_recording` rows it reads
(units are part of the column name), whether it is measured per hand, which
direction is better and how trials of one session are combined (the mean of
the valid trials, as in Mathiowetz et al. 1985 for grip).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MotorlabError


@dataclass(frozen=True)
class GoalMetric:
    """A session-level metric.

    Attributes:
        key: identifier used in goals files and on the command line.
        task: BIDS task label the metric is computed from.
        column: key of the analyze_recording trial/recording rows (carries the unit).
        summary_column: key of the same quantity in a per-hand summary row, if there is one.
        unit: display unit.
        label: short technical label.
        plain: what it means, in words for families.
        higher_is_better: direction of improvement.
        per_hand: measured separately for right and left hand.
        decimals: digits shown in the report.
    """

    key: str
    task: str
    column: str
    unit: str
    label: str
    plain: str
    higher_is_better: bool = True
    per_hand: bool = True
    decimals: int = 1
    summary_column: str | None = None


GOAL_METRICS: dict[str, GoalMetric] = {
    m.key: m
    for m in (
        GoalMetric(
            "grip_strength_kgf",
            "grip",
            "peak_force_kgf",
            "kg",
            "Grip strength",
            "how hard the hand can squeeze (mean of the trials)",
            summary_column="mean_of_3_kgf",
        ),
        GoalMetric(
            "sustained_grip_fatigue_pct",
            "gripsustained",
            "fatigue_index_pct",
            "%",
            "Sustained grip fatigue",
            "how much force fades while holding a squeeze",
            higher_is_better=False,
        ),
        GoalMetric(
            "writing_speed_cm_s",
            "handwriting",
            "writing_speed_cm_per_s",
            "cm/s",
            "Writing speed",
            "how fast the pen moves while writing",
        ),
        GoalMetric(
            "spiral_tremor_rms_cm",
            "spiral",
            "tremor_rms_cm",
            "cm",
            "Spiral tremor (RMS)",
            "how much the line of a drawn spiral shakes (tremor-band wobble)",
            higher_is_better=False,
            decimals=3,
        ),
        GoalMetric(
            "rest_tremor_rms_ms2",
            "tremorrest",
            "tremor_rms_m_per_s2",
            "m/s²",
            "Rest tremor (RMS)",
            "how much the hand shakes at rest",
            higher_is_better=False,
            decimals=3,
        ),
        GoalMetric(
            "postural_tremor_rms_ms2",
            "tremorpostural",
            "tremor_rms_m_per_s2",
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
