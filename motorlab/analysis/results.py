"""Typed results of :func:`motorlab.analysis.analyze_recording`: one :class:`RecordingMetrics` per recording.

A ``RecordingMetrics`` holds who/what was recorded (:class:`RecordingIdentity`), the
:class:`~motorlab.analysis.params.AnalysisParams` used, the typed content of its task
(exactly one of ``grip``, ``gripsustained``, ``tremor``, ``handwriting``, ``spiral``, ``pinch``), the
arrays a report draws (force traces, the analysed IMU window, the pen path), named
:class:`QualityFlag` s and the warnings raised while analysing.

Consumers read typed fields (``m.grip.summary("right").summary.mean_of_3_kgf``).
:meth:`RecordingMetrics.to_rows` turns the object into the flat rows of the batch table
and CSV files (units in the keys, e.g. ``peak_force_N``).

Quality flag names (each with a one-line message):

* ``no_grip_effort``: a grip recording without trial events and no effort above the onset threshold;
* ``trials_from_force``: a grip recording without trial events: its efforts were found by
  the force threshold and all taken as valid trials of the recording's hand;
* ``grip_trial``: a trial's grip metrics are NaN (too short, no onset...);
* ``grip_summary``: a hand without a valid trial, or a dominant hand that is neither right nor left;
* ``tremor``: a tremor spectrum or stability index could not be computed (NaN);
* ``handwriting``: no complete stroke (stroke metrics NaN);
* ``handwriting_features``: a children's handwriting feature could not be computed (no pen-down
  stroke of 3 samples: features NaN; pressure/angle channels off the pen path's grid);
* ``spiral``: spiral or spiral-tremor metrics NaN;
* ``pen_gaps_bridged``: IMU pen samples missing, bridged for the integration;
* ``data_gaps``: samples missing on the analysis grid (link gaps), with their count and duration;
* ``no_valid_trial``: every trial is invalid (or none has samples): nothing analysed, values NaN;
* ``analysis``: any other warning raised by an analysis step;
* the recording's own flags (``metadata.extra["quality_flags"]``, e.g. ``backwards_step``,
  ``mixed_clock``, ``xy_aspect`` from an importer; codes in docs/formats.md), copied with
  ``origin="recording"`` and their severity.

Every table row carries ``quality_flags``: the names of all flags, sorted, ";"-separated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from ..recording import Metadata
from ..units import newton_to_kgf
from .grip import GripResult, GripSummary, SustainedGripResult
from .handwriting import HandwritingResult
from .handwriting_features import HandwritingFeatures
from .norms import NormResult
from .params import AnalysisParams
from .pen_path import PenPath
from .smoothness import SmoothnessResult
from .spiral import SpiralResult
from .tremor import TremorResult


@dataclass(frozen=True)
class QualityFlag:
    """A named problem found while analysing, or recorded with the recording (see the module docstring).

    Attributes:
        name: the flag's name (``data_gaps``, ``backwards_step``…).
        message: one line saying what happened and where.
        severity: "error", "warning" or "info".
        origin: "analysis" (found while analysing) or "recording" (from the recording's metadata).
    """

    name: str
    message: str
    severity: str = "warning"
    origin: str = "analysis"


@dataclass(frozen=True)
class RecordingIdentity:
    """Who and what a recording is (from its metadata; pseudonymous IDs only)."""

    participant: str
    session: str
    task: str
    tracksys: str
    hand: str
    acq_time: str
    device_model: str
    device_serial: str
    calibration_id: str

    @classmethod
    def from_metadata(cls, md: Metadata) -> RecordingIdentity:
        return cls(
            md.participant,
            md.session,
            md.task,
            md.tracksys,
            md.hand,
            md.acq_time,
            md.device_model,
            md.device_serial,
            md.calibration_id,
        )

    def row_keys(self) -> dict[str, str]:
        """The identity columns every table row starts with."""
        return {
            "participant": self.participant,
            "session": self.session,
            "task": self.task,
            "tracksys": self.tracksys,
        }


# ----------------------------------------------------------------------- grip
def _force_summary_row(s: GripSummary, hand: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The table row summarising one hand's maximal-force trials (grip or pinch)."""
    return {
        "row": "summary",
        **extra,
        "trial": "all",
        "hand": hand,
        "status": "summary",
        "n_trials": s.n_trials,
        "n_valid": s.n_valid,
        "n_used": s.n_used,
        "mean_of_3_N": s.mean_of_3_N,
        "mean_of_3_kgf": s.mean_of_3_kgf,
        "best_N": s.best_N,
        "best_kgf": s.best_kgf,
        "between_trial_cv_pct": s.cv_pct,
    }


def _force_trial_row(t: GripTrial, extra: dict[str, Any]) -> dict[str, Any]:
    """The table row of one maximal-force trial (grip or pinch): identity, then its metrics."""
    row: dict[str, Any] = {"row": "trial", **extra}
    row.update(trial=t.trial, hand=t.hand, status=t.status, trial_start_s=t.trial_start_s)
    row.update(asdict(t.result))
    return row


@dataclass(frozen=True, eq=False)
class GripTrial:
    """One maximal grip trial.

    Attributes:
        trial: trial number (from the ``trial`` event, else its order).
        hand: "right", "left" or the recording's hand.
        status: "valid" or e.g. "invalid" (reported, left out of summaries).
        trial_start_s: time of the first sample of the trial window (s from recording start).
        result: the trial's metrics.
        t_s, force_n: the trial window of the analysed force trace (s, N).
    """

    trial: int | str
    hand: str
    status: str
    trial_start_s: float
    result: GripResult
    t_s: np.ndarray
    force_n: np.ndarray

    def to_row(self) -> dict[str, Any]:
        return _force_trial_row(self, {})


@dataclass(frozen=True)
class GripHandSummary:
    """The trials of one hand summarised (mean of 3, best, CV, fatigue) and its norm (None without age/sex)."""

    hand: str
    summary: GripSummary
    norm: NormResult | None = None

    def to_row(self) -> dict[str, Any]:
        row = _force_summary_row(self.summary, self.hand, {})
        row["fatigue_index_pct"] = self.summary.fatigue_index_pct
        if self.norm is not None:
            n = self.norm
            row.update(
                {
                    "norm_mean_kg": n.norm_mean_kg,
                    "norm_z": n.z,
                    "norm_percentile": n.percentile,
                    "norm_pct_of_mean": n.pct_of_norm,
                    "norm_age_band": n.age_band,
                    "norm_source": n.source,
                    "norm_note": n.note,
                }
            )
        return row


@dataclass(frozen=True)
class BilateralRatio:
    """Dominant / non-dominant mean of 3 (NaN when either is missing)."""

    dominant_hand: str
    ratio: float

    def to_row(self) -> dict[str, Any]:
        return {
            "row": "summary",
            "trial": "all",
            "hand": "both",
            "status": "summary",
            "dominant_hand": self.dominant_hand,
            "bilateral_ratio": self.ratio,
        }


@dataclass(frozen=True, eq=False)
class GripMetrics:
    """Repeated maximal grips: trials, per-hand summaries and the force trace they come from.

    Attributes:
        trials: every trial in recording order (invalid ones included).
        summaries: one per hand that has trials, sorted by hand name.
        bilateral: ratio when both right and left were measured, else None.
        t_s, force_n: the analysed force trace on its uniform grid (s, N).
    """

    trials: tuple[GripTrial, ...]
    summaries: tuple[GripHandSummary, ...]
    bilateral: BilateralRatio | None
    t_s: np.ndarray
    force_n: np.ndarray

    def summary(self, hand: str) -> GripHandSummary | None:
        return next((s for s in self.summaries if s.hand == hand), None)

    def to_rows(self) -> list[dict[str, Any]]:
        rows = [t.to_row() for t in self.trials] + [s.to_row() for s in self.summaries]
        if self.bilateral is not None:
            rows.append(self.bilateral.to_row())
        return rows


@dataclass(frozen=True, eq=False)
class SustainedGripTrial:
    """One sustained hold (times and arrays as in :class:`GripTrial`)."""

    trial: int | str
    hand: str
    status: str
    trial_start_s: float
    result: SustainedGripResult
    t_s: np.ndarray
    force_n: np.ndarray

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"row": "trial", "trial": self.trial, "hand": self.hand, "status": self.status}
        row.update(asdict(self.result))
        row["peak_force_kgf"] = newton_to_kgf(self.result.peak_force_N)
        return row


