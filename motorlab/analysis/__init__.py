"""Task metrics (grip, tremor, smoothness, handwriting, spiral), norms, goals and progress.

Flat NeuroKit2-style API: every function takes the sampling rate (Hz) explicitly,
returns floats or dataclasses whose field names carry units, and answers a too
short or flat input with NaN plus a :class:`motorlab.errors.MotorlabWarning`.
Their defaults are the fields of the parameter dataclasses (:mod:`.params`).

``analyze_recording(rec, params)`` is the recording-level entry point used by the CLI,
batch runner, clinic and report: it returns a typed :class:`RecordingMetrics`
(``to_rows()`` for tables). ``pen_path(rec)`` is the one recording -> pen trajectory step.
"""

from .goals import ProgressPoint, gas_tscore, grip_mdc95_kg, mdc95, progress_series, sem
from .grip import (
    KGF_N,
    LB_KG,
    GripResult,
    GripSummary,
    SustainedGripResult,
    grip_analyze,
    grip_bilateral_ratio,
    grip_fatigue_index,
    grip_sustained_analyze,
    grip_trials_summary,
    kgf_to_newton,
    lb_to_kg,
    newton_to_kgf,
)
from .handwriting import HandwritingResult, Stroke, handwriting_analyze, segment_strokes
from .norms import GripNormTable, NormResult, grip_norms, grip_norms_newton, read_grip_norm_table
from .params import (
    DEFAULTS,
    AnalysisParams,
    GripParams,
    HandwritingParams,
    SmoothnessParams,
    SpiralParams,
    SustainedGripParams,
    TremorParams,
    analysis_parameters,
)
from .pen_path import PenPath, pen_path
from .recording_metrics import analyze_recording
from .results import (
    BilateralRatio,
    GripHandSummary,
    GripMetrics,
    GripTrial,
    HandwritingMetrics,
    QualityFlag,
    RecordingIdentity,
    RecordingMetrics,
    SpiralMetrics,
    SustainedGripMetrics,
    SustainedGripTrial,
    TremorMetrics,
)
from .smoothness import (
    SmoothnessResult,
    dimensionless_jerk,
    ldlj,
    ldlj_imu,
    normalized_jerk,
    sparc,
    stroke_smoothness,
    velocity_peaks,
)
from .spiral import SpiralResult, spiral_analyze
from .tremor import TremorResult, tremor_analyze, tremor_hints, tremor_stability_index

__all__ = [
    "DEFAULTS",
    "KGF_N",
    "LB_KG",
    "AnalysisParams",
    "BilateralRatio",
    "GripHandSummary",
    "GripMetrics",
    "GripNormTable",
    "GripParams",
    "GripResult",
    "GripSummary",
    "GripTrial",
    "HandwritingMetrics",
    "HandwritingParams",
    "HandwritingResult",
    "NormResult",
    "PenPath",
    "ProgressPoint",
    "QualityFlag",
    "RecordingIdentity",
    "RecordingMetrics",
    "SmoothnessParams",
    "SmoothnessResult",
    "SpiralMetrics",
    "SpiralParams",
    "SpiralResult",
    "Stroke",
    "SustainedGripMetrics",
    "SustainedGripParams",
    "SustainedGripResult",
    "SustainedGripTrial",
    "TremorMetrics",
    "TremorParams",
    "TremorResult",
    "analysis_parameters",
    "analyze_recording",
    "dimensionless_jerk",
    "gas_tscore",
    "grip_analyze",
    "grip_bilateral_ratio",
    "grip_fatigue_index",
    "grip_mdc95_kg",
    "grip_norms",
    "grip_norms_newton",
    "grip_sustained_analyze",
    "grip_trials_summary",
    "handwriting_analyze",
    "kgf_to_newton",
    "lb_to_kg",
    "ldlj",
    "ldlj_imu",
    "mdc95",
    "newton_to_kgf",
    "normalized_jerk",
    "pen_path",
    "progress_series",
    "read_grip_norm_table",
    "segment_strokes",
    "sem",
    "sparc",
    "spiral_analyze",
    "stroke_smoothness",
    "tremor_analyze",
    "tremor_hints",
    "tremor_stability_index",
    "velocity_peaks",
]
