"""Report figures drawn with matplotlib (object API, Agg canvas) and returned as PNG bytes.

No pyplot state is touched, so figures can be made from any thread or process.
Every figure draws arrays it is given (the analysis results' force traces, pen path and
IMU window); nothing here reads a recording or processes a signal.
Forces are stored in newtons and shown in kilograms-force (1 kgf = 9.80665 N),
the unit therapists read on a Jamar dial.
"""

from __future__ import annotations

import datetime as _dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..units import KGF_N

HAND_COLORS = {"right": "#1f5f8b", "left": "#c0622b", "n/a": "#4a5866"}
_STYLE: dict[Any, Any] = {  # matplotlib rcParams
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e8ee",
    "grid.linewidth": 0.6,
    "font.family": "DejaVu Sans",
}
DPI = 130


def to_png(fig: Figure, dpi: int = DPI) -> bytes:
    """PNG bytes of a figure (Agg)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": "motorlab"})
    return buf.getvalue()


def _figure(w: float, h: float) -> Figure:
    return Figure(figsize=(w, h), layout="constrained")


@dataclass(frozen=True)
class TrialSpan:
    """One trial on a force curve: its time span (s), hand, number, validity and peak (kgf)."""

    start_s: float
    end_s: float
    hand: str
    trial: int | str
    invalid: bool
    peak_kgf: float


def force_curves_png(t_s: np.ndarray, force_n: np.ndarray, trials: Sequence[TrialSpan] = ()) -> bytes:
    """Force (kg) against time (s) with each trial shaded and labelled (R1, L2…) with its peak."""
    with matplotlib.rc_context(_STYLE):
        fig = _figure(7.0, 2.6)
        ax = fig.add_subplot()
        f = np.asarray(force_n, dtype=float) / KGF_N
        ax.plot(t_s, f, color="#34414f", lw=0.9)
        top = float(np.nanmax(f)) if np.isfinite(f).any() else 1.0
        for tr in trials:
            color = "#9aa5b1" if tr.invalid else HAND_COLORS.get(tr.hand, HAND_COLORS["n/a"])
            ax.axvspan(tr.start_s, tr.end_s, color=color, alpha=0.10, lw=0)
            label = f"{tr.hand[:1].upper()}{tr.trial}" + (" (invalid)" if tr.invalid else "")
            if np.isfinite(tr.peak_kgf):
                label += f"\n{tr.peak_kgf:.1f} kg"
            ax.text(
                tr.start_s + 0.02 * max(tr.end_s - tr.start_s, 1e-9),
                top * 1.02,
                label,
                color=color,
                fontsize=7.5,
                va="bottom",
            )
        ax.set_ylim(
            bottom=min(0.0, float(np.nanmin(f)) if np.isfinite(f).any() else 0.0), top=top * 1.25 + 0.5
        )
        ax.set_xlabel("time (s)")
        ax.set_ylabel("force (kg)")
        return to_png(fig)


def pen_trace_png(pos_cm: np.ndarray, pen_down: np.ndarray, title: str = "") -> bytes:
    """The pen-tip path (cm) where ``pen_down`` is true; lifts and gaps leave breaks."""
    xy = np.where(np.asarray(pen_down, dtype=bool)[:, None], np.asarray(pos_cm, dtype=float), np.nan)
    with matplotlib.rc_context(_STYLE):
        fig = _figure(4.2, 3.6)
        ax = fig.add_subplot()
        ax.plot(xy[:, 0], xy[:, 1], color="#1f5f8b", lw=0.9)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("x (cm)")
        ax.set_ylabel("y (cm)")
        if title:
            ax.set_title(title)
        return to_png(fig)


def tremor_trace_png(
    t_s: np.ndarray, acc_ms2: np.ndarray, names: Sequence[str], seconds: float = 4.0
) -> bytes:
    """The first ``seconds`` of the analysed hold: acceleration minus its mean per axis (m/s²)."""
    t = np.asarray(t_s, dtype=float)
    t0 = float(t[0]) if t.size else 0.0
    keep = (t >= t0) & (t < t0 + seconds)
    acc = np.asarray(acc_ms2, dtype=float).reshape(t.size, -1)
    with matplotlib.rc_context(_STYLE):
        fig = _figure(7.0, 2.2)
        ax = fig.add_subplot()
        for j, (name, color) in enumerate(zip(names, ("#1f5f8b", "#c0622b", "#4d8f5b"))):
            x = acc[keep, j]
            ax.plot(t[keep] - t0, x - np.nanmean(x), lw=0.8, color=color, label=name)
        ax.set_xlabel("time from trial start (s)")
        ax.set_ylabel("acceleration (m/s²)")
        ax.legend(loc="upper right", ncols=3, frameon=False)
        return to_png(fig)


@dataclass(frozen=True)
class ProgressPoint:
    """One session's value of a metric."""

    session: str
    date: _dt.date | None
    value: float


