"""A test-only publisher of live-state messages: what a Recorder adapter will do, scripted.

It fills a :class:`~motorlab.ui.web.live.LiveBuffer` (the hub polls it) with
snapshots and samples built from the schema dataclasses, so the task screen is
exercised over the real WebSocket exactly as a running task will drive it.
"""

from __future__ import annotations

import numpy as np

from motorlab.ui.web.live import (
    DeviceState,
    ForceState,
    HoldState,
    LiveBuffer,
    LiveSnapshot,
    PenState,
    StepState,
    TaskState,
)


def grip_snapshot(
    now: float | None,
    *,
    scale_max: float = 40.0,
    peak: float | None = None,
    previous_best: float | None = 20.0,
    target: float | None = 30.0,
    trial: int = 2,
    trial_key: str = "right-2",
    step: StepState | None = None,
    device: DeviceState | None = None,
    view: str = "force_max",
    band: tuple[float, float] | None = None,
    alerts: tuple[str, ...] = (),
) -> LiveSnapshot:
    return LiveSnapshot(
        task=TaskState(
            "grip" if view == "force_max" else "gripsustained",
            view,  # type: ignore[arg-type]
            "Squeeze as hard as you can" if view == "force_max" else "Keep squeezing",
            "right",
            trial,
            6,
            trial_key,
        ),
        step=step or StepState("trial", "Squeeze!", 3.2, 5.0),
        device=device or DeviceState("sim://grip", emulated=True, samples=1234),
        force=ForceState(
            "kg",
            scale_max,
            now,
            peak if peak is not None else now,
            previous_best,
            target,
            band[0] if band else None,
            band[1] if band else None,
        ),
        alerts=alerts,
    )


def pen_snapshot(
    down: bool, strokes: int, force: float | None = 1.2, has_position: bool = True
) -> LiveSnapshot:
    return LiveSnapshot(
        task=TaskState("handwriting", "pen", "Copy the sentence", "right", 1, 1, "hw-1"),
        step=StepState("trial", "Write the sentence", 20.0, 30.0),
        device=DeviceState("sim://pen", emulated=True),
        pen=PenState(down, force, "N", 4.0, strokes, has_position, 200.0, 120.0),
    )


def hold_snapshot(dx: float, dy: float, rms: float, scale: float = 1.0) -> LiveSnapshot:
    return LiveSnapshot(
        task=TaskState("tremorpostural", "hold", "Hold your arm out still", "right", 1, 1, "tp-1"),
        step=StepState("trial", "Hold still", 10.0, 20.0),
        device=DeviceState("sim://pen", emulated=True),
        hold=HoldState(dx, dy, scale, rms, "m/s²"),
    )


def push_line(buf: LiveBuffer, t0: float, x0: float, y0: float, x1: float, y1: float, n: int = 200) -> float:
    """A straight pen-down stroke from (x0, y0) to (x1, y1) mm at 1 kHz, then one pen-up sample."""
    t = t0 + np.arange(n + 1) / 1000.0
    x = np.r_[np.linspace(x0, x1, n), x1]
    y = np.r_[np.linspace(y0, y1, n), y1]
    down = np.r_[np.ones(n), 0.0]
    buf.push_pen(t, x, y, down, np.full(n + 1, 1.2))
    return float(t[-1]) + 0.001
