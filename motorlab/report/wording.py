"""Plain-language sentences for families, placed beside the numbers in the report.

Short sentences, everyday words, no jargon without an explanation. Numbers are
formatted by the caller's metric (unit and decimals).
"""

from __future__ import annotations

import math

from ..clinic.metric_catalog import GoalMetric


def fmt(value: float | None, metric: GoalMetric, signed: bool = False) -> str:
    """``value`` with the metric's decimals (and a sign when ``signed``); ``–`` when missing."""
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{value:+.{metric.decimals}f}" if signed else f"{value:.{metric.decimals}f}"
    return text.replace("-", "−")


PERCENTILE_HINT = "Around 50 in 100 is typical; fewer than 5 in 100 is unusual."


def _what(metric: GoalMetric, hand: str) -> str:
    label = metric.label[:1].lower() + metric.label[1:]
    return f"{hand}-hand {label}" if hand in ("right", "left") else label


def percentile_sentence(metric: GoalMetric, hand: str, percentile: float, reference: str) -> str:
    """E.g. 'Right-hand grip strength is higher than about 68 in 100 women aged 65-69.'"""
    p = min(max(int(round(percentile)), 1), 99)
    comparison = "higher" if metric.higher_is_better else "lower"
    text = _what(metric, hand)
    return f"{text[:1].upper()}{text[1:]} is {comparison} than about {p} in 100 {reference}."


def change_sentence(
    metric: GoalMetric,
    hand: str,
    change_previous: float | None,
    change_baseline: float | None,
    mdc: float | None,
    previous_when: str,
    two_steps: bool,
) -> str:
    """How a measure moved since the last and the first session, and whether that is a real change (MDC95)."""
    what = _what(metric, hand)

    def moved(change: float | None) -> str:
        if change is None or not math.isfinite(change):
            return "cannot be compared"
        if change == 0:
            return "did not change"
        return f"went {'up' if change > 0 else 'down'} by {fmt(abs(change), metric)} {metric.unit}"

    def verdict(change: float | None) -> str:
        if change is None or mdc is None or not math.isfinite(change) or not math.isfinite(mdc):
            return ""
        if abs(change) > mdc:
            better = (change > 0) == metric.higher_is_better
            return f", a real {'improvement' if better else 'decline'}"
        return ", which is within normal day-to-day variation"

    text = f"Since the last session ({previous_when}), {what} {moved(change_previous)}{verdict(change_previous)}."
    if two_steps:
        text += f" Since the first session it {moved(change_baseline)}{verdict(change_baseline)}."
    if mdc is None or not math.isfinite(mdc):
        text += (
            " There is no published figure yet for how much this measure varies from day to day, "
            "so small changes should be read with care."
        )
    else:
        text += (
            f" Only changes larger than {fmt(mdc, metric)} {metric.unit} are more than normal "
            "day-to-day variation."
        )
    return text


def gas_sentence(tscore: float | None, n_goals: int) -> str:
    """What the GAS T-score means."""
    if tscore is None or not math.isfinite(tscore) or n_goals == 0:
        return (
            "No goal could be scored yet, because the goals' measurements were not recorded in this session."
        )
    t = round(tscore)
    if t >= 60:
        words = "better than expected"
    elif t > 52:
        words = "a little better than expected"
    elif t >= 48:
        words = "about as expected"
    elif t > 40:
        words = "a little less than expected"
    else:
        words = "less than expected so far"
    return (
        f"The combined goal score is {t}. A score of 50 means the goals were reached exactly as "
        f"planned; higher is better. Overall, progress on the goals is {words}."
    )


def level_sentence(level: int | None) -> str:
    return {
        None: "not measured",
        -2: "much less than expected",
        -1: "less than expected",
        0: "as expected",
        1: "more than expected",
        2: "much more than expected",
    }[level]
