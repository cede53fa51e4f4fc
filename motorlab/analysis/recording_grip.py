"""Grip recordings -> :class:`GripMetrics` / :class:`SustainedGripMetrics` (trials, summaries, force trace).

Trials come from the recording's ``trial`` events (their ``trial``/``hand``/``status``
columns, a later ``trial_status`` event overriding the status; :mod:`.trials`); without
events, efforts are found by thresholding the force (``GripParams.onset_threshold_n``, at
least ``min_trial_s`` long, padded by ``pad_s``). A trial whose window cannot be placed on
the samples (no samples, or a device clock that stepped back so two clock segments match)
gets NaN metrics and a ``grip_trial`` flag saying exactly that.
Invalid trials are reported but left out of the per-hand summaries. Norms need the age
and sex (parameters, else ``metadata.extra``); the bilateral ratio needs both hands.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields

import numpy as np

from ..errors import AnalysisError
from ..recording import Recording, find_force_channel
from ..signal.segment import segment_force_trials
from .grid import Grid, uniform_samples
from .grid import recording_label as where
from .grip import (
    GripResult,
    SustainedGripResult,
    grip_analyze,
    grip_bilateral_ratio,
    grip_sustained_analyze,
    grip_trials_summary,
)
from .norms import grip_norms
from .params import GripParams, SustainedGripParams
from .quality import QualityLog
from .results import (
    BilateralRatio,
    GripHandSummary,
    GripMetrics,
    GripTrial,
    SustainedGripMetrics,
    SustainedGripTrial,
)
from .trials import trial_specs

NAN = float("nan")


@dataclass(frozen=True)
class TrialWindow:
    """Where one trial lies in the uniform force trace (``samples``), or why it cannot be placed."""

    trial: int | str
    hand: str
    status: str
    samples: slice
    problem: str = ""


def force_channel(rec: Recording) -> str:
    """``force``, else the first MISC channel in N other than the pen's tip force
    (:func:`~motorlab.recording.find_force_channel`)."""
    name = find_force_channel(rec.channels)
    if name is not None:
        return name
    raise AnalysisError(f"{where(rec)}: no force channel (expected 'force', MISC, N)")


def trial_windows(rec: Recording, grid: Grid, force: np.ndarray, p: GripParams) -> list[TrialWindow]:
    """Trial windows from ``trial`` events, or from force thresholding without events."""
    specs = trial_specs(rec)
    if specs:
        out = []
        for s in specs:
            w = grid.window(s.onset_s, s.end_s)
            if isinstance(w, str):
                out.append(TrialWindow(s.trial, s.hand, s.status, slice(0, 0), w))
            else:
                out.append(TrialWindow(s.trial, s.hand, s.status, w))
        return out
    fs = grid.fs
    pad = int(round(p.pad_s * fs))
    runs = segment_force_trials(force, fs, p.onset_threshold_n, p.min_trial_s)
    return [
        TrialWindow(i + 1, rec.metadata.hand, "valid", slice(max(a - pad, 0), min(b + pad, force.size)))
        for i, (a, b) in enumerate(runs)
    ]


def _force_trace(rec: Recording, log: QualityLog) -> tuple[Grid, np.ndarray]:
    g = uniform_samples(rec, [force_channel(rec)])
    force = g.values[:, 0]
    missing = int(np.count_nonzero(~np.isfinite(force))) - (len(g.parts) - 1)
    if missing:
        log.add("data_gaps", f"{missing} force samples ({missing / g.fs:.3g} s) missing")
    return g, force


def _unplaced(log: QualityLog, w: TrialWindow) -> None:
    log.add("grip_trial", f"trial {w.trial} ({w.hand}): {w.problem}; metrics are NaN")


def grip_metrics(rec: Recording, p: GripParams, log: QualityLog) -> GripMetrics:
    """Trials, per-hand summaries (with norms) and bilateral ratio of a maximal-grip recording."""
    g, force = _force_trace(rec, log)
    t, fs = g.t_s, g.fs
    windows = trial_windows(rec, g, force, p)
    if not windows:
        with log.step("no_grip_effort"):
            warnings.warn(f"{where(rec)}: no grip effort found", stacklevel=3)
    elif not rec.events_of("trial"):  # never silent: say where the trials came from
        log.add(
            "trials_from_force",
            f"no trial events; {len(windows)} efforts found where the force exceeds "
            f"{p.onset_threshold_n:g} N, all taken as valid trials of the {rec.metadata.hand} hand",
        )
    trials = []
    for w in windows:
        seg = force[w.samples]
        if w.problem:
            _unplaced(log, w)
            res = GripResult(*([NAN] * len(fields(GripResult))))
        else:
            with log.step("grip_trial", f"trial {w.trial} ({w.hand})"):
                res = grip_analyze(seg, fs, p.onset_threshold_n, None, p.baseline_s, p.lowpass_hz)
        start = float(t[w.samples][0]) if seg.size else NAN
        trials.append(GripTrial(w.trial, w.hand, w.status, start, res, t[w.samples], seg))
    summaries, bilateral = _summaries(rec, trials, p, log)
    return GripMetrics(tuple(trials), summaries, bilateral, t, force)


def _summaries(
    rec: Recording, trials: list[GripTrial], p: GripParams, log: QualityLog
) -> tuple[tuple[GripHandSummary, ...], BilateralRatio | None]:
    extra = rec.metadata.extra or {}
    age = p.age if p.age is not None else extra.get("age")
    sex = p.sex if p.sex is not None else extra.get("sex")
    dominant = p.dominant_hand or extra.get("dominant_hand") or "right"
    if dominant not in ("right", "left"):
        log.add("grip_summary", f"dominant hand {dominant!r} is not right or left; the ratio is right/left")
        dominant = "right"
    summaries: dict[str, GripHandSummary] = {}
    for hand in sorted({tr.hand for tr in trials}):
        mine = [tr for tr in trials if tr.hand == hand]
        with log.step("grip_summary", f"{hand} hand"):
            s = grip_trials_summary([tr.result.peak_force_N for tr in mine], [tr.status for tr in mine])
        norm = None
        if age is not None and sex is not None and hand in ("right", "left") and np.isfinite(s.mean_of_3_kgf):
            norm = grip_norms(s.mean_of_3_kgf, float(age), str(sex), hand, p.norms_table)
        summaries[hand] = GripHandSummary(hand, s, norm)
    bilateral = None
    if "right" in summaries and "left" in summaries:
        other = "left" if dominant == "right" else "right"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ratio = grip_bilateral_ratio(
                summaries[dominant].summary.mean_of_3_N, summaries[other].summary.mean_of_3_N
            )
        bilateral = BilateralRatio(dominant, ratio)
    return tuple(summaries.values()), bilateral


def sustained_metrics(
    rec: Recording, p: SustainedGripParams, pg: GripParams, log: QualityLog
) -> SustainedGripMetrics:
    """Hold steadiness and fatigue of each trial of a sustained-grip recording."""
    g, force = _force_trace(rec, log)
    t, fs = g.t_s, g.fs
    windows = trial_windows(rec, g, force, pg)
    if not windows:
        log.add("no_grip_effort", f"{where(rec)}: no grip effort found")
    trials = []
    for w in windows:
        seg = force[w.samples]
        if w.problem:
            _unplaced(log, w)
            res = SustainedGripResult(*([NAN] * len(fields(SustainedGripResult))))
        else:
            with log.step("grip_trial", f"trial {w.trial} ({w.hand})"):
                res = grip_sustained_analyze(seg, fs, p.cv_window_s, p.fatigue_window_s, p.hold_frac)
        start = float(t[w.samples][0]) if seg.size else NAN
        trials.append(SustainedGripTrial(w.trial, w.hand, w.status, start, res, t[w.samples], seg))
    return SustainedGripMetrics(tuple(trials), t, force)
