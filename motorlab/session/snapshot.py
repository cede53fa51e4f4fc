"""Build the parts of a :class:`~motorlab.session.live.LiveSnapshot` from the running pieces.

Pure functions of the recorder's parts (step runner progress, acquisition
statistics, driver status, writer); each returns one frozen part.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .live import LinkState, SignalState, StepState, WriterState

if TYPE_CHECKING:
    from ..devices.base import DeviceInfo, LinkStatus
    from ..storage.bids import RecordingWriter
    from .acquisition import SignalTracker
    from .steps import Progress


def _finite(x: float) -> float:
    return x if math.isfinite(x) else math.nan


def step_state(progress: Progress | None, trial_total: int) -> StepState:
    """Where the task is (``progress`` None: not started)."""
    if progress is None:
        return StepState(trial_total=trial_total)
    s = progress.step
    return StepState(
        kind=s.kind if s else "",
        text=s.text if s else "",
        left_s=progress.left_s,
        trial_index=progress.trial_index,
        trial_total=progress.trial_total or trial_total,
        trial=s.trial if s else None,
        hand=s.hand if s else None,
        waiting_for_start=progress.waiting_for_start,
        started_s=progress.step_started_s,
        duration_s=s.duration_s if s else 0.0,
        variant=s.variant if s else None,
    )


def signal_state(
    info: DeviceInfo | None, tracker: SignalTracker | None, best_previous: float | None
) -> SignalState:
    """The signal so far, of the tracker's primary channel (the device's first by default)."""
    index = tracker.primary if tracker is not None else 0
    channel = info.channels[index] if info is not None and len(info.channels) > index else None
    base = SignalState(
        channel=channel.name if channel else "",
        unit=channel.units if channel else "",
        best_previous=best_previous,
    )
    if tracker is None:
        return base
    latest = () if tracker.latest is None else tuple(float(v) for v in tracker.latest)
    return SignalState(
        channel=base.channel,
        unit=base.unit,
        latest=latest,
        now=latest[tracker.primary] if latest else math.nan,
        trial_peak=_finite(tracker.trial_peak),
        session_peak=_finite(tracker.peak),
        best_previous=best_previous,
        trace_t=tuple(tracker.trace_t),
        trace_v=tuple(tracker.trace_v),
        n_samples=tracker.n_samples,
        pen_down=tracker.pen_down if tracker.down_threshold is not None else None,
        strokes=tracker.strokes,
    )


def link_state(
    info: DeviceInfo | None,
    status: LinkStatus,
    tracker: SignalTracker | None,
    battery_percent: float | None,
    emulated: bool,
) -> LinkState:
    """The device and its link (``battery_percent``: the reading taken before the task)."""
    return LinkState(
        device=f"{info.model} {info.serial}" if info is not None else "",
        connected=status.connected,
        gaps=tracker.gaps if tracker is not None else 0,
        dropped=tracker.dropped if tracker is not None else 0,
        battery_percent=status.battery_percent or battery_percent,
        emulated=emulated,
    )


def writer_state(writer: RecordingWriter | None, error: str) -> WriterState:
    """The file being written and the first write error ("" for none)."""
    if writer is None:
        return WriterState()
    return WriterState(str(writer.path), writer.n_samples, not error, error)
