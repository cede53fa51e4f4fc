"""Optional live trace in a matplotlib window (``motorlab record … --plot``).

The window is redrawn from the acquisition's live state a few times per
second on the event-loop thread (``canvas.draw_idle`` + ``flush_events``),
which keeps the terminal view and the data path untouched.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import MotorlabError


def _interactive_backend_available() -> bool:
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.name == "nt"
        or os.uname().sysname == "Darwin"
    )


class LivePlot:
    """A matplotlib figure showing the last ``window_s`` seconds of the primary channel."""

    def __init__(self, title: str, unit: str, window_s: float = 10.0, interactive: bool = True):
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
        self.fig, self.ax = plt.subplots(figsize=(8, 3.5))
        self.fig.canvas.manager.set_window_title(title) if getattr(self.fig.canvas, "manager", None) else None
        (self.line,) = self.ax.plot([], [], lw=1.2)
        self.peak_line = self.ax.axhline(np.nan, color="tab:red", ls="--", lw=0.8, label="peak")
        self.ax.set_xlabel("time (s)")
        self.ax.set_ylabel(unit)
        self.ax.set_title(title)
        self.ax.grid(alpha=0.3)
        if interactive:
            plt.ion()
            plt.show(block=False)

    def update(self, trace_t, trace_v, peak: float) -> None:
        t = np.asarray(trace_t, dtype=float)
        v = np.asarray(trace_v, dtype=float)
        if t.size < 2:
            return
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
