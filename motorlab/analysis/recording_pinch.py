"""Pinch recordings -> :class:`~motorlab.analysis.results.PinchMetrics`.

A pinch recording is a grip recording whose ``trial`` events carry the pinch grip as
``variant`` (``tip``, ``key``, ``palmar``; :func:`motorlab.session.protocols.pinch_protocol`).
Each trial is analysed as a maximal grip (peak, time to peak, RFD; same
:class:`~motorlab.analysis.params.GripParams`), and the valid trials of each grip and
hand are summarised as a mean of 3 (the most reliable pinch score, Mathiowetz et al. 1984).
No norm is applied: no readable published pinch table is available (tablet.md §3.2), and
each summary says so. Trials without a ``variant`` (an imported file) count as ``pinch``.
"""

from __future__ import annotations

from dataclasses import fields

from ..recording import Recording
from .grip import GripResult, grip_analyze, grip_trials_summary
from .params import GripParams
from .quality import QualityLog
from .recording_grip import _force_trace, _unplaced, trial_windows
from .results import PinchMetrics, PinchSummary, PinchTrial

NAN = float("nan")


def _variants(rec: Recording) -> list[str]:
    return [str(ev.extra.get("variant") or "pinch") for ev in rec.events_of("trial")]


def pinch_metrics(rec: Recording, p: GripParams, log: QualityLog) -> PinchMetrics:
    """Trials and per-(grip, hand) summaries of a pinch recording (see the module docstring)."""
    g, force = _force_trace(rec, log)
    t, fs = g.t_s, g.fs
    windows = trial_windows(rec, g, force, p)
    variants = _variants(rec)
    if len(variants) != len(windows):  # efforts found by thresholding: grip unknown
        variants = ["pinch"] * len(windows)
    if not windows:
        log.add("no_grip_effort", "no pinch effort found")
    trials = []
    for grip, w in zip(variants, windows):
        seg = force[w.samples]
        if w.problem:
            _unplaced(log, w)
            res = GripResult(*([NAN] * len(fields(GripResult))))
        else:
            with log.step("grip_trial", f"{grip} pinch trial {w.trial} ({w.hand})"):
                res = grip_analyze(seg, fs, p.onset_threshold_n, None, p.baseline_s, p.lowpass_hz)
        start = float(t[w.samples][0]) if seg.size else NAN
        trials.append(PinchTrial(w.trial, w.hand, w.status, start, res, t[w.samples], seg, grip=grip))
    summaries = []
    for grip, hand in sorted({(tr.grip, tr.hand) for tr in trials}):
        mine = [tr for tr in trials if tr.grip == grip and tr.hand == hand]
        with log.step("grip_summary", f"{grip} pinch, {hand} hand"):
            s = grip_trials_summary([tr.result.peak_force_N for tr in mine], [tr.status for tr in mine])
        summaries.append(PinchSummary(grip, hand, s))
    return PinchMetrics(tuple(trials), tuple(summaries), t, force)
