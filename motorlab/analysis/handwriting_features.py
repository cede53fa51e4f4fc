"""Children's handwriting features from a digitiser: static, kinematic, pressure, tilt, tremor.

Pure functions of a pen path on a uniform grid (the sampling rate always explicit); the
recording adapter :func:`pen_features_recording` takes positions, pen-down and gaps from
:func:`motorlab.analysis.pen_path.pen_path` (the one pen path of a recording) and the
pressure and angle channels interpolated onto its grid. Definitions (formula, unit and
source of each) are in docs/metrics.md §"Children's handwriting features"; in short:

* a **stroke** is a maximal run of on-surface (pen-down) samples; the time between two
  strokes is **in-air** (BDALab handwriting-features: strokes per pen state; ComPET);
* static (Asselborn et al. 2018 feature families): **letter height** = height of each letter
  top (a peak of y with >= 1 mm prominence, or a stroke's highest point) above the baseline
  (mean, SD, CV); **baseline** = Theil-Sen line through each stroke's lowest
  point: drift over the writing width (mm) and its angle; **word spacing** = horizontal
  gaps between strokes wider than ``word_gap_factor`` x the median letter height;
  **writing area** = convex hull of the on-surface points (scipy.spatial.ConvexHull), mm²;
* kinematic: **speed** = on-surface path length / on-surface time (mm/s); stroke duration;
  **hover** path and speed of the observed pen-up samples between strokes (pen in range);
  **NIV** = peaks of the low-passed speed per stroke with a prominence >= 10 % of the stroke's
  maximum speed (1 for a ballistic stroke; Gerth et al. 2016); **in-air time** and in-air / on-surface ratio; **writing stops** =
  on-surface pauses with speed <= 1 mm/s longer than 15 ms, merged when closer than 30 ms
  (BDALab); **tempo** = strokes per second of the writing span;
* pressure (normalised 0-1): mean, SD, CV on the surface, **number of pressure changes** =
  local extrema of the 17.5 Hz low-passed pressure within strokes (BDALab NCP);
* tilt: altitude mean and SD (deg); azimuth circular mean and circular SD (deg);
* **tremor-band power**: power of the on-surface pen velocity (Welch, strokes end to end, each
  mean-removed) in the tremor band (3-12 Hz, ``TremorParams.band_hz``), mm²/s², and its fraction
  of the 0.5-30 Hz power (Van Galen: poor writers' velocity spectra show neuromotor noise). In
  handwriting the writing rhythm itself (about 4-6 Hz) falls in this band: compare a child with
  their own earlier sessions, not with other children.

Too-short input (no stroke of at least 3 samples) gives NaN and a ``MotorlabWarning``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from scipy.signal import find_peaks
from scipy.spatial import ConvexHull, QhullError
from scipy.stats import circmean, circstd

from ..recording import Recording
from ..signal._checks import finite_runs, require_rate, warn
from ..signal.filter import signal_filter
from ..signal.resample import join_segments, resample_segments
from ..signal.spectrum import band_power, signal_psd, theil_sen
from .grid import MAX_GAP_SAMPLES, recording_label
from .params import PenFeatureParams, SmoothnessParams
from .pen_path import PenPath, pen_path

NAN = float("nan")
#: shortest stroke (samples) that gets kinematic features
MIN_STROKE_SAMPLES = 3
#: shortest stroke (s) with its own tremor-band power (bins of 1 / duration Hz: 4 Hz at 0.25 s)
MIN_TREMOR_STROKE_S = 0.25


@dataclass(frozen=True)
class StrokeFeatures:
    """One on-surface stroke (times in s from the recording start, lengths in mm)."""

    start_s: float
    end_s: float
    duration_s: float
    length_mm: float
    mean_speed_mm_s: float
    height_mm: float
    width_mm: float
    niv: int
    pressure_mean: float
    n_pressure_changes: int
    altitude_mean_deg: float
    tremor_band_power_mm2_s2: float = NAN


@dataclass(frozen=True)
class HandwritingFeatures:
    """Features of one pen task (see the module docstring and docs/metrics.md).

    Units are in the field names; pressure is normalised (0-1, no unit).
    """

    n_strokes: int
    letter_height_mm: float
    letter_height_sd_mm: float
    letter_height_cv_pct: float
    baseline_drift_mm: float
    baseline_angle_deg: float
    baseline_residual_sd_mm: float
    n_word_spaces: int
    word_spacing_mm: float
    writing_area_mm2: float
    writing_width_mm: float
    writing_height_mm: float
    speed_mm_s: float
    stroke_duration_s: float
    niv_per_stroke: float
    on_surface_time_s: float
    in_air_time_s: float
    in_air_ratio: float
    hover_path_mm: float
    hover_speed_mm_s: float
    n_writing_stops: int
    writing_stop_time_s: float
    tempo_strokes_per_s: float
    pressure_mean: float
    pressure_sd: float
    pressure_cv_pct: float
    n_pressure_changes: int
    pressure_changes_per_s: float
    altitude_mean_deg: float
    altitude_sd_deg: float
    azimuth_mean_deg: float
    azimuth_sd_deg: float
    tremor_band_power_mm2_s2: float
    tremor_band_power_fraction: float
    strokes: tuple[StrokeFeatures, ...] = ()

    def to_dict(self) -> dict[str, float]:
        """The task-level numbers (no per-stroke list)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "strokes"}