@dataclass(frozen=True)
class ProgressChart:
    """A progress chart's PNG and the y-axis limits it was drawn with (metric units)."""

    png: bytes
    ylim: tuple[float, float]


def progress_axis(
    series: Mapping[str, Sequence[ProgressPoint]],
    bands: Mapping[str, float | None],
    chart_max: float | None,
) -> tuple[float, float]:
    """The fixed y-axis of a progress chart: from 0 to the measure's clinically meaningful
    maximum, raised only when a value or a noise band lies above it (1.3 x the largest
    value when the measure has no fixed maximum)."""
    tops = [p.value for pts in series.values() for p in pts]
    tops += [pts[0].value + b for h, pts in series.items() if pts and (b := bands.get(h)) is not None]
    highest = max(tops, default=1.0)
    top = max(chart_max, 1.08 * highest) if chart_max is not None else 1.3 * highest
    lowest = min([p.value for pts in series.values() for p in pts] + [0.0])
    return (1.08 * lowest if lowest < 0 else 0.0, top if top > 0 else 1.0)


def progress_png(
    label: str,
    unit: str,
    series: Mapping[str, Sequence[ProgressPoint]],
    bands: Mapping[str, float | None] | None = None,
    chart_max: float | None = None,
) -> ProgressChart:
    """A metric across sessions, one line per hand, on a fixed axis from 0 (:func:`progress_axis`),
    with the noise band (MDC95 or test-retest band) around each hand's first session.

    Points inside the band are within measurement noise of the baseline.
    """
    bands = bands or {}
    ylim = progress_axis(series, bands, chart_max)
    with matplotlib.rc_context(_STYLE):
        fig = _figure(7.0, 2.4)
        ax = fig.add_subplot()
        use_dates = all(p.date is not None for pts in series.values() for p in pts)
        ticks: dict[Any, str] = {}
        for hand, pts in series.items():
            if not pts:
                continue
            color = HAND_COLORS.get(hand, HAND_COLORS["n/a"])
            xs: list[Any] = [p.date for p in pts] if use_dates else [int(p.session) for p in pts]
            ys = [p.value for p in pts]
            name = f"{hand} hand" if hand != "n/a" else label
            ax.plot(xs, ys, marker="o", color=color, lw=1.4, label=name)
            b, band = ys[0], bands.get(hand)
            if band is not None and np.isfinite(band):
                span = [xs[0], xs[-1]]
                ax.fill_between(span, b - band, b + band, color=color, alpha=0.10, lw=0)
                for edge in (b - band, b + band):
                    ax.plot(span, [edge, edge], color=color, lw=0.7, ls=":")
            for x, p in zip(xs, pts):
                ticks[x] = (
                    f"S{p.session}\n{p.date:%d %b}" if p.date is not None and use_dates else f"S{p.session}"
                )
        order = sorted(ticks)
        ax.set_xticks(order, [ticks[x] for x in order])
        ax.set_xlabel("session")
        ax.set_ylabel(f"{label} ({unit})")
        ax.margins(x=0.06)
        ax.set_ylim(*ylim)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False, ncols=3)
        return ProgressChart(to_png(fig), ylim)


def goals_png(goals: Sequence[tuple[str, int | None, int | None]]) -> bytes:
    """GAS levels per goal: baseline level (hollow) and level reached now (filled), −2…+2."""
    with matplotlib.rc_context(_STYLE):
        fig = _figure(7.0, 0.7 + 0.55 * max(1, len(goals)))
        ax = fig.add_subplot()
        ys = np.arange(len(goals))[::-1]
        for y, (name, start, now) in zip(ys, goals):
            if start is not None:
                ax.plot([start], [y], "o", mfc="white", mec="#5b6775", ms=8)
            if now is not None:
                ax.plot([now], [y], "o", color="#1e7d4f" if now >= 0 else "#c0622b", ms=9)
                if start is not None and start != now:
                    ax.annotate("", (now, y), (start, y), arrowprops={"arrowstyle": "->", "color": "#5b6775"})
        ax.axvline(0, color="#1e7d4f", lw=1, ls="--")
        ax.set_yticks(ys, [g[0] for g in goals])
        ax.set_xticks(
            [-2, -1, 0, 1, 2], ["−2\nmuch less", "−1\nless", "0\nexpected", "+1\nmore", "+2\nmuch more"]
        )
        ax.set_xlim(-2.5, 2.5)
        ax.set_ylim(-0.6, len(goals) - 0.4)
        ax.grid(axis="y", visible=False)
        return to_png(fig)
