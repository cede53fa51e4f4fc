"""Recording-level analysis: one call per :class:`~motorlab.recording.Recording`, tidy rows out.

``analyze_recording`` dispatches on ``rec.metadata.task``:

* ``grip``: one row per trial (``row="trial"``) from the ``trial`` events, then one
  ``row="summary"`` row per hand (mean of 3, best, between-trial CV, fatigue index,
  norms when age and sex are known) and, with both hands, a ``hand="both"`` row with
  the dominant/non-dominant ratio. Invalid trials are reported but left out of summaries.
* ``gripsustained``: one row per trial with hold steadiness and fatigue.
* ``tremorrest`` / ``tremorpostural``: one row (accelerometer, plus gyroscope if present).
* ``handwriting`` / ``spiral``: one row, from ``pos_x/pos_y`` (cm) or from the IMU pen.

Row keys carry their units (``peak_force_N``, ``tremor_peak_freq_Hz``...).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict
from typing import Any

import numpy as np

from ..errors import MotorlabError
from ..recording import Recording
from ..signal.resample import signal_resample
from ..signal.segment import segment_force_trials
from ..units import newton_to_kgf
from .defaults import analysis_parameters
from .grip import grip_analyze, grip_bilateral_ratio, grip_sustained_analyze, grip_trials_summary
from .handwriting import handwriting_analyze
from .norms import GripNormTable, grip_norms
from .smoothness import stroke_smoothness
from .spiral import spiral_analyze
from .tremor import tremor_analyze

NAN = float("nan")
TASKS = ("grip", "gripsustained", "handwriting", "spiral", "tremorrest", "tremorpostural")


def _where(rec: Recording) -> str:
    md = rec.metadata
    return f"sub-{md.participant} ses-{md.session} task-{md.task}"


def _uniform(rec: Recording, names: list[str]) -> tuple[np.ndarray, np.ndarray, float]:
    """Samples of ``names`` on a uniform grid at the nominal rate (gaps stay NaN)."""
    fs = float(rec.sampling_rate)
    data = rec.select(names)
    t = rec.timestamps
    if t.size > 1:
        dt = np.diff(t)
        if np.all(np.abs(dt - 1.0 / fs) < 0.25 / fs):
            return t, data, fs
    grid, values = signal_resample(t, data, fs, max_gap_s=2.5 / fs)
    return grid, values, fs


def _force_channel(rec: Recording) -> str:
    if "force" in rec.channel_names:
        return "force"
    for ch in rec.channels:
        if ch.type == "MISC" and ch.units == "N" and ch.name != "tip_force":
            return ch.name
    raise MotorlabError(f"{_where(rec)}: no force channel (expected 'force', MISC, N)")


def _trial_windows(rec: Recording, t: np.ndarray, force: np.ndarray, fs: float, p: dict) -> list[dict]:
    """Trial index windows from ``trial`` events, or from force thresholding without events."""
    trials = rec.events_of("trial")
    out = []
    if trials:
        onsets = [e.onset for e in trials]
        for i, ev in enumerate(trials):
            dur = ev.duration if ev.duration and np.isfinite(ev.duration) and ev.duration > 0 else None
            end = ev.onset + dur if dur else (onsets[i + 1] if i + 1 < len(onsets) else t[-1] + 1 / fs)
            a, b = np.searchsorted(t, [ev.onset, end], side="left")
            out.append(
                {
                    "trial": ev.extra.get("trial", i + 1),
                    "hand": ev.extra.get("hand", rec.metadata.hand),
                    "status": ev.extra.get("status", "valid"),
                    "slice": slice(int(a), int(b)),
                }
            )
        return out
    pad = int(round(p["pad_s"] * fs))
    runs = segment_force_trials(force, fs, p["onset_threshold_n"], p["min_trial_s"])
    for i, (a, b) in enumerate(runs):
        out.append(
            {
                "trial": i + 1,
                "hand": rec.metadata.hand,
                "status": "valid",
                "slice": slice(max(a - pad, 0), min(b + pad, force.size)),
            }
        )
    return out


def _grip_rows(rec: Recording, params: dict) -> list[dict]:
    p = params["grip"]
    name = _force_channel(rec)
    t, data, fs = _uniform(rec, [name])
    force = data[:, 0]
    windows = _trial_windows(rec, t, force, fs, p)
    if not windows:
        warnings.warn(f"{_where(rec)}: no grip effort found", stacklevel=2)
    rows = []
    for w in windows:
        seg = force[w["slice"]]
        res = grip_analyze(seg, fs, p["onset_threshold_n"], None, p["baseline_s"], p["lowpass_hz"])
        row = {
            "row": "trial",
            "trial": w["trial"],
            "hand": w["hand"],
            "status": w["status"],
            "trial_start_s": float(t[w["slice"]][0]) if seg.size else NAN,
        }
        row.update(asdict(res))
        rows.append(row)
    rows.extend(_grip_summaries(rec, rows, p))
    return rows


def _grip_summaries(rec: Recording, trial_rows: list[dict], p: dict) -> list[dict]:
    extra = rec.metadata.extra or {}
    age = p["age"] if p["age"] is not None else extra.get("age")
    sex = p["sex"] if p["sex"] is not None else extra.get("sex")
    dominant = p["dominant_hand"] or extra.get("dominant_hand") or "right"
    table = GripNormTable.from_param(p["norms_table"]) if p["norms_table"] else None
    summaries: dict[str, dict] = {}
    for hand in sorted({r["hand"] for r in trial_rows}):
        mine = [r for r in trial_rows if r["hand"] == hand]
        s = grip_trials_summary([r["peak_force_N"] for r in mine], [r["status"] for r in mine])
        row = {
            "row": "summary",
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
            "fatigue_index_pct": s.fatigue_index_pct,
        }
        if age is not None and sex is not None and hand in ("right", "left") and np.isfinite(s.mean_of_3_kgf):
            n = grip_norms(s.mean_of_3_kgf, float(age), str(sex), hand, table)
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
        summaries[hand] = row
    rows = list(summaries.values())
    if "right" in summaries and "left" in summaries:
        other = "left" if dominant == "right" else "right"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ratio = grip_bilateral_ratio(summaries[dominant]["mean_of_3_N"], summaries[other]["mean_of_3_N"])
        rows.append(
            {
                "row": "summary",
                "trial": "all",
                "hand": "both",
                "status": "summary",
                "dominant_hand": dominant,
                "bilateral_ratio": ratio,
            }
        )
    return rows


def _sustained_rows(rec: Recording, params: dict) -> list[dict]:
    p, pg = params["gripsustained"], params["grip"]
    name = _force_channel(rec)
    t, data, fs = _uniform(rec, [name])
    force = data[:, 0]
    rows = []
    for w in _trial_windows(rec, t, force, fs, pg):
        seg = force[w["slice"]]
        res = grip_sustained_analyze(seg, fs, tuple(p["cv_window_s"]), p["fatigue_window_s"], p["hold_frac"])
        row = {"row": "trial", "trial": w["trial"], "hand": w["hand"], "status": w["status"]}
        row.update(asdict(res))
        row["peak_force_kgf"] = newton_to_kgf(res.peak_force_N)
        rows.append(row)
    return rows


def _hold_window(rec: Recording) -> Recording:
    """The part of a recording inside its valid ``trial`` events (the hold itself,
    without instructions and countdown); the whole recording when it has none."""
    holds = [e for e in rec.events_of("trial") if e.extra.get("status", "valid") == "valid"]
    if not holds:
        return rec
    start = min(e.onset for e in holds)
    end = max(e.onset + e.duration for e in holds)
    return rec.crop(start, end)


def _tremor_row(rec: Recording, params: dict) -> list[dict]:
    p = params["tremor"]
    acc = [c.name for c in rec.channels_of_type("ACCEL")]
    gyr = [c.name for c in rec.channels_of_type("GYRO")]
    if not acc and not gyr:
        raise MotorlabError(f"{_where(rec)}: no ACCEL or GYRO channels for tremor analysis")
    row: dict[str, Any] = {"row": "recording"}
    rec = _hold_window(rec)
    kw = {
        "band": tuple(p["band_hz"]),
        "window_s": p["window_s"],
        "rms_band": None if p["rms_band_hz"] is None else tuple(p["rms_band_hz"]),
        "class_bands": p["class_bands_hz"],
        "detection_ratio": p["detection_ratio"],
    }
    if acc:
        _, x, fs = _uniform(rec, acc)
        r = tremor_analyze(x, fs, is_acceleration=True, **kw)
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
                "tremor_detected": r.tremor_detected,
                "tremor_hints": "; ".join(r.hints),
            }
        )
    if gyr:
        _, x, fs = _uniform(rec, gyr)
        r = tremor_analyze(x, fs, is_acceleration=False, **kw)
        row.update(
            {
                "gyro_tremor_peak_freq_Hz": r.peak_freq_Hz,
                "gyro_tremor_band_power_deg2_per_s2": r.band_power,
                "gyro_tremor_rms_deg_per_s": r.rms,
                "gyro_tremor_tsi_Hz": r.tsi_Hz,
                "gyro_tremor_peak_to_background": r.peak_to_background,
                "gyro_tremor_detected": r.tremor_detected,
            }
        )
        if not acc:
            row["tremor_hints"] = "; ".join(r.hints)
    return [row]


def _pen_inputs(rec: Recording) -> dict[str, Any]:
    names = rec.channel_names
    tip_name = "tip_force" if "tip_force" in names else None
    if {"pos_x", "pos_y"} <= set(names):
        cols = ["pos_x", "pos_y"] + ([tip_name] if tip_name else [])
        _, x, fs = _uniform(rec, cols)
        return {
            "pos_cm": x[:, :2],
            "tip_force_n": x[:, 2] if tip_name else None,
            "fs": fs,
            "source": "position",
        }
    acc = [f"acc_{a}" for a in "xyz"]
    gyr = [f"gyr_{a}" for a in "xyz"]
    if set(acc + gyr) <= set(names) and tip_name:
        _, x, fs = _uniform(rec, acc + gyr + [tip_name])
        x = x.copy()
        ok = np.all(np.isfinite(x), axis=1)
        if not ok.all():  # IMU integration needs contiguous data: hold the last value over gaps
            for j in range(x.shape[1]):
                col = x[:, j]
                idx = np.where(np.isfinite(col), np.arange(col.size), 0)
                np.maximum.accumulate(idx, out=idx)
                x[:, j] = col[idx]
        return {
            "pos_cm": None,
            "acc_ms2": x[:, :3],
            "gyro_dps": x[:, 3:6],
            "tip_force_n": x[:, 6],
            "fs": fs,
            "source": "imu",
        }
    raise MotorlabError(f"{_where(rec)}: needs pos_x/pos_y (cm) or acc_x..z, gyr_x..z and tip_force channels")


def _handwriting_row(rec: Recording, params: dict) -> list[dict]:
    p, ps = params["handwriting"], params["smoothness"]
    inp = _pen_inputs(rec)
    fs = inp["fs"]
    pos = inp["pos_cm"]
    if pos is None:
        from ..signal.imu import pen_trajectory_from_imu

        pos = pen_trajectory_from_imu(
            inp["acc_ms2"], inp["gyro_dps"], inp["tip_force_n"], fs, p["pen_down_threshold_n"]
        )
    r = handwriting_analyze(
        pos,
        inp["tip_force_n"],
        fs,
        pen_down_threshold_n=p["pen_down_threshold_n"],
        lowpass_hz=p["lowpass_hz"],
    )
    row = {"row": "recording", "position_source": inp["source"]}
    row.update({k: v for k, v in asdict(r).items() if k != "strokes"})
    sparcs, ldljs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in r.strokes:
            a, b = int(np.ceil(s.start_s * fs)), int(np.floor(s.end_s * fs)) + 1
            if b - a >= 4:
                sm = stroke_smoothness(
                    pos[a:b],
                    fs,
                    sparc_fc=ps["sparc_fc_hz"],
                    sparc_amp_th=ps["sparc_amp_th"],
                    sparc_padlevel=ps["sparc_padlevel"],
                    peak_prominence_frac=ps["peak_prominence_frac"],
                )
                sparcs.append(sm.sparc)
                ldljs.append(sm.ldlj_v)
    row["stroke_sparc_mean"] = float(np.nanmean(sparcs)) if sparcs else NAN
    row["stroke_ldlj_v_mean"] = float(np.nanmean(ldljs)) if ldljs else NAN
    return [row]


def _spiral_row(rec: Recording, params: dict) -> list[dict]:
    p = params["spiral"]
    inp = _pen_inputs(rec)
    center = p["center"] if isinstance(p["center"], str) else tuple(p["center"])
    r = spiral_analyze(
        inp["pos_cm"],
        inp["fs"],
        tip_force_n=inp["tip_force_n"],
        center=center,
        acc_ms2=inp.get("acc_ms2"),
        gyro_dps=inp.get("gyro_dps"),
        pen_down_threshold_n=p["pen_down_threshold_n"],
        band=tuple(p["band_hz"]),
        skip_inner_turns=p["skip_inner_turns"],
    )
    row = {"row": "recording", "position_source": inp["source"]}
    row.update(asdict(r))
    return [row]


_DISPATCH = {
    "grip": _grip_rows,
    "gripsustained": _sustained_rows,
    "tremorrest": _tremor_row,
    "tremorpostural": _tremor_row,
    "handwriting": _handwriting_row,
    "spiral": _spiral_row,
}


def analyze_recording(rec: Recording, params: dict | None = None) -> list[dict]:
    """Metrics of one recording as tidy rows (see the module docstring).

    Every row also carries ``participant``, ``session``, ``task`` and ``tracksys``.
    Raises :class:`MotorlabError` for an unknown task or missing channels.
    """
    task = rec.metadata.task
    if task not in _DISPATCH:
        raise MotorlabError(f"{_where(rec)}: no analysis for task {task!r}; known tasks: {', '.join(TASKS)}")
    merged = analysis_parameters(params)
    if rec.n_samples < 2:
        raise MotorlabError(f"{_where(rec)}: recording has {rec.n_samples} samples, nothing to analyse")
    rows = _DISPATCH[task](rec, merged)
    md = rec.metadata
    ident = {"participant": md.participant, "session": md.session, "task": md.task, "tracksys": md.tracksys}
    return [{**ident, **row} for row in rows]
