"""Printing helpers shared by commands: a recording's metrics as readable terminal text.

:func:`print_recording_summary` shows what a therapist reads after a task: per-trial tables
and per-hand lines with units (kg for force, as in the reports), no raw ``snake_case``
keys, no rows of ``nan``, at most :data:`WIDTH` characters wide. Sustained grip shows the
fatigue index and hold CV; tremor says "no tremor detected" instead of a frequency when no
tremor was detected. :func:`print_rows` prints any metric rows as a plain table.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ..analysis.results import RecordingMetrics

#: the widest summary line
WIDTH = 100
#: identity and bookkeeping columns never shown as metrics
_SKIP = {
    "participant",
    "session",
    "task",
    "tracksys",
    "row",
    "trial",
    "hand",
    "status",
    "quality_flags",
    "position_source",
    "pen_down_source",
    "tremor_hints",
    "tremor_note",
    "gyro_tremor_note",
}
#: key suffix -> unit shown (longest first)
_UNITS = (
    ("_m2_per_s4", "m²/s⁴"),
    ("_deg2_per_s2", "deg²/s²"),
    ("_cm_per_s", "cm/s"),
    ("_cm_per_rad", "cm/rad"),
    ("_N_per_s", "N/s"),
    ("_m_per_s2", "m/s²"),
    ("_deg_per_s", "deg/s"),
    ("_per_min", "/min"),
    ("_cm2", "cm²"),
    ("_kgf", "kg"),
    ("_pct", "%"),
    ("_Hz", "Hz"),
    ("_cm", "cm"),
    ("_mm", "mm"),
    ("_deg", "deg"),
    ("_N", "N"),
    ("_s", "s"),
)
_WORDS = {
    "niv": "velocity peaks per stroke",
    "tsi": "tremor stability index",
    "rfd": "rate of force development",
}


def label(key: str) -> str:
    """``writing_speed_cm_per_s`` -> ``writing speed (cm/s)``; ``peak_force_kgf`` -> ``peak force (kg)``."""
    unit = ""
    for suffix, shown in _UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            key, unit = key[: -len(suffix)], shown
            break
    words = " ".join(_WORDS.get(w, w) for w in key.split("_"))
    words = re.sub(r"\b(\d+) (\d+)ms\b", r"\1–\2 ms", words)
    return f"{words} ({unit})" if unit else words


def _shown(v: Any) -> bool:
    if v is None or (isinstance(v, str) and not v.strip()):
        return False
    if isinstance(v, float) and not math.isfinite(v):
        return False
    return not isinstance(v, (list, dict, tuple))


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}" if abs(v) < 1e5 else f"{v:.3e}"
    return str(v)


def _kg(v: float) -> str:
    return f"{v:.1f} kg" if math.isfinite(v) else "-"


def print_recording_summary(result: Any, console: Console) -> None:
    """Where the recording went and the task metrics computed from it."""
    from ..analysis.recording_metrics import analyze_recording
    from ..storage.bids import read_recording

    console.print(f"[bold]saved[/bold] {result.path}")
    console.print(
        f"{result.n_samples} samples, {result.dropped_samples} dropped, {result.gaps} link gaps, "
        f"calibration {result.calibration_id}"
    )
    with warnings.catch_warnings():  # what the warnings say is in the quality flags
        warnings.simplefilter("ignore")
        metrics = analyze_recording(read_recording(result.path))
    print_task_summary(metrics, console)


def print_task_summary(m: RecordingMetrics, console: Console) -> None:
    """The typed metrics of one recording as readable text (see the module docstring)."""
    from ..clinic.dataset import GRIP_NORMS_FILE
    from ..units import newton_to_kgf

    ident = m.identity
    title = f"{ident.participant} session {ident.session}: {ident.task}"
    if m.grip is not None:
        t = _table(f"{title} — trials", "trial", "hand", "status", "peak (kg)", "time to peak (s)")
        for tr in m.grip.trials:
            r = tr.result
            t.add_row(str(tr.trial), tr.hand, tr.status, _kg(r.peak_force_kgf), _fmt(r.time_to_peak_s))
        console.print(t)
        for hs in m.grip.summaries:
            s = hs.summary
            console.print(
                f"{hs.hand} hand: mean of {s.n_used} valid = {_kg(s.mean_of_3_kgf)}, best {_kg(s.best_kgf)}"
                + (f", between-trial CV {s.cv_pct:.1f} %" if math.isfinite(s.cv_pct) else "")
            )
            n = hs.norm
            if n is not None and math.isfinite(n.z):
                console.print(
                    f"  norm ({n.source}, {n.age_band}): mean {n.norm_mean_kg:.1f} kg, "
                    f"{n.pct_of_norm:.0f} % of the mean, z {n.z:+.1f}"
                    + (
                        " [yellow](norms are means of 3 trials; fewer were valid)[/yellow]"
                        if s.n_used < 3
                        else ""
                    )
                )
            elif n is not None:
                console.print(
                    f"  no norm for this age in the table used (a clinic can add one: {GRIP_NORMS_FILE})"
                )
        if m.grip.bilateral is not None and math.isfinite(m.grip.bilateral.ratio):
            console.print(
                f"dominant ({m.grip.bilateral.dominant_hand}) / non-dominant: {m.grip.bilateral.ratio:.2f}"
            )
    elif m.gripsustained is not None:
        t = _table(
            title,
            "hand",
            "status",
            "peak (kg)",
            "mean hold (kg)",
            "fatigue index (%)",
            "hold CV (%)",
            "hold (s)",
        )
        for st in m.gripsustained.trials:
            sr = st.result
            t.add_row(
                st.hand,
                st.status,
                _kg(newton_to_kgf(sr.peak_force_N)),
                _kg(newton_to_kgf(sr.mean_force_N)),
                _fmt(sr.fatigue_index_pct),
                _fmt(sr.hold_cv_pct),
                _fmt(sr.hold_duration_s),
            )
        console.print(t)
    elif m.pinch is not None:
        t = _table(title, "grip", "hand", "mean (kg)", "best (kg)", "trials used", "CV (%)")
        for ps in m.pinch.summaries:
            s = ps.summary
            t.add_row(
                ps.grip,
                ps.hand,
                _kg(s.mean_of_3_kgf),
                _kg(s.best_kgf),
                f"{s.n_used} of {s.n_trials}",
                _fmt(s.cv_pct),
            )
        console.print(t)
        if m.pinch.summaries:
            console.print(f"[dim]{m.pinch.summaries[0].norm_note}[/dim]")
    elif m.tremor is not None:
        _print_tremor(m, title, console)
    else:
        for row in m.to_rows():
            _print_metric_list(row, title, console)
    for flag in m.quality:
        if flag.name == "grip_trial" and _about_unused_trial(flag.message, m):
            continue  # an invalid or repeated attempt without a squeeze: nothing to report
        console.print(f"[yellow]note: {flag.message}[/yellow]")


def _about_unused_trial(message: str, m: RecordingMetrics) -> bool:
    """The flag names a trial ("trial 2 (left): …") none of whose valid attempts it can be about."""
    found = re.match(r"(?:\w+ pinch )?trial (\S+) \((\w+)\)", message)
    if not found:
        return False
    trial, hand = found.groups()
    part = m.grip or m.pinch
    trials = part.trials if part is not None else ()
    same = [t for t in trials if str(t.trial) == trial and t.hand == hand]
    return bool(same) and all(t.status != "valid" or math.isfinite(t.result.peak_force_N) for t in same)


def _print_tremor(m: RecordingMetrics, title: str, console: Console) -> None:
    tr = m.tremor
    assert tr is not None
    for name, res, unit in (
        ("accelerometer", tr.accelerometer, "m/s²"),
        ("gyroscope", tr.gyroscope, "deg/s"),
    ):
        if res is None:
            continue
        if res.tremor_detected:
            console.print(
                f"{title} ({name}): tremor at {res.peak_freq_Hz:.1f} Hz, RMS {res.rms:.3g} {unit}"
                + (
                    f", about {res.displacement_rms_cm:.2g} cm"
                    if math.isfinite(getattr(res, "displacement_rms_cm", math.nan))
                    else ""
                )
            )
        else:
            console.print(f"{title} ({name}): no tremor detected" + (f" ({res.note})" if res.note else ""))
    if tr.position is not None:
        q = tr.position
        text = (
            f"tremor at {q.peak_freq_Hz:.1f} Hz, RMS {q.rms:.3g} cm"
            if q.tremor_detected
            else "no tremor detected"
        )
        console.print(f"{title} (pen position): {text}")


def _table(title: str, *heads: str) -> Table:
    t = Table(title=title, width=min(WIDTH, 16 * len(heads)))
    for i, h in enumerate(heads):
        t.add_column(h, justify="left" if i == 0 else "right")
    return t


def _print_metric_list(row: dict[str, Any], title: str, console: Console) -> None:
    t = Table(title=f"{title} ({row.get('hand', '')} hand, {row.get('status', '')})", width=72)
    t.add_column("measure")
    t.add_column("value", justify="right")
    no_tremor = row.get("tremor_detected") is False
    no_norm = "norm_z" in row and not _shown(row["norm_z"])
    for k, v in row.items():
        if k in _SKIP or not _shown(v) or (no_tremor and k.startswith("tremor_")):
            continue
        if no_norm and k.startswith("norm_"):
            continue  # never a norm source next to nan: one line says why there is none
        t.add_row(label(k), _fmt(v))
    if no_tremor:
        t.add_row("tremor", "no tremor detected")
    if no_norm:
        t.add_row("norm", "none for this age, sex and hand")
    console.print(t)


def print_metrics(rows: list[dict], console: Console) -> None:
    """Metric rows (of any task) as readable measure/value tables, NaN left out."""
    if not rows:
        console.print("no metrics")
        return
    first = rows[0]
    title = " ".join(str(first[k]) for k in ("participant", "session", "task") if k in first)
    for r in rows:
        _print_metric_list(r, title, console)


def print_rows(
    rows: list[dict], console: Console, title: str | None = None, columns: list[str] | None = None
) -> None:
    if not rows:
        console.print("no metrics")
        return
    cols = columns or [k for k in rows[0] if not isinstance(rows[0][k], (list, dict))]
    table = Table(title=title)
    for c in cols:
        table.add_column(c, justify="right" if isinstance(rows[0].get(c), (int, float)) else "left")
    for r in rows:
        table.add_row(*[_fmt(r.get(c)) for c in cols])
    console.print(table)