@dataclass(frozen=True, eq=False)
class SustainedGripMetrics:
    """Sustained grip trials and the analysed force trace (s, N)."""

    trials: tuple[SustainedGripTrial, ...]
    t_s: np.ndarray
    force_n: np.ndarray

    def to_rows(self) -> list[dict[str, Any]]:
        return [t.to_row() for t in self.trials]


# ----------------------------------------------------------------------- pinch
#: why pinch results carry no norm (tablet.md §3.2: the Mathiowetz tables were not readable)
PINCH_NO_NORM = (
    "no norm: no readable published pinch table is bundled (Mathiowetz 1985 adults, 1986 ages 6-19 "
    "not transcribed); compare with this client's earlier sessions"
)


@dataclass(frozen=True, eq=False)
class PinchTrial(GripTrial):
    """One maximal pinch trial: a :class:`GripTrial` of one pinch ``grip`` (``tip``, ``key`` or
    ``palmar``)."""

    grip: str = field(kw_only=True)

    def to_row(self) -> dict[str, Any]:
        return _force_trial_row(self, {"pinch_grip": self.grip})


@dataclass(frozen=True)
class PinchSummary:
    """The trials of one pinch grip and hand: mean of 3 (the reliable score, Mathiowetz 1984),
    best and between-trial CV; ``norm_note`` says why there is no norm."""

    grip: str
    hand: str
    summary: GripSummary
    norm_note: str = PINCH_NO_NORM

    def to_row(self) -> dict[str, Any]:
        row = _force_summary_row(self.summary, self.hand, {"pinch_grip": self.grip})
        row["norm_note"] = self.norm_note
        return row