def _n_extrema(x: np.ndarray) -> int:
    """Strict local maxima plus minima of a 1-D signal (plateaus count once)."""
    d = np.diff(x)
    d = d[d != 0]
    return int(np.count_nonzero(np.diff(np.sign(d)) != 0)) if d.size > 1 else 0


def _n_speed_peaks(speed: np.ndarray, prominence_frac: float) -> int:
    """Peaks of a stroke's speed (scipy.signal.find_peaks) with a prominence of at least
    ``prominence_frac`` x its maximum; the stroke starts and ends at rest (zero padded), so a
    stroke that moves has at least one."""
    top = float(np.nanmax(speed)) if speed.size else 0.0
    if not top > 0:
        return 0
    peaks, _ = find_peaks(np.concatenate(([0.0], speed, [0.0])), prominence=prominence_frac * top)
    return int(peaks.size)


def _lowpass(x: np.ndarray, fs: float, fc: float, order: int = 4) -> np.ndarray:
    """Zero-phase low-pass, or the input when fc is at or above Nyquist (nothing to remove)."""
    return x if fc >= 0.45 * fs else signal_filter(x, fs, highcut=fc, order=order)


def _stops(speed: np.ndarray, fs: float, limit: float, min_s: float) -> list[tuple[int, int]]:
    """Writing stops: runs with speed <= limit longer than min_s, merged when closer than 2 x min_s."""
    runs = [(a, b) for a, b in finite_runs(speed <= limit)]
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and (a - merged[-1][1]) / fs < 2 * min_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if (b - a - 1) / fs > min_s]  # duration: samples - 1 intervals


