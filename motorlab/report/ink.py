"""The child's writing as drawn: ink coloured by speed or pressure (matplotlib, Agg, PNG bytes).

Draws arrays it is given (the pen path of the analysis and a per-sample value such as the
pen speed from :func:`motorlab.analysis.handwriting_features.pen_speed_mm_s` or the
normalised pressure); only pen-down segments are inked, lifts and gaps leave breaks. The
task's template (mm, same frame) can be drawn underneath in grey.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection

from ..analysis.handwriting_features import pen_speed_mm_s
from ..analysis.pen_path import PenPath
from ..analysis.results import RecordingMetrics
from .document import Figure
from .figures import _STYLE, _figure, to_png

#: colour map of the ink (perceptually uniform, readable in grey print)
INK_CMAP = "viridis"


def ink_png(
    pos_mm: np.ndarray,
    pen_down: np.ndarray,
    value: np.ndarray,
    value_label: str,
    title: str = "",
    template_mm: Sequence[Sequence[Sequence[float]]] = (),
    vmax: float | None = None,
) -> bytes:
    """The writing (mm, y up) with each pen-down segment coloured by ``value`` (its mean over the
    segment's two samples), a colour bar labelled ``value_label``, and the template in grey."""
    pos = np.asarray(pos_mm, dtype=float)
    down = np.asarray(pen_down, dtype=bool) & np.all(np.isfinite(pos), axis=1)
    val = np.asarray(value, dtype=float)
    seg_ok = down[:-1] & down[1:]
    segs = np.stack([pos[:-1], pos[1:]], axis=1)[seg_ok]
    a, b = val[:-1][seg_ok], val[1:][seg_ok]
    colour = np.where(np.isfinite(a) & np.isfinite(b), (a + b) / 2, np.where(np.isfinite(a), a, b))
    finite = colour[np.isfinite(colour)]
    top = vmax if vmax is not None else (float(np.percentile(finite, 98)) if finite.size else 1.0)
    with matplotlib.rc_context(_STYLE):
        fig = _figure(6.0, 3.6)
        ax = fig.add_subplot()
        for line in template_mm:
            t = np.asarray(line, dtype=float)
            if t.ndim == 2 and t.shape[0] > 1:
                ax.plot(t[:, 0], t[:, 1], color="#c9d1d9", lw=2.0, zorder=1)
        lc = LineCollection(list(segs), cmap=INK_CMAP, linewidths=1.6, zorder=2, capstyle="round")
        lc.set_array(colour)
        lc.set_clim(0.0, top if top > 0 else 1.0)
        ax.add_collection(lc)
        if segs.size:
            ax.update_datalim(segs.reshape(-1, 2))
        ax.autoscale_view()
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("x (mm)")
        ax.set_ylabel("y (mm)")
        ax.grid(False)
        fig.colorbar(lc, ax=ax, label=value_label, shrink=0.8)
        if title:
            ax.set_title(title)
        return to_png(fig)


def ink_figure(pen: PenPath, title: str) -> Figure | None:
    """The report figure of a measured pen path (tablet or browser pen), ink coloured by speed;
    None for a path reconstructed from an IMU pen (its shape is not the writing as drawn)."""
    if pen.source != "position" or not np.any(pen.pen_down):
        return None
    pos_mm = pen.pos_cm * 10.0
    speed = pen_speed_mm_s(pos_mm, pen.fs, pen.pen_down)
    return Figure(
        ink_png(pos_mm, pen.pen_down, speed, "pen speed (mm/s)", title),
        f"{title}: the writing as drawn; the colour of the ink is the pen speed (mm/s), "
        "light = fast, dark = slow. Breaks are pen lifts.",
        f"{title} writing coloured by speed",
        width_in=6.0,
        height_in=3.6,
    )


def recording_ink_figure(m: RecordingMetrics, title: str) -> Figure | None:
    """The writing as drawn of a recording's handwriting or spiral (see :func:`ink_figure`)."""
    pen = m.handwriting.pen if m.handwriting else m.spiral.pen if m.spiral else None
    return ink_figure(pen, title) if pen is not None else None


__all__ = ["INK_CMAP", "ink_figure", "ink_png", "recording_ink_figure"]