@dataclass(frozen=True, eq=False)
class PinchMetrics:
    """Maximal tip/key/palmar pinches: trials, one summary per (grip, hand), the force trace (s, N)."""

    trials: tuple[PinchTrial, ...]
    summaries: tuple[PinchSummary, ...]
    t_s: np.ndarray
    force_n: np.ndarray

    def summary(self, grip: str, hand: str) -> PinchSummary | None:
        return next((s for s in self.summaries if s.grip == grip and s.hand == hand), None)

    def to_rows(self) -> list[dict[str, Any]]:
        return [t.to_row() for t in self.trials] + [s.to_row() for s in self.summaries]


# ----------------------------------------------------------------------- tremor
@dataclass(frozen=True, eq=False)
class TremorMetrics:
    """Tremor of the hold (the valid trials' span, or the whole recording without trials).

    Attributes:
        accelerometer: from the ACCEL channels (m/s^2), None without them.
        gyroscope: from the GYRO channels (deg/s), None without them.
        t_s: the analysed window on its uniform grid (s from recording start).
        acc_ms2, gyro_dps: the analysed samples (n, k), NaN in gaps; None without the sensor.
        acc_channels, gyro_channels: their channel names, in column order.
    """

    accelerometer: TremorResult | None
    gyroscope: TremorResult | None
    t_s: np.ndarray
    acc_ms2: np.ndarray | None
    gyro_dps: np.ndarray | None
    acc_channels: tuple[str, ...] = ()
    gyro_channels: tuple[str, ...] = ()
    hand: str = "n/a"
    status: str = "valid"
    position: TremorResult | None = None
    pos_cm: np.ndarray | None = None

    def to_rows(self) -> list[dict[str, Any]]:
        row: dict[str, Any] = {"row": "recording", "hand": self.hand, "status": self.status}
        if (q := self.position) is not None:
            row.update(
                {
                    "tremor_peak_freq_Hz": q.peak_freq_Hz,
                    "tremor_band_power_cm2": q.band_power,
                    "tremor_rms_cm": q.rms,
                    "tremor_tsi_Hz": q.tsi_Hz,
                    "tremor_n_cycles": q.n_cycles,
                    "tremor_duration_s": q.duration_s,
                    "tremor_peak_to_background": q.peak_to_background,
                    "tremor_peak_p_value": q.peak_p_value,
                    "tremor_detected": q.tremor_detected,
                    "tremor_note": q.note,
                    "tremor_hints": "; ".join(q.hints),
                }
            )
        if (r := self.accelerometer) is not None:
            row.update(
                {
                    "tremor_peak_freq_Hz": r.peak_freq_Hz,
                    "tremor_band_power_m2_per_s4": r.band_power,
                    "tremor_rms_m_per_s2": r.rms,
                    "tremor_displacement_rms_cm": r.displacement_rms_cm,
                    "tremor_tsi_Hz": r.tsi_Hz,
                    "tremor_n_cycles": r.n_cycles,
                    "tremor_duration_s": r.duration_s,
                    "tremor_peak_to_background": r.peak_to_background,
                    "tremor_peak_p_value": r.peak_p_value,
                    "tremor_detected": r.tremor_detected,
                    "tremor_note": r.note,
                    "tremor_hints": "; ".join(r.hints),
                }
            )
        if (g := self.gyroscope) is not None:
            row.update(
                {
                    "gyro_tremor_peak_freq_Hz": g.peak_freq_Hz,
                    "gyro_tremor_band_power_deg2_per_s2": g.band_power,
                    "gyro_tremor_rms_deg_per_s": g.rms,
                    "gyro_tremor_tsi_Hz": g.tsi_Hz,
                    "gyro_tremor_peak_to_background": g.peak_to_background,
                    "gyro_tremor_detected": g.tremor_detected,
                    "gyro_tremor_note": g.note,
                }
            )
            if self.accelerometer is None:
                row["tremor_hints"] = "; ".join(g.hints)
        return [row]


# ----------------------------------------------------------------------- pen tasks
#: table-column prefix of the children's handwriting features whose names the handwriting
#: metrics already use with another definition (strokes per pen-down run, BDALab, vs strokes
#: between vertical-velocity zero crossings, MovAlyzeR)
FEATURE_PREFIX = "pen_"