def pen_features(
    pos_mm: np.ndarray,
    pen_down: np.ndarray,
    sampling_rate: float,
    *,
    pressure: np.ndarray | None = None,
    altitude_deg: np.ndarray | None = None,
    azimuth_deg: np.ndarray | None = None,
    gap: np.ndarray | None = None,
    timestamps_s: np.ndarray | None = None,
    params: PenFeatureParams | None = None,
) -> HandwritingFeatures:
    """Handwriting features of a pen path on a uniform grid.

    Args:
        pos_mm: (n, 2) pen-tip position, mm (x right, y up the page); NaN where not observed.
        pen_down: (n,) tip on the surface.
        sampling_rate: grid rate, Hz.
        pressure, altitude_deg, azimuth_deg: (n,) optional channels on the same grid.
        gap: (n,) samples where the pen was not observed (never on-surface).
        timestamps_s: (n,) grid times, s (strokes' start/end; default n / fs). A grid of several
            forward segments (a clock that stepped back) may step back between them.
        params: :class:`~motorlab.analysis.params.PenFeatureParams` (defaults if None).
    """
    p = params or PenFeatureParams()
    fs = require_rate(sampling_rate)
    pos = np.asarray(pos_mm, dtype=np.float64)
    down = np.asarray(pen_down, dtype=bool).copy()
    if gap is not None:
        down &= ~np.asarray(gap, dtype=bool)
    down &= np.all(np.isfinite(pos), axis=1)
    runs = [(a, b) for a, b in finite_runs(down) if b - a >= MIN_STROKE_SAMPLES]
    if not runs:
        warn("pen_features: no on-surface stroke of at least 3 samples; features are NaN")
        return _empty()
    t_grid = np.arange(pos.shape[0]) / fs if timestamps_s is None else np.asarray(timestamps_s, np.float64)
    pres = None if pressure is None else np.asarray(pressure, dtype=np.float64)
    alt = None if altitude_deg is None else np.asarray(altitude_deg, dtype=np.float64)
    azi = None if azimuth_deg is None else np.asarray(azimuth_deg, dtype=np.float64)

    strokes: list[StrokeFeatures] = []
    lows: list[tuple[float, float]] = []
    x_extent: list[tuple[float, float]] = []
    stop_n, stop_samples = 0, 0
    vel_parts: list[np.ndarray] = []
    for a, b in runs:
        xy = pos[a:b]
        steps = np.hypot(*np.diff(xy, axis=0).T)
        length = float(steps.sum())
        dur = (b - a - 1) / fs
        smooth = _lowpass(xy, fs, p.speed_lowpass_hz)
        speed = np.hypot(*np.gradient(smooth, 1.0 / fs, axis=0).T)
        v = np.gradient(xy, 1.0 / fs, axis=0)  # unsmoothed, as BDALab's writing stops
        for s0, s1 in _stops(np.hypot(*v.T), fs, p.stop_speed_mm_s, p.stop_min_s):
            stop_n += 1
            stop_samples += s1 - s0 - 1
        vel_parts.append(v - v.mean(axis=0))
        stroke_tremor = NAN
        if dur >= MIN_TREMOR_STROKE_S:  # one Welch segment as long as the stroke (1/duration Hz bins)
            f_s, psd_s = signal_psd(vel_parts[-1], fs, window_s=min(p.psd_window_s, (b - a) / fs))
            stroke_tremor = band_power(f_s, psd_s, (p.tremor_band_hz[0], min(p.tremor_band_hz[1], fs / 2)))
        n_pc = 0
        p_mean = NAN
        if pres is not None:
            pr = pres[a:b]
            p_mean = float(np.nanmean(pr))
            n_pc = _n_extrema(_lowpass(pr, fs, p.change_lowpass_hz))
        lo = int(np.argmin(xy[:, 1]))
        lows.append((float(xy[lo, 0]), float(xy[lo, 1])))
        x_extent.append((float(xy[:, 0].min()), float(xy[:, 0].max())))
        strokes.append(
            StrokeFeatures(
                start_s=float(t_grid[a]),
                end_s=float(t_grid[b - 1]),
                duration_s=dur,
                length_mm=length,
                mean_speed_mm_s=length / dur if dur > 0 else NAN,
                height_mm=float(np.ptp(xy[:, 1])),
                width_mm=float(np.ptp(xy[:, 0])),
                niv=_n_speed_peaks(speed, SmoothnessParams.peak_prominence_frac),
                pressure_mean=p_mean,
                n_pressure_changes=n_pc,
                altitude_mean_deg=float(np.nanmean(alt[a:b])) if alt is not None else NAN,
                tremor_band_power_mm2_s2=stroke_tremor,
            )
        )

    heights = np.array([s.height_mm for s in strokes])
    on_time = sum(s.duration_s for s in strokes)
    path = sum(s.length_mm for s in strokes)
    # time between strokes (a step back of the clock between grid segments counts as none)
    in_air = sum(max(0.0, strokes[i + 1].start_s - strokes[i].end_s) for i in range(len(strokes) - 1))
    span = on_time + in_air  # first touch to last lift

    # hover: observed pen-up samples (pen in range, no contact) between the first and last stroke
    observed = np.all(np.isfinite(pos), axis=1) & ~np.asarray(pen_down, dtype=bool)
    if gap is not None:
        observed &= ~np.asarray(gap, dtype=bool)
    observed[: runs[0][0]] = False
    observed[runs[-1][1] :] = False
    hover_path = hover_time = 0.0
    for a, b in finite_runs(observed):
        lo, hi = max(a - 1, 0), min(b + 1, pos.shape[0])  # from the lift to the next touch
        seg = pos[lo:hi]
        seg = seg[np.all(np.isfinite(seg), axis=1)]
        if seg.shape[0] >= 2:
            hover_path += float(np.hypot(*np.diff(seg, axis=0).T).sum())
            hover_time += (seg.shape[0] - 1) / fs

    # static: baseline through the strokes' lowest points, word spaces, area
    lx, ly = np.array(lows).T
    has_baseline = len(lows) >= 2 and bool(np.ptp(lx) > 0)
    slope = icpt = 0.0
    if has_baseline:
        slope, icpt = theil_sen(lx, ly)
        width = float(np.ptp(lx))
        drift, angle = slope * width, math.degrees(math.atan(slope))
        resid_sd = float(np.std(ly - (icpt + slope * lx), ddof=1)) if len(lows) > 2 else NAN
    else:
        drift = angle = resid_sd = NAN
    # letter heights: each letter top (a peak of y, or the stroke's top) above the baseline there
    tops: list[float] = []
    for (a, b), (_, y_low) in zip(runs, lows):
        y = pos[a:b, 1]
        peaks, _ = find_peaks(y, prominence=p.letter_peak_prominence_mm)
        idx = peaks if peaks.size else np.array([int(np.argmax(y))])
        base = icpt + slope * pos[a:b, 0][idx] if has_baseline else np.full(idx.size, y_low)
        tops.extend(h for h in (y[idx] - base).tolist() if h > 0)
    letters = np.array(tops) if tops else heights
    med_h = float(np.median(letters))
    gaps_x: list[float] = []
    right = x_extent[0][1]
    for lo_x, hi_x in x_extent[1:]:
        g = lo_x - right
        if g > p.word_gap_factor * med_h:
            gaps_x.append(g)
        right = max(right, hi_x)
    on_pts = pos[down]
    try:
        area = float(ConvexHull(on_pts).volume) if on_pts.shape[0] >= 3 else NAN
    except QhullError:  # collinear points (a straight line): no area
        area = 0.0

    # pressure over the surface
    if pres is not None:
        pd_ = pres[down]
        p_mean, p_sd = float(np.nanmean(pd_)), float(np.nanstd(pd_, ddof=1))
        n_pc = sum(s.n_pressure_changes for s in strokes)
    else:
        p_mean = p_sd = NAN
        n_pc = 0
    # tilt
    alt_d = alt[down] if alt is not None else np.zeros(0)
    alt_d = alt_d[np.isfinite(alt_d)]
    az_d = azi[down] if azi is not None else np.zeros(0)
    az_d = np.radians(az_d[np.isfinite(az_d)])

    # tremor band of the on-surface velocity (strokes end to end, each mean-removed)
    vel = np.concatenate(vel_parts)
    freqs, psd = signal_psd(vel, fs, window_s=min(p.psd_window_s, vel.shape[0] / fs))
    ref_hi = min(p.reference_band_hz[1], fs / 2)
    total = band_power(freqs, psd, (p.reference_band_hz[0], ref_hi))
    tremor = band_power(freqs, psd, (p.tremor_band_hz[0], min(p.tremor_band_hz[1], ref_hi)))

    return HandwritingFeatures(
        n_strokes=len(strokes),
        letter_height_mm=float(letters.mean()),
        letter_height_sd_mm=float(letters.std(ddof=1)) if letters.size > 1 else NAN,
        letter_height_cv_pct=float(100 * letters.std(ddof=1) / letters.mean())
        if letters.size > 1 and letters.mean() > 0
        else NAN,
        baseline_drift_mm=drift,
        baseline_angle_deg=angle,
        baseline_residual_sd_mm=resid_sd,
        n_word_spaces=len(gaps_x),
        word_spacing_mm=float(np.mean(gaps_x)) if gaps_x else NAN,
        writing_area_mm2=area,
        writing_width_mm=float(np.ptp(on_pts[:, 0])),
        writing_height_mm=float(np.ptp(on_pts[:, 1])),
        speed_mm_s=path / on_time if on_time > 0 else NAN,
        stroke_duration_s=on_time / len(strokes),
        niv_per_stroke=float(np.mean([s.niv for s in strokes])),
        on_surface_time_s=on_time,
        in_air_time_s=in_air,
        in_air_ratio=in_air / on_time if on_time > 0 else NAN,
        hover_path_mm=hover_path,
        hover_speed_mm_s=hover_path / hover_time if hover_time > 0 else NAN,
        n_writing_stops=stop_n,
        writing_stop_time_s=stop_samples / fs,
        tempo_strokes_per_s=len(strokes) / span if span > 0 else NAN,
        pressure_mean=p_mean,
        pressure_sd=p_sd,
        pressure_cv_pct=100 * p_sd / p_mean if p_mean > 0 else NAN,
        n_pressure_changes=n_pc,
        pressure_changes_per_s=n_pc / on_time if pres is not None and on_time > 0 else NAN,
        altitude_mean_deg=float(alt_d.mean()) if alt_d.size else NAN,
        altitude_sd_deg=float(alt_d.std(ddof=1)) if alt_d.size > 1 else NAN,
        azimuth_mean_deg=float(np.degrees(circmean(az_d))) if az_d.size else NAN,
        azimuth_sd_deg=float(np.degrees(circstd(az_d))) if az_d.size > 1 else NAN,
        tremor_band_power_mm2_s2=tremor,
        tremor_band_power_fraction=tremor / total if total > 0 else NAN,
        strokes=tuple(strokes),
    )


