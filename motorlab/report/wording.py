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


def percentile_sentence(metric: GoalMetric, hand: str, percentile: float, reference: str) -> str:
    """E.g. 'Right-hand grip strength is higher than about 30 in 100 women of the same age.'"""
    p = int(round(percentile))
    p = min(max(p, 1), 99)
    comparison = "higher" if metric.higher_is_better else "lower"
    who = f"{hand}-hand " if hand in ("right", "left") else ""
    return (f"{who.capitalize()}{metric.label.lower() if who else metric.label} is {comparison} than "
            f"about {p} in 100 {reference}. Around 50 is typical; below 5 is unusually "
            f"{'low' if metric.higher_is_better else 'high'}.")


def change_sentence(metric: GoalMetric, hand: str, change: float | None, mdc: float | None, since: str) -> str:
    """Whether a change is larger than the measurement's usual day-to-day variation (MDC95)."""
    who = f"{hand}-hand " if hand in ("right", "left") else ""
    what = f"{who}{metric.label.lower()}"
    if change is None or not math.isfinite(change):
        return f"There is no earlier value of {what} to compare with {since}."
    amount = f"{fmt(abs(change), metric)} {metric.unit}"
    direction = "went up" if change > 0 else "went down" if change < 0 else "did not change"
    better = (change > 0) == metric.higher_is_better
    head = f"Since {since}, {what} {direction}" + (f" by {amount}." if change != 0 else ".")
    if mdc is None or not math.isfinite(mdc):
        return head + " We cannot yet say whether this is more than normal day-to-day variation."
    if abs(change) > mdc:
        verdict = "an improvement" if better else "a decline"
        return (head + f" This is more than the usual variation between measurements "
                f"({fmt(mdc, metric)} {metric.unit}), so it is a real change: {verdict}.")
    return (head + f" This is within the usual variation between measurements "
            f"({fmt(mdc, metric)} {metric.unit}), so it may not be a real change yet.")


def gas_sentence(tscore: float | None, n_goals: int) -> str:
    """What the GAS T-score means."""
    if tscore is None or not math.isfinite(tscore) or n_goals == 0:
        return "No goal could be scored yet, because the goals' measurements were not recorded in this session."
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
    return (f"The combined goal score is {t}. A score of 50 means the goals were reached exactly as "
            f"planned; higher is better. Overall, progress on the goals is {words}.")


def level_sentence(level: int | None) -> str:
    return {
        None: "not measured",
        -2: "much less than expected",
        -1: "somewhat less than expected",
        0: "as expected",
        1: "somewhat more than expected",
        2: "much more than expected",
    }[level]
