"""Pen recordings -> :class:`HandwritingMetrics` / :class:`SpiralMetrics` / pen-hold :class:`TremorMetrics`.

All take the recording's :func:`~motorlab.analysis.pen_path.pen_path` (positions in cm,
pen-down state, gaps) and hand the valid trials' part of it
(:func:`~motorlab.analysis.trials.analysis_window`) to the pure task functions, so the
numbers and the report's pen figure come from the same trajectory.

* ``handwriting`` (and the pen page's ``loops`` and ``tracing``): stroke, speed, pen-lift and
  pressure metrics, per-stroke smoothness and the children's handwriting features
  (:mod:`motorlab.analysis.handwriting_features`) of the same window of the same pen path;
* ``spiral`` / ``spiraldynamic`` (static: traced over a printed spiral; dynamic: the template
  blinks): spiral geometry, tremor and submovement smoothness;
* ``circularhold`` (hold the pen tip over a point on a tablet, UCI TestID 2): the tremor of
  the pen-tip position (hover included: the tablet measures a hovering pen), in cm.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..recording import Recording
from .handwriting import handwriting_analyze
from .handwriting_features import HandwritingFeatures, pen_channels, pen_features
from .params import HandwritingParams, PenFeatureParams, SmoothnessParams, SpiralParams, TremorParams
from .pen_path import PenPath, pen_path
from .quality import QualityLog
from .results import HandwritingMetrics, SpiralMetrics, TremorMetrics
from .smoothness import SmoothnessResult, stroke_smoothness
from .spiral import spiral_analyze
from .tremor import TremorResult, tremor_analyze
from .trials import AnalysisWindow, analysis_window, window_samples

NAN = float("nan")


def _path(rec: Recording, threshold_n: float, log: QualityLog) -> PenPath:
    with log.step("pen_gaps_bridged"):
        path = pen_path(rec, threshold_n)
    if path.n_gap_samples:
        log.add("data_gaps", f"{path.n_gap_samples} pen samples ({path.gap_s:.3g} s) missing")
    return path


def _window(rec: Recording, path: PenPath, log: QualityLog) -> AnalysisWindow:
    win = analysis_window(rec, path.grid())
    if not win.analysed:
        log.add("no_valid_trial", win.note)
    return win


def _in_window(path: PenPath, win: AnalysisWindow) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Positions, pen state and tip force of the analysed rows (NaN/up between trials)."""
    pos = window_samples(path.pos_cm, win.rows)
    down = window_samples(path.pen_down.astype(np.float64), win.rows) > 0.5
    tip = None if path.tip_force_n is None else window_samples(path.tip_force_n, win.rows)
    return pos, down, tip


def _features(
    rec: Recording, path: PenPath, win: AnalysisWindow, pf: PenFeatureParams, log: QualityLog
) -> HandwritingFeatures:
    """Children's handwriting features of the valid trials' part of the pen path (positions in
    mm, pressure and pen angles on the same grid)."""
    extra = pen_channels(rec, path)
    rows = win.rows if win.analysed else np.empty(0, np.int64)
    pos = window_samples(path.pos_cm, rows) * 10.0
    down = window_samples(path.pen_down.astype(np.float64), rows) > 0.5
    gap = window_samples(path.gap.astype(np.float64), rows) != 0  # the NaN row between trials too
    t = window_samples(path.t_s, rows)
    part = {k: window_samples(v, rows) for k, v in extra.items()}
    if pos.shape[0] == 0:
        pos, down, gap, t = np.full((2, 2), np.nan), np.zeros(2, bool), np.ones(2, bool), np.zeros(2)
        part = {}
    with log.step("handwriting_features"):
        return pen_features(
            pos,
            down,
            path.fs,
            pressure=part.get("pressure"),
            altitude_deg=part.get("altitude"),
            azimuth_deg=part.get("azimuth"),
            gap=gap,
            timestamps_s=t,
            params=pf,
        )


def handwriting_metrics(
    rec: Recording,
    p: HandwritingParams,
    ps: SmoothnessParams,
    log: QualityLog,
    pf: PenFeatureParams | None = None,
) -> HandwritingMetrics:
    """Handwriting metrics of the valid trials, the smoothness of every complete stroke (>= 4
    samples) and the children's handwriting features (``pf``; defaults if None) of the same window."""
    path = _path(rec, p.pen_down_threshold_n, log)
    fs = path.fs
    win = _window(rec, path, log)
    pos, down, tip = _in_window(path, win)
    if not win.analysed:
        pos, down, tip = np.full((2, 2), np.nan), np.zeros(2, bool), None
    with log.step("handwriting"):
        r = handwriting_analyze(
            pos, tip, fs, pen_down_threshold_n=p.pen_down_threshold_n, lowpass_hz=p.lowpass_hz, pen_down=down
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
    feats = _features(rec, path, win, pf or PenFeatureParams(), log)
    return HandwritingMetrics(r, tuple(smooth), sparc_mean, ldlj_mean, path, win.hand, win.status, feats)


def spiral_metrics(
    rec: Recording, p: SpiralParams, pt: TremorParams, ps: SmoothnessParams, log: QualityLog
) -> SpiralMetrics:
    """Spiral metrics of the valid trials' pen path."""
    path = _path(rec, p.pen_down_threshold_n, log)
    win = _window(rec, path, log)
    pos, down, _ = _in_window(path, win)
    if not win.analysed:
        pos, down = np.full((2, 2), np.nan), np.zeros(2, bool)
    with log.step("spiral"):
        r = spiral_analyze(
            pos,
            path.fs,
            center=p.center,
            pen_down_threshold_n=p.pen_down_threshold_n,
            band=p.band_hz,
            skip_inner_turns=p.skip_inner_turns,
            pen_down=down,
            angle_step_deg=p.angle_step_deg,
            smooth_lowpass_hz=p.smooth_lowpass_hz,
            detection_ratio=pt.detection_ratio,
            detection_alpha=pt.detection_alpha,
            smoothness=ps,
            drift_degree=p.imu_drift_degree if path.source == "imu" else 0,
        )
    return SpiralMetrics(r, path, win.hand, win.status)


def pen_hold_metrics(rec: Recording, p: TremorParams, log: QualityLog) -> TremorMetrics:
    """Tremor of the pen-tip position (cm) while the pen is held over a point (hover included)."""
    path = _path(rec, HandwritingParams.pen_down_threshold_n, log)
    win = _window(rec, path, log)
    x = window_samples(path.pos_cm, win.rows)
    t = window_samples(path.t_s, win.rows)
    res: TremorResult | None = None
    if win.analysed:
        with log.step("tremor", "pen position"):
            res = tremor_analyze(
                x,
                path.fs,
                band=p.band_hz,
                window_s=p.window_s,
                rms_band=p.rms_band_hz,
                is_acceleration=False,
                class_bands=p.class_bands_hz,
                detection_ratio=p.detection_ratio,
                detection_alpha=p.detection_alpha,
            )
    return TremorMetrics(None, None, t, None, None, hand=win.hand, status=win.status, position=res, pos_cm=x)
