"""Task metrics (grip, tremor, smoothness, handwriting, spiral), norms, goals and progress.

Flat NeuroKit2-style API: every function takes the sampling rate (Hz) explicitly,
returns floats or dataclasses whose field names carry units, and answers a too
short or flat input with NaN plus a :class:`motorlab.errors.MotorlabWarning`.
``analyze_recording`` is the recording-level entry point used by the CLI, batch
runner and report.
"""

from .defaults import DEFAULTS, analysis_parameters
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
from .norms import NormResult, grip_norms, grip_norms_newton
from .recording_metrics import analyze_recording
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
    "GripResult",
    "GripSummary",
    "HandwritingResult",
    "NormResult",
    "ProgressPoint",
    "SmoothnessResult",
    "SpiralResult",
    "Stroke",
    "SustainedGripResult",
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
    "progress_series",
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