def feature_column(name: str) -> str:
    """The table column of the handwriting feature ``name`` (``letter_height_mm`` stays;
    ``n_strokes`` -> ``pen_n_strokes`` because ``n_strokes`` is a handwriting metric)."""
    taken = {f.name for f in fields(HandwritingResult)}
    return FEATURE_PREFIX + name if name in taken else name


@dataclass(frozen=True, eq=False)
class HandwritingMetrics:
    """Handwriting metrics, the smoothness of every complete stroke and the pen path they come from.

    Attributes:
        result: stroke, speed, pen-lift and pressure metrics.
        stroke_smoothness: smoothness of each complete stroke of at least 4 samples, in order.
        stroke_sparc_mean, stroke_ldlj_v_mean: NaN-ignoring means over those strokes (NaN if none).
        pen: the uniform pen trajectory (see :func:`motorlab.analysis.pen_path`).
        features: children's handwriting features of the same window of the same pen path
            (:func:`~motorlab.analysis.handwriting_features.pen_features`, units in the names);
            table columns by :func:`feature_column`.
    """

    result: HandwritingResult
    stroke_smoothness: tuple[SmoothnessResult, ...]
    stroke_sparc_mean: float
    stroke_ldlj_v_mean: float
    pen: PenPath
    hand: str = "n/a"
    status: str = "valid"
    features: HandwritingFeatures | None = None

    def to_rows(self) -> list[dict[str, Any]]:
        row: dict[str, Any] = {
            "row": "recording",
            "hand": self.hand,
            "status": self.status,
            "position_source": self.pen.source,
            "pen_down_source": self.pen.pen_down_source,
        }
        row.update({k: v for k, v in asdict(self.result).items() if k != "strokes"})
        row["stroke_sparc_mean"] = self.stroke_sparc_mean
        row["stroke_ldlj_v_mean"] = self.stroke_ldlj_v_mean
        if self.features is not None:
            row.update({feature_column(k): v for k, v in self.features.to_dict().items()})
        return [row]


@dataclass(frozen=True, eq=False)
class SpiralMetrics:
    """Spiral metrics, the pen path they come from, and the analysed trials' hand and status."""

    result: SpiralResult
    pen: PenPath
    hand: str = "n/a"
    status: str = "valid"

    def to_rows(self) -> list[dict[str, Any]]:
        row: dict[str, Any] = {
            "row": "recording",
            "hand": self.hand,
            "status": self.status,
            "position_source": self.pen.source,
            "pen_down_source": self.pen.pen_down_source,
        }
        row.update(asdict(self.result))
        return [row]


# ----------------------------------------------------------------------- recording
TaskMetrics = (
    GripMetrics | SustainedGripMetrics | TremorMetrics | HandwritingMetrics | SpiralMetrics | PinchMetrics
)


@dataclass(frozen=True, eq=False)
class RecordingMetrics:
    """Everything :func:`~motorlab.analysis.analyze_recording` found in one recording.

    Exactly one of the task fields is set, chosen by ``identity.task``: ``grip``
    (task ``grip``), ``gripsustained``, ``tremor`` (``tremorrest``/``tremorpostural``, and
    ``circularhold``: the pen-tip position held over a point), ``handwriting`` (``handwriting``
    and the pen page's ``loops`` and ``tracing``) or ``spiral`` (``spiral``/``spiraldynamic``).
    """

    identity: RecordingIdentity
    params: AnalysisParams
    grip: GripMetrics | None = None
    gripsustained: SustainedGripMetrics | None = None
    tremor: TremorMetrics | None = None
    handwriting: HandwritingMetrics | None = None
    spiral: SpiralMetrics | None = None
    pinch: PinchMetrics | None = None
    quality: tuple[QualityFlag, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def task(self) -> str:
        return self.identity.task

    @property
    def content(self) -> TaskMetrics:
        """The task's typed content (whichever task field is set)."""
        for part in (self.grip, self.gripsustained, self.tremor, self.handwriting, self.spiral, self.pinch):
            if part is not None:
                return part
        raise ValueError(f"RecordingMetrics of task {self.task!r} has no content")

    def flags(self, name: str) -> tuple[QualityFlag, ...]:
        """The quality flags called ``name``."""
        return tuple(f for f in self.quality if f.name == name)

    def to_rows(self) -> list[dict[str, Any]]:
        """Flat table rows (batch table, CSV, ``motorlab analyze``): identity columns, then
        ``row`` ("trial", "summary" or "recording") and the metrics, units in the keys."""
        ident = self.identity.row_keys()
        flags = ";".join(sorted({f.name for f in self.quality}))
        return [{**ident, **row, "quality_flags": flags} for row in self.content.to_rows()]