def pen_speed_mm_s(
    pos_mm: np.ndarray, sampling_rate: float, pen_down: np.ndarray | None = None
) -> np.ndarray:
    """Pen-tip speed (mm/s) of each sample: central differences within each on-surface run
    (``pen_down``; all finite samples when None); NaN elsewhere (the ink figure's colour)."""
    fs = require_rate(sampling_rate)
    pos = np.asarray(pos_mm, dtype=np.float64)
    ok = np.all(np.isfinite(pos), axis=1)
    if pen_down is not None:
        ok &= np.asarray(pen_down, dtype=bool)
    out = np.full(pos.shape[0], np.nan)
    for a, b in finite_runs(ok):
        if b - a >= 2:
            out[a:b] = np.hypot(*np.gradient(pos[a:b], 1.0 / fs, axis=0).T)
    return out


def _empty() -> HandwritingFeatures:
    vals = {
        f.name: (0 if f.type in ("int", int) else NAN)
        for f in fields(HandwritingFeatures)
        if f.name != "strokes"
    }
    return HandwritingFeatures(**vals)  # type: ignore[arg-type]


def pen_channels(rec: Recording, path: PenPath) -> dict[str, np.ndarray]:
    """The recording's ``pressure``, ``altitude`` and ``azimuth`` channels (those it has) on the
    grid of its pen path ``path``, put there by the same resampler (each forward time segment on
    its own grid, :func:`~motorlab.signal.resample.resample_segments`; azimuth unwrapped first so
    359° -> 1° does not pass through 180°, then wrapped into [0, 360))."""
    names = [n for n in ("pressure", "altitude", "azimuth") if n in rec.channel_names]
    if not names:
        return {}
    vals = rec.select(names).copy()
    if "azimuth" in names:
        j = names.index("azimuth")
        ok = np.isfinite(vals[:, j])
        vals[ok, j] = np.degrees(np.unwrap(np.radians(vals[ok, j])))
    if np.array_equal(path.t_s, rec.timestamps):
        grid_vals = vals
    else:
        pieces = resample_segments(
            rec.timestamps, vals, path.fs, MAX_GAP_SAMPLES / path.fs, segments=rec.timestamp_segments
        )
        grid_t, grid_vals = join_segments(pieces, path.fs, len(names))
        if grid_t.shape != path.t_s.shape:  # not the pen path's grid: leave these channels out
            warn(f"{recording_label(rec)}: pressure/angle channels not on the pen path's grid; left out")
            grid_vals = np.full((path.t_s.size, len(names)), np.nan)
    extra: dict[str, np.ndarray] = {n: grid_vals[:, i] for i, n in enumerate(names)}
    if "azimuth" in extra:
        extra["azimuth"] = np.mod(extra["azimuth"], 360.0)
    return extra


