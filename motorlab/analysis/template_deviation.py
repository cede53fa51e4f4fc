"""Deviation of a drawing from the template it traced (spiral, line): distances in mm.

The pen page stores each task's template geometry in the recording's sidecar
(``MotorlabTemplate["template"]["polylines"]``, mm, x right, y up: the frame of ``pos_x``/``pos_y``
x 10). For every on-surface sample the distance to the nearest point of the template (the
polylines densified to ``step_mm``, nearest neighbour by scipy.spatial.cKDTree) gives:

* ``mean_mm``, ``rms_mm``, ``max_mm``: the drawing's distance from the template;
* ``coverage_pct``: the share of the template (by length) that has a drawn sample within
  ``near_mm`` (how much of the shape was traced at all).

Tracing error of this kind is the classic digitised spiral/line measure (e.g. the UCI test
traced a printed spiral; Isenkul et al. 2014). ``near_mm`` = 2 mm is a motorlab choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from ..signal._checks import warn

NAN = float("nan")


@dataclass(frozen=True)
class TemplateDeviation:
    """Distances of the on-surface samples from the template (mm) and the traced share (%)."""

    mean_mm: float
    rms_mm: float
    max_mm: float
    coverage_pct: float
    n_samples: int


def densify(polylines_mm: Sequence[Sequence[Sequence[float]]], step_mm: float = 0.25) -> np.ndarray:
    """Points along each polyline evenly spaced by arc length (at most ``step_mm`` apart, ends
    included), (m, 2) mm: each point stands for the same length of template."""
    out = []
    for line in polylines_mm:
        p = np.asarray(line, dtype=np.float64).reshape(-1, 2)
        if p.shape[0] == 0:
            continue
        s = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(p, axis=0).T))))
        n = max(1, int(np.ceil(s[-1] / step_mm)))
        at = np.linspace(0.0, s[-1], n + 1)
        out.append(np.column_stack([np.interp(at, s, p[:, 0]), np.interp(at, s, p[:, 1])]))
    return np.vstack(out) if out else np.zeros((0, 2))


def template_deviation(
    pos_mm: np.ndarray,
    pen_down: np.ndarray,
    polylines_mm: Sequence[Sequence[Sequence[float]]],
    *,
    step_mm: float = 0.25,
    near_mm: float = 2.0,
) -> TemplateDeviation:
    """How far the on-surface samples lie from the template, and how much of it was traced."""
    pos = np.asarray(pos_mm, dtype=np.float64)
    use = np.asarray(pen_down, dtype=bool) & np.all(np.isfinite(pos), axis=1)
    tpl = densify(polylines_mm, step_mm)
    if not use.any() or tpl.shape[0] == 0:
        warn("template_deviation: no on-surface sample or no template; NaN")
        return TemplateDeviation(NAN, NAN, NAN, NAN, int(use.sum()))
    drawn = pos[use]
    d, _ = cKDTree(tpl).query(drawn)
    back, _ = cKDTree(drawn).query(tpl)
    return TemplateDeviation(
        mean_mm=float(d.mean()),
        rms_mm=float(np.sqrt(np.mean(d**2))),
        max_mm=float(d.max()),
        coverage_pct=float(100.0 * np.mean(back <= near_mm)),
        n_samples=int(drawn.shape[0]),
    )


def template_of(sidecar: dict[str, Any]) -> list[list[list[float]]]:
    """The template polylines (mm) stored by the pen page in a recording's ``_motion.json``."""
    return list(((sidecar.get("MotorlabTemplate") or {}).get("template") or {}).get("polylines") or [])


__all__ = ["TemplateDeviation", "densify", "template_deviation", "template_of"]
