"""Plain-language sentences for families, placed beside the numbers in the report.

Short sentences, everyday words, no jargon without an explanation. Numbers are
formatted by the caller's metric (unit and decimals).
"""

from __future__ import annotations

import datetime as _dt
import math

from ..clinic.metric_catalog import GoalMetric


def fmt(value: float | None, metric: GoalMetric, signed: bool = False) -> str:
    """``value`` with the metric's decimals (and a sign when ``signed``); ``–`` when missing."""
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{value:+.{metric.decimals}f}" if signed else f"{value:.{metric.decimals}f}"
    return text.replace("-", "−")


PERCENTILE_HINT = "Around 50 in 100 is typical; fewer than 5 in 100 is unusual."


def reference_group(sex: str, age: int | None, age_band: str) -> str:
    """Who a norm compares with: 'girls aged 8–9', 'women aged 65–69' (never 'men' for children)."""
    child = age is not None and age < 18
    if sex == "F":
        who = "girls" if child else "women"
    elif sex == "M":
        who = "boys" if child else "men"
    else:
        who = "children" if child else "adults"
    return f"{who} aged {age_band.replace('-', '–')}" if age_band else who


def fewer_trials_caveat(n_trials: int, trials_in_norm: int) -> str:
    """A caveat when a result averages fewer trials than the norms it is compared with ('' if none)."""
    if trials_in_norm <= 0 or n_trials <= 0 or n_trials >= trials_in_norm:
        return ""
    return (
        f"This result is from {n_trials} trial{'s' if n_trials != 1 else ''}, but the norms are the mean of "
        f"{trials_in_norm} trials, so the comparison is less certain."
    )


def _proper_name(label: str) -> bool:
    """True for labels that start with a test's name ("Nine-Hole Peg time", "Box and Block rate"),
    which keep their capitals inside a sentence; parenthesised abbreviations ("(RMS)") do not count."""
    words = label.split()
    return (
        any(c.isupper() for c in words[0][1:]) or any(w[:1].isupper() for w in words[1:]) if words else False
    )


def _what(metric: GoalMetric, hand: str) -> str:
    label = metric.label if _proper_name(metric.label) else metric.label[:1].lower() + metric.label[1:]
    return f"{hand}-hand {label}" if hand in ("right", "left") else label


def percentile_sentence(metric: GoalMetric, hand: str, percentile: float, reference: str) -> str:
    """E.g. 'Right-hand grip strength is higher than about 68 in 100 women aged 65-69.'"""
    p = min(max(int(round(percentile)), 1), 99)
    comparison = "higher" if metric.higher_is_better else "lower"
    text = _what(metric, hand)
    return f"{text[:1].upper()}{text[1:]} is {comparison} than about {p} in 100 {reference}."


NO_CHANGE = "no meaningful change"


def shows_as_zero(change: float, metric: GoalMetric) -> bool:
    """True when ``change`` rounds to zero at the metric's displayed precision."""
    return round(abs(change), metric.decimals) == 0


def change_verdict(metric: GoalMetric, change: float | None, limit: float | None) -> str:
    """One owner for how a change is read, used by the text, the tables and the charts.

    ``"improved"``/``"declined"`` beyond the noise band ``limit``; :data:`NO_CHANGE` inside it
    or when the change rounds to zero at the displayed precision; ``"changed"`` for a visible
    change of a measure without a known band; ``""`` when there is nothing to compare.
    """
    if change is None or not math.isfinite(change):
        return ""
    if shows_as_zero(change, metric) or (limit is not None and math.isfinite(limit) and abs(change) <= limit):
        return NO_CHANGE
    if limit is None or not math.isfinite(limit):
        return "changed"
    return "improved" if (change > 0) == metric.higher_is_better else "declined"


def _moved(metric: GoalMetric, change: float | None, limit: float | None) -> str:
    verdict = change_verdict(metric, change, limit)
    if not verdict or change is None:
        return "cannot be compared"
    step = f"{fmt(abs(change), metric)} {metric.unit}"
    if verdict == NO_CHANGE:
        if shows_as_zero(change, metric):
            return f"showed {NO_CHANGE} (less than {fmt(10.0**-metric.decimals, metric)} {metric.unit})"
        way = "up" if change > 0 else "down"
        return f"moved {way} by {step}, within normal day-to-day variation: {NO_CHANGE}"
    way = "up" if change > 0 else "down"
    if verdict == "changed":
        return f"went {way} by {step}"
    return f"went {way} by {step}, a real {'improvement' if verdict == 'improved' else 'decline'}"


def change_sentence(
    metric: GoalMetric,
    hand: str,
    change_previous: float | None,
    change_baseline: float | None,
    mdc: float | None,
    previous_when: str,
    two_steps: bool,
) -> str:
    """How a measure moved since the last and the first session, read against its noise band."""
    what = _what(metric, hand)
    text = f"Since the last session ({previous_when}), {what} {_moved(metric, change_previous, mdc)}."
    if two_steps:
        text += f" Since the first session it {_moved(metric, change_baseline, mdc)}."
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


NO_TREMOR = "no tremor detected"


def no_tremor_sentence(metric: GoalMetric, hand: str) -> str:
    what = _what(metric, hand)
    return (
        f"For {what} the measurement found {NO_TREMOR}: no regular shaking stood out from the "
        "normal small movements, so there is no tremor size to report."
    )


def gas_sentence(tscore: float | None, n_goals: int, at_baseline: bool = False) -> str:
    """What the GAS T-score means (nothing is interpreted at the goals' baseline)."""
    if at_baseline:
        return (
            "The goals were set at this session, so this visit is their starting point. Progress on "
            "the goals is scored from the next session on."
        )
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


def goal_meaning(status: str, level: int | None) -> str:
    """The words for a goal's state at the reported session (see ``GoalScore.status``)."""
    if status == "baseline":
        return "baseline: scored from the next session"
    if status == NO_TREMOR:
        return f"{NO_TREMOR}: not scored"
    return level_sentence(level)


def date_text(d: _dt.date | None) -> str:
    return d.strftime("%d %b %Y") if d else "date unknown"


def clock_text(seconds: float) -> str:
    """m:ss of a time in seconds ('–' when unknown)."""
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
