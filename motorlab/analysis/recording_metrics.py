"""Recording-level analysis: one call per :class:`~motorlab.recording.Recording`, a typed result out.

``analyze_recording`` dispatches on ``rec.metadata.task``:

* ``grip``: one :class:`~motorlab.analysis.results.GripTrial` per ``trial`` event (or per
  effort found by thresholding), a per-hand summary (mean of 3, best, between-trial CV,
  fatigue index, norms when age and sex are known) and, with both hands, the
  dominant/non-dominant ratio (:mod:`motorlab.analysis.recording_grip`);
* ``gripsustained``: hold steadiness and fatigue per trial;
* ``pinch``: tip/key/palmar pinch trials and a mean of 3 per grip and hand, no norm
  (:mod:`motorlab.analysis.recording_pinch`);
* ``tremorrest`` / ``tremorpostural``: accelerometer and/or gyroscope tremor of the hold
  (:mod:`motorlab.analysis.recording_tremor`);
* ``handwriting`` / ``spiral`` / ``spiraldynamic``: from the recording's pen path, measured
  positions or the IMU pen (:mod:`motorlab.analysis.recording_pen`); handwriting and the pen
  page's ``loops`` and ``tracing`` also get the children's handwriting features;
* ``circularhold``: the tremor of the pen-tip position held over a point on a tablet.

The recording's own quality flags (``metadata.extra["quality_flags"]``: an importer's
``backwards_step``, ``xy_aspect``…) are copied into ``quality`` first, so they reach every row.

:meth:`RecordingMetrics.to_rows` gives the flat table rows (``row`` = "trial",
"summary" or "recording"; units in the keys).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import AnalysisError
from ..recording import Recording
from .grid import recording_label
from .params import AnalysisParams, analysis_parameters
from .quality import QualityLog
from .recording_grip import grip_metrics, sustained_metrics
from .recording_pen import handwriting_metrics, pen_hold_metrics, spiral_metrics
from .recording_pinch import pinch_metrics
from .recording_tremor import tremor_metrics
from .results import QualityFlag, RecordingIdentity, RecordingMetrics

__all__ = ["HANDWRITING_TASKS", "TASKS", "analysis_parameters", "analyze_recording"]

_Adapter = Callable[[Recording, AnalysisParams, QualityLog], dict[str, Any]]

#: handwriting-like tasks: typed as ``handwriting`` (with the children's handwriting features);
#: ``loops`` and ``tracing`` are the pen page's tasks (session/protocols_pen.py)
HANDWRITING_TASKS = ("handwriting", "loops", "tracing")

#: task label -> adapter returning the RecordingMetrics field it fills
_DISPATCH: dict[str, _Adapter] = {
    "grip": lambda rec, p, log: {"grip": grip_metrics(rec, p.grip, log)},
    "gripsustained": lambda rec, p, log: {
        "gripsustained": sustained_metrics(rec, p.gripsustained, p.grip, log)
    },
    "pinch": lambda rec, p, log: {"pinch": pinch_metrics(rec, p.grip, log)},
    **{
        task: lambda rec, p, log: {
            "handwriting": handwriting_metrics(rec, p.handwriting, p.smoothness, log, p.penfeatures)
        }
        for task in HANDWRITING_TASKS
    },
    "spiral": lambda rec, p, log: {"spiral": spiral_metrics(rec, p.spiral, p.tremor, p.smoothness, log)},
    "spiraldynamic": lambda rec, p, log: {
        "spiral": spiral_metrics(rec, p.spiral, p.tremor, p.smoothness, log)
    },
    "circularhold": lambda rec, p, log: {"tremor": pen_hold_metrics(rec, p.tremor, log)},
    "tremorrest": lambda rec, p, log: {"tremor": tremor_metrics(rec, p.tremor, log)},
    "tremorpostural": lambda rec, p, log: {"tremor": tremor_metrics(rec, p.tremor, log)},
}
#: the tasks analyze_recording knows
TASKS = tuple(_DISPATCH)


def analyze_recording(
    rec: Recording, params: AnalysisParams | Mapping[str, Any] | None = None
) -> RecordingMetrics:
    """Metrics of one recording (see the module docstring), computed with ``params``.

    ``params`` is an :class:`AnalysisParams` or its nested mapping form
    (``{"tremor": {"band_hz": [4, 8]}}``); it is validated before any work. Raises
    :class:`~motorlab.errors.AnalysisError` for an unknown task, missing channels or too few
    samples. Warnings raised while analysing reach the caller unchanged and are kept in
    ``warnings``; named problems are in ``quality``.
    """
    task = rec.metadata.task
    adapter = _DISPATCH.get(task)
    if adapter is None:
        raise AnalysisError(
            f"{recording_label(rec)}: no analysis for task {task!r}; known tasks: {', '.join(TASKS)}"
        )
    p = AnalysisParams.from_mapping(params)
    if rec.n_samples < 2:
        raise AnalysisError(
            f"{recording_label(rec)}: recording has {rec.n_samples} samples, nothing to analyse"
        )
    log = QualityLog()
    for f in rec.quality_flags:
        log.flags.append(QualityFlag(f.code, f.message, f.severity, "recording"))
    with log.analysis() as messages:
        content = adapter(rec, p, log)
    return RecordingMetrics(
        RecordingIdentity.from_metadata(rec.metadata),
        p,
        quality=tuple(log.flags),
        warnings=tuple(messages),
        **content,
    )