def pen_features_recording(rec: Recording, params: PenFeatureParams | None = None) -> HandwritingFeatures:
    """:func:`pen_features` of a tablet recording, from its pen path (cm -> mm) and its
    ``pressure``, ``altitude`` and ``azimuth`` channels on the same grid (:func:`pen_channels`).

    The whole recording is used; :func:`~motorlab.analysis.analyze_recording` gives the same
    features of the valid trials only (``HandwritingMetrics.features``), which are the same
    numbers for a recording without trial events.
    """
    path = pen_path(rec)
    extra = pen_channels(rec, path)
    return pen_features(
        path.pos_cm * 10.0,
        path.pen_down,
        path.fs,
        pressure=extra.get("pressure"),
        altitude_deg=extra.get("altitude"),
        azimuth_deg=extra.get("azimuth"),
        gap=path.gap,
        timestamps_s=path.t_s,
        params=params,
    )


@dataclass(frozen=True)
class FeatureChange:
    """One feature against the same child's earlier sessions (no grade norms are used)."""

    name: str
    current: float
    earlier_mean: float
    earlier_sd: float
    n_earlier: int
    change: float
    z: float


def compare_with_earlier(
    current: HandwritingFeatures, earlier: Sequence[HandwritingFeatures]
) -> tuple[FeatureChange, ...]:
    """Each feature now vs the mean (and SD) of the child's earlier sessions.

    ``change`` = current - earlier mean; ``z`` = change / earlier SD (NaN with fewer than two
    earlier sessions or SD 0). No published grade norms were readable (research/tablet.md §2.3),
    so the child's own history is the reference.
    """
    out = []
    for name, value in current.to_dict().items():
        prev = np.array([e.to_dict()[name] for e in earlier], dtype=np.float64)
        prev = prev[np.isfinite(prev)]
        mean = float(prev.mean()) if prev.size else NAN
        sd = float(prev.std(ddof=1)) if prev.size > 1 else NAN
        change = float(value) - mean
        z = change / sd if prev.size > 1 and sd > 0 else NAN
        out.append(FeatureChange(name, float(value), mean, sd, int(prev.size), change, z))
    return tuple(out)


__all__ = [
    "FeatureChange",
    "HandwritingFeatures",
    "StrokeFeatures",
    "compare_with_earlier",
    "pen_channels",
    "pen_features",
    "pen_features_recording",
    "pen_speed_mm_s",
]
