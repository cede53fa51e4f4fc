"""Pen recordings (``handwriting``/``spiral``) -> :class:`HandwritingMetrics` / :class:`SpiralMetrics`.

Both take the recording's :func:`~motorlab.analysis.pen_path.pen_path` (positions in cm,
tip force, gaps) and hand it to the pure task functions, so the numbers and the report's
pen figure come from the same trajectory.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..recording import Recording
from .handwriting import handwriting_analyze
from .params import HandwritingParams, SmoothnessParams, SpiralParams
from .pen_path import PenPath, pen_path
from .quality import QualityLog
from .results import HandwritingMetrics, SpiralMetrics
from .smoothness import SmoothnessResult, stroke_smoothness
from .spiral import spiral_analyze

NAN = float("nan")


def _path(rec: Recording, threshold_n: float, log: QualityLog) -> PenPath:
    with log.step("pen_gaps_bridged"):
        path = pen_path(rec, threshold_n)
    if path.n_gap_samples:
        log.add("data_gaps", f"{path.n_gap_samples} pen samples ({path.gap_s:.3g} s) missing")
    return path


def handwriting_metrics(
    rec: Recording, p: HandwritingParams, ps: SmoothnessParams, log: QualityLog
) -> HandwritingMetrics:
    """Handwriting metrics plus the smoothness of every complete stroke (at least 4 samples)."""
    path = _path(rec, p.pen_down_threshold_n, log)
    fs, pos = path.fs, path.pos_cm
    with log.step("handwriting"):
        r = handwriting_analyze(
            pos, path.tip_force_n, fs, pen_down_threshold_n=p.pen_down_threshold_n, lowpass_hz=p.lowpass_hz
        )
    smooth: list[SmoothnessResult] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a too-short stroke gives NaN, left out of the means below
        for s in r.strokes:
            a, b = int(np.ceil(s.start_s * fs)), int(np.floor(s.end_s * fs)) + 1
            if b - a >= 4:
                smooth.append(
                    stroke_smoothness(
                        pos[a:b],
                        fs,
                        sparc_fc=ps.sparc_fc_hz,
                        sparc_amp_th=ps.sparc_amp_th,
                        sparc_padlevel=ps.sparc_padlevel,
                        peak_prominence_frac=ps.peak_prominence_frac,
                    )
                )
    sparc_mean = float(np.nanmean([m.sparc for m in smooth])) if smooth else NAN
    ldlj_mean = float(np.nanmean([m.ldlj_v for m in smooth])) if smooth else NAN
    return HandwritingMetrics(r, tuple(smooth), sparc_mean, ldlj_mean, path)


def spiral_metrics(rec: Recording, p: SpiralParams, log: QualityLog) -> SpiralMetrics:
    """Spiral metrics of the pen path."""
    path = _path(rec, p.pen_down_threshold_n, log)
    with log.step("spiral"):
        r = spiral_analyze(
            path.pos_cm,
            path.fs,
            tip_force_n=path.tip_force_n,
            center=p.center,
            pen_down_threshold_n=p.pen_down_threshold_n,
            band=p.band_hz,
            skip_inner_turns=p.skip_inner_turns,
        )
    return SpiralMetrics(r, path)
