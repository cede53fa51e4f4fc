"""Optional live trace in a matplotlib window (``motorlab record … --plot``).

:class:`LivePlot` subscribes to the live snapshots and redraws at most
``max_fps`` times per second on the event-loop thread (``canvas.draw_idle`` +
``flush_events``), plus once for the final snapshot; the data path never waits
for it.
"""

from __future__ import annotations

import math
import os
import time
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MotorlabError

if TYPE_CHECKING:
    from ..session.live import LiveSnapshot


def _interactive_backend_available() -> bool:
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.name == "nt"
        or os.uname().sysname == "Darwin"
    )


class LivePlot:
    """A matplotlib figure showing the last ``window_s`` seconds of the primary channel
    and the trial's peak. Subscribe :meth:`update` to a live feed."""

    def __init__(self, title: str, window_s: float = 10.0, interactive: bool = True, max_fps: float = 5.0):
        import matplotlib

        if interactive:
            if not _interactive_backend_available():
                raise MotorlabError(
                    "--plot needs a graphical display (no DISPLAY is set); use the terminal view"
                )
        else:
            matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        self._plt = plt
        self.window_s = window_s
        self.min_interval_s = 1.0 / max_fps
        self._last_draw = -math.inf
        self.fig, self.ax = plt.subplots(figsize=(8, 3.5))
        manager = self.fig.canvas.manager
        if manager is not None:
            manager.set_window_title(title)
        (self.line,) = self.ax.plot([], [], lw=1.2)
        self.peak_line = self.ax.axhline(np.nan, color="tab:red", ls="--", lw=0.8, label="peak")
        self.ax.set_xlabel("time (s)")
        self.ax.set_title(title)
        self.ax.grid(alpha=0.3)
        if interactive:
            plt.ion()
            plt.show(block=False)

    def update(self, snapshot: LiveSnapshot) -> None:
        """Redraw from a snapshot (skipped when the last redraw is too recent, except the final one)."""
        now = time.monotonic()
        if not snapshot.finished and now - self._last_draw < self.min_interval_s:
            return
        sig = snapshot.signal
        if sig.channel:
            self.ax.set_ylabel(f"{sig.channel} ({sig.unit})")
        t = np.asarray(sig.trace_t, dtype=float)
        v = np.asarray(sig.trace_v, dtype=float)
        peak = sig.trial_peak
        if t.size < 2:
            return
        self._last_draw = now
        keep = t >= t[-1] - self.window_s
        self.line.set_data(t[keep], v[keep])
        self.ax.set_xlim(t[keep][0], max(t[-1], t[keep][0] + 1e-3))
        finite = v[keep][np.isfinite(v[keep])]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            pad = 0.1 * (hi - lo or 1.0)
            self.ax.set_ylim(lo - pad, hi + pad)
        if np.isfinite(peak):
            self.peak_line.set_ydata([peak, peak])
        self.fig.canvas.draw_idle()
        self.fig.canvas.flush_events()

    def close(self) -> None:
        self._plt.close(self.fig)
