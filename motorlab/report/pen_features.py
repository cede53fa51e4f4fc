"""The report's table of children's handwriting features (issue 15).

Reads the features ``analyze_recording`` already put into each handwriting-like recording's
typed result (``HandwritingMetrics.features``; definitions, units and sources in
docs/metrics.md §"Children's handwriting features"): the report never re-reads a recording.
No published values by school grade were readable, so the table shows the child's own values
only; the catalog measures among them are compared with earlier sessions in the change and
progress sections.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .document import Table

if TYPE_CHECKING:
    from ..clinic.measurements import RecordingResult

#: (label, HandwritingFeatures field, unit, decimals): the headline features, in report order
HEADLINE_FEATURES: tuple[tuple[str, str, str, int], ...] = (
    ("Letter height", "letter_height_mm", "mm", 1),
    ("Letter height variability (CV)", "letter_height_cv_pct", "%", 0),
    ("Baseline drift over the line", "baseline_drift_mm", "mm", 1),
    ("Word spaces", "n_word_spaces", "", 0),
    ("Word spacing", "word_spacing_mm", "mm", 1),
    ("Writing area", "writing_area_mm2", "mm²", 0),
    ("Pen speed on the paper", "speed_mm_s", "mm/s", 1),
    ("Strokes (pen-down runs)", "n_strokes", "", 0),
    ("Velocity peaks per stroke (NIV)", "niv_per_stroke", "", 1),
    ("In-air time", "in_air_time_s", "s", 1),
    ("In-air time per on-paper time", "in_air_ratio", "s/s", 2),
    ("Writing stops", "n_writing_stops", "", 0),
    ("Pressure, mean (0–1)", "pressure_mean", "", 2),
    ("Pressure variability (CV)", "pressure_cv_pct", "%", 0),
    ("Pen altitude, mean", "altitude_mean_deg", "°", 0),
    ("Tremor-band power of the pen velocity (3–12 Hz)", "tremor_band_power_mm2_s2", "mm²/s²", 0),
)

CAPTION = (
    "Children's handwriting features of the valid trials, from the same pen path as the figures "
    "(definitions and sources: docs/metrics.md). No published values by school grade are built in: "
    "compare with this child's earlier sessions. In-air features depend strongly on where strokes are "
    "cut; the writing rhythm itself (4–6 Hz) lies in the tremor band."
)


def _cell(value: float, unit: str, decimals: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–"
    text = f"{value:.{decimals}f}".replace("-", "−")
    return f"{text} {unit}" if unit else text


def feature_table(results: Sequence[RecordingResult]) -> Table | None:
    """One column per analysed handwriting-like recording with features (None when there is none)."""
    shown = [
        r
        for r in results
        if r.metrics is not None and r.metrics.handwriting is not None and r.metrics.handwriting.features
    ]
    if not shown:
        return None
    heads = []
    for r in shown:
        hand = r.info.hand
        heads.append(f"{hand} hand" if hand in ("right", "left") else r.info.path.name.split("_motion")[0])
    rows = []
    for label, name, unit, decimals in HEADLINE_FEATURES:
        cells = []
        for r in shown:
            feats = r.metrics.handwriting.features if r.metrics and r.metrics.handwriting else None
            cells.append(_cell(getattr(feats, name), unit, decimals) if feats is not None else "–")
        rows.append((label, *cells))
    return Table(("Feature", *heads), tuple(rows), caption=CAPTION)


__all__ = ["HEADLINE_FEATURES", "feature_table"]
