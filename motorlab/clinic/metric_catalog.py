"""Metrics a therapist can set goals on and that the report headlines.

Each entry names the task it comes from, how it is read from the typed result of
:func:`motorlab.analysis.analyze_recording` (:class:`~motorlab.analysis.results.RecordingMetrics`),
whether it is measured per hand, which direction is better and how trials of one
session are combined (the mean of the valid trials, as in Mathiowetz et al. 1985 for
grip; for grip the per-hand mean of 3 of the analysis).

The catalog is also the one place for each measure's *change facts*: how large a change
must be to exceed measurement noise (:class:`ChangeBand`: a published MDC95, or the measure's
own test-retest band) and the fixed, clinically meaningful range its progress chart is drawn
on (``chart_max``), so a chart never blows a change within noise up to the full plot height.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeGuard

from ..analysis.goals import GRIP_MDC_SOURCE, grip_mdc95_kg
from ..errors import MotorlabError

if TYPE_CHECKING:
    from ..analysis.dexterity import DexterityMetrics
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


def _pen_feature(name: str) -> Callable[[RecordingMetrics, str], Reading]:
    """A children's handwriting feature (``HandwritingMetrics.features``, issue 15) of the recording."""

    def read(m: RecordingMetrics, hand: str) -> Reading:
        feats = m.handwriting.features if m.handwriting is not None else None
        return _recording_value(m, hand, getattr(feats, name) if feats is not None else None)

    return read


def _spiral_tremor_rms(m: RecordingMetrics, hand: str) -> Reading:
    """The spiral's tremor-band RMS, only where a tremor peak was detected (else no value)."""
    res = m.spiral.result if m.spiral is not None else None
    return _recording_value(m, hand, res.tremor_rms_cm if res is not None and res.tremor_detected else None)


def _spiral_tremor_detected(m: RecordingMetrics, hand: str) -> bool | None:
    res = m.spiral.result if m.spiral is not None else None
    if res is None or m.identity.hand != hand or not _finite(res.tremor_rms_cm):
        return None
    return bool(res.tremor_detected)


def _acc_tremor_rms(m: RecordingMetrics, hand: str) -> Reading:
    """The hand's band-limited acceleration RMS, only where a tremor peak was detected."""
    acc = m.tremor.accelerometer if m.tremor is not None else None
    return _recording_value(m, hand, acc.rms if acc is not None and acc.tremor_detected else None)


def _acc_tremor_detected(m: RecordingMetrics, hand: str) -> bool | None:
    acc = m.tremor.accelerometer if m.tremor is not None else None
    if acc is None or m.identity.hand != hand or not _finite(acc.rms):
        return None
    return bool(acc.tremor_detected)


def _no_recording_value(m: RecordingMetrics, hand: str) -> Reading:
    """Dexterity measures come from behavioural files (``read_beh``), never from a recording."""
    return None, 0


def _dexterity(attr: str) -> Callable[[DexterityMetrics, str], Reading]:
    """A hand's dexterity summary field (``mean`` time s or ``per_min``) over its valid trials."""

    def read(m: DexterityMetrics, hand: str) -> Reading:
        s = m.summary(hand)
        value = getattr(s, attr) if s is not None else None
        return (float(value), s.n_valid) if s is not None and _finite(value) else (None, 0)

    return read


@dataclass(frozen=True)
class ChangeBand:
    """How large a change of a measure must be to exceed measurement noise (metric units).

    Attributes:
        name: what the band is, as the report names it ("MDC95", "test-retest band").
        absolute: ``absolute(baseline)``: the band's half-width at a baseline value, in the
            metric's unit.
        source: citation.
    """

    name: str
    absolute: Callable[[float], float]
    source: str

    def at(self, baseline: float) -> float:
        return float(self.absolute(baseline))


#: grip: the published MDC95 of the mean of three trials (Bai et al. 2019)
GRIP_BAND = ChangeBand("MDC95", grip_mdc95_kg, GRIP_MDC_SOURCE)


#: Tremor amplitude measured by transducers varies between sessions by about 66 % of its
#: baseline (geometric mean), so the minimal detectable change is that large (Elble et al. 2016,
#: see research/metrics.md section 2.1); used for every tremor amplitude of the catalog.
TREMOR_RETEST_FRACTION = 0.66
TREMOR_RETEST_SOURCE = (
    "Elble et al. 2016 (MDS task force on tremor rating): transducer tremor amplitude varies between "
    "sessions by about 66 % of baseline"
)


def _tremor_band_abs(baseline: float) -> float:
    return TREMOR_RETEST_FRACTION * abs(baseline)


TREMOR_BAND = ChangeBand("test-retest band (±66 % of baseline)", _tremor_band_abs, TREMOR_RETEST_SOURCE)

#: Nine-Hole Peg Test MDC (95 %) over one week in 69 adults with multiple sclerosis (Hervault et al.
#: 2017, Int J Rehabil Res 40:91-93): time 19.4 % (dominant) / 29.1 % (non-dominant hand) of
#: baseline, speed 18.6 % / 20.5 %. The larger (non-dominant) figure is used for both hands, so a
#: change called real exceeds the noise of either hand; no child figure was found.
NHPT_TIME_MDC_FRACTION = 0.291
NHPT_SPEED_MDC_FRACTION = 0.205
NHPT_MDC_SOURCE = (
    "Hervault et al. 2017 (Int J Rehabil Res 40:91-93; adults with MS, 1 week): Nine-Hole Peg MDC95 "
    "19.4 % / 29.1 % of baseline time and 18.6 % / 20.5 % of speed (dominant / non-dominant hand); "
    "the larger is used for both hands"
)


def _nhpt_time_band_abs(baseline: float) -> float:
    return NHPT_TIME_MDC_FRACTION * abs(baseline)


def _nhpt_speed_band_abs(baseline: float) -> float:
    return NHPT_SPEED_MDC_FRACTION * abs(baseline)


NHPT_TIME_BAND = ChangeBand("MDC95 (±29.1 % of baseline)", _nhpt_time_band_abs, NHPT_MDC_SOURCE)
NHPT_SPEED_BAND = ChangeBand("MDC95 (±20.5 % of baseline)", _nhpt_speed_band_abs, NHPT_MDC_SOURCE)


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
        band: the change that exceeds measurement noise (None where no figure is known).
        chart_max: top of the progress chart's fixed axis (metric units; the axis starts at 0
            and only grows when a value lies above it); None: 1.3 x the largest value.
        detected: for tremor measures, ``detected(metrics, hand)``: False when the recording
            measured that hand and found no tremor peak (the report then says "no tremor
            detected" instead of a number), None when it does not measure it.
        trials_in_norm: trials the published norms average (a result of fewer trials gets a
            caveat next to the norm); 0 when the measure has no norms.
        read_beh: for dexterity measures stored as behavioural files (``_beh.tsv``),
            ``read_beh(dexterity_metrics, hand) -> (value, n_trials)``; None for sensor measures.
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
    band: ChangeBand | None = None
    chart_max: float | None = None
    detected: Callable[[RecordingMetrics, str], bool | None] | None = None
    trials_in_norm: int = 0
    read_beh: Callable[[DexterityMetrics, str], Reading] | None = None

    def change_limit(self, baseline: float | None) -> float | None:
        """Half-width of the noise band at ``baseline`` (None when unknown or no baseline)."""
        if self.band is None or baseline is None or not _finite(baseline):
            return None
        return self.band.at(baseline)


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
            band=GRIP_BAND,
            chart_max=50.0,
            trials_in_norm=3,
        ),
        GoalMetric(
            "sustained_grip_fatigue_pct",
            "gripsustained",
            _sustained_fatigue_pct,
            "%",
            "Sustained grip fatigue",
            "how much force fades while holding a squeeze",
            higher_is_better=False,
            chart_max=100.0,
        ),
        *(
            GoalMetric(
                f"pinch_{grip}_kgf",
                "pinch",
                _pinch_kgf(grip),
                "kg",
                f"{title} strength",
                f"how hard the {what} can pinch (mean of the trials; no norm table)",
                chart_max=15.0,  # kg; adult key pinch ~12 kg (men 30-34, tablet.md §3.2); grows above it
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
            chart_max=8.0,
        ),
        # children's handwriting features: no MDC is published, so no band (changes read
        # "changed", never "improved"); fixed chart ranges cover children's writing
        GoalMetric(
            "letter_height_cv_pct",
            "handwriting",
            _pen_feature("letter_height_cv_pct"),
            "%",
            "Letter size variability",
            "how much the height of the letters varies (SD / mean of the letter heights)",
            higher_is_better=False,
            decimals=0,
            chart_max=60.0,
        ),
        GoalMetric(
            "pen_in_air_ratio",
            "handwriting",
            _pen_feature("in_air_ratio"),
            "s/s",
            "In-air time per on-paper time",
            "how long the pen is lifted between strokes for each second it writes",
            higher_is_better=False,
            decimals=2,
            chart_max=2.0,
        ),
        GoalMetric(
            "pen_niv_per_stroke",
            "handwriting",
            _pen_feature("niv_per_stroke"),
            "/stroke",
            "Velocity peaks per stroke (NIV)",
            "how often the pen speeds up and slows down within one stroke (1 = one smooth movement)",
            higher_is_better=False,
            decimals=1,
            chart_max=6.0,
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
            band=TREMOR_BAND,
            chart_max=0.5,
            detected=_spiral_tremor_detected,
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
            band=TREMOR_BAND,
            chart_max=2.0,
            detected=_acc_tremor_detected,
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
            band=TREMOR_BAND,
            chart_max=2.0,
            detected=_acc_tremor_detected,
        ),
        GoalMetric(
            "ninehole_time_s",
            "ninehole",
            _no_recording_value,
            "s",
            "Nine-Hole Peg time",
            "how quickly the hand puts 9 pegs in a board and takes them out (shorter is better)",
            higher_is_better=False,
            band=NHPT_TIME_BAND,
            chart_max=60.0,  # s; a fixed 0-60 s axis that grows when a slower time lies above it
            read_beh=_dexterity("mean"),
        ),
        GoalMetric(
            "ninehole_pegs_per_min",
            "ninehole",
            _no_recording_value,
            "pegs/min",
            "Nine-Hole Peg rate",
            "how many pegs the hand moves per minute",
            band=NHPT_SPEED_BAND,
            chart_max=40.0,
            read_beh=_dexterity("per_min"),
        ),
        GoalMetric(
            "boxblock_blocks_per_min",
            "boxblock",
            _no_recording_value,
            "blocks/min",
            "Box and Block rate",
            "how many blocks the hand carries over a low wall per minute",
            decimals=0,
            chart_max=100.0,
            read_beh=_dexterity("per_min"),
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
