"""Assemble a client's session report (numbers, figures, words) and write HTML + PDF.

The numbers come from :mod:`motorlab.analysis` (per-recording typed metrics, grip
norms, MDC95, progress series, GAS T-score) and the figures draw the arrays those
metrics were computed from (force traces, pen path, IMU window): the report never
re-reads a recording or processes a signal. This module only chooses what to show and
puts it into a :class:`~motorlab.report.document.Document`, which
:mod:`motorlab.report.html` and :mod:`motorlab.report.pdf` render identically.

Files: ``derivatives/motorlab/sub-<ID>/sub-<ID>_ses-<N>_report.html`` and ``.pdf``.
"""

from __future__ import annotations

import datetime as _dt
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..atomic import atomic_write_text
from ..clinic.clients import Client, ClientRegistry
from ..clinic.dataset import clinic_grip_norms_path, derivatives_dir
from ..clinic.goals import Goal, GoalStore, attained_level
from ..clinic.history import SessionInfo, client_sessions, find_session
from ..clinic.measurements import SessionMeasurements, measure_session
from ..clinic.metric_catalog import GOAL_METRICS, GoalMetric, goal_metric
from ..errors import MotorlabError
from ..units import newton_to_kgf
from . import figures, wording
from .document import Document, Facts, Figure, Paragraph, Section, Subheading, Table

if TYPE_CHECKING:
    from ..analysis.norms import GripNormTable, NormResult
    from ..analysis.results import GripMetrics, RecordingMetrics, SustainedGripMetrics

TASK_TITLES = {
    "grip": "Grip strength",
    "gripsustained": "Sustained grip",
    "handwriting": "Handwriting",
    "spiral": "Spiral drawing",
    "tremorrest": "Tremor at rest",
    "tremorpostural": "Tremor with arms held out",
}

SECTION_TITLES = {
    "overview": "Client and session",
    "results": "Results of this session",
    "traces": "Force curves and pen traces",
    "change": "Change since last session and since baseline",
    "progress": "Progress across sessions",
    "goals": "Goal attainment",
    "methods": "Methods and sources",
}


# ----------------------------------------------------------------------- numbers
@dataclass
class MetricLine:
    """One metric of one hand in the reported session, with norm and change."""

    metric: GoalMetric
    hand: str
    value: float | None
    n_trials: int = 0
    norm: NormResult | None = None
    previous: float | None = None
    previous_session: str | None = None
    baseline: float | None = None
    baseline_session: str | None = None
    mdc: float | None = None
    mdc_source: str = ""

    @property
    def change_previous(self) -> float | None:
        return _diff(self.value, self.previous)

    @property
    def change_baseline(self) -> float | None:
        return _diff(self.value, self.baseline)

    def real(self, change: float | None) -> bool | None:
        """True when |change| exceeds the MDC95, None when either is unknown."""
        if change is None or self.mdc is None or not math.isfinite(self.mdc):
            return None
        return abs(change) > self.mdc


@dataclass
class GoalScore:
    """A goal scored at the reported session."""

    goal: Goal
    value: float | None
    level: int | None
    baseline_level: int | None


@dataclass
class ReportData:
    """Everything the report shows, for renderers and tests."""

    client: Client
    session: SessionInfo
    sessions: list[SessionInfo]  # up to and including the reported one
    measurements: list[SessionMeasurements]
    lines: list[MetricLine] = field(default_factory=list)
    goals: list[GoalScore] = field(default_factory=list)
    gas_tscore: float | None = None
    age: int | None = None
    norms_table: GripNormTable | None = None  # the clinic's own grip norms table, if any

    @property
    def current(self) -> SessionMeasurements:
        return self.measurements[-1]

    def line(self, metric: str, hand: str = "n/a") -> MetricLine:
        for ln in self.lines:
            if ln.metric.key == metric and ln.hand == hand:
                return ln
        raise KeyError((metric, hand))


@dataclass
class ReportFiles:
    html: Path
    pdf: Path
    data: ReportData
    document: Document


def _diff(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return None
    return a - b


def _mdc_for(metric: GoalMetric, baseline: float | None) -> tuple[float | None, str]:
    """MDC95 in the metric's unit and its source (None where no published value is known)."""
    from ..analysis.goals import GRIP_MDC_SOURCE, grip_mdc95_kg

    if metric.key == "grip_strength_kgf" and baseline is not None:
        return grip_mdc95_kg(baseline), GRIP_MDC_SOURCE
    return None, ""


def _norm_for(
    metric: GoalMetric,
    hand: str,
    value: float | None,
    client: Client,
    age: int | None,
    table: GripNormTable | None = None,
) -> NormResult | None:
    from ..analysis.norms import grip_norms

    if metric.key != "grip_strength_kgf" or value is None or age is None:
        return None
    return grip_norms(value, age, client.sex, hand, table)


def _clinic_norms(root: Path) -> GripNormTable | None:
    """The clinic's own grip norms table (``code/motorlab/grip_norms.csv``), or None."""
    from ..analysis.norms import read_grip_norm_table

    path = clinic_grip_norms_path(root)
    return read_grip_norm_table(path) if path.exists() else None


def collect(root: str | Path, participant: str, session: str | int | None = None) -> ReportData:
    """Analyse the client's sessions up to ``session`` (default: the latest) and score goals."""
    root = Path(root)
    client = ClientRegistry(root).get(participant)
    all_sessions = client_sessions(root, client.participant)
    if not all_sessions:
        raise MotorlabError(
            f"{root / ('sub-' + client.participant)}: no sessions recorded for {client.participant} yet"
        )
    chosen = find_session(all_sessions, session)
    sessions = [s for s in all_sessions if s.number <= chosen.number]
    measurements = [measure_session(s) for s in sessions]
    data = ReportData(client, chosen, sessions, measurements)
    data.age = client.age_in(chosen.date.year) if chosen.date else None
    data.norms_table = _clinic_norms(root)
    current = measurements[-1]
    for metric in GOAL_METRICS.values():
        for hand in ("right", "left", "n/a") if metric.per_hand else ("n/a",):
            value = current.value(metric.key, hand)
            if value is None:
                continue
            ln = MetricLine(metric, hand, value, current.n_trials.get((metric.key, hand), 0))
            earlier = [(m.session.label, m.value(metric.key, hand)) for m in measurements[:-1]]
            earlier = [(lab, v) for lab, v in earlier if v is not None]
            if earlier:
                ln.baseline_session, ln.baseline = earlier[0]
                ln.previous_session, ln.previous = earlier[-1]
            ln.mdc, ln.mdc_source = _mdc_for(metric, ln.baseline if ln.baseline is not None else value)
            ln.norm = _norm_for(metric, hand, value, client, data.age, data.norms_table)
            data.lines.append(ln)
    data.goals = score_goals(GoalStore(root, client.participant).load(), measurements)
    scored = [g for g in data.goals if g.level is not None]
    if scored:
        from ..analysis.goals import gas_tscore

        data.gas_tscore = gas_tscore(
            [g.level for g in scored if g.level is not None], [g.goal.weight for g in scored]
        )
    return data


def score_goals(goals: list[Goal], measurements: list[SessionMeasurements]) -> list[GoalScore]:
    """Each goal's GAS level from the latest session that measured its metric (up to the reported one)."""
    out = []
    for g in goals:
        value = None
        for m in reversed(measurements):
            value = m.value(g.metric, g.hand)
            if value is not None:
                break
        out.append(GoalScore(g, value, attained_level(g, value), attained_level(g, g.baseline)))
    return out


# ---------------------------------------------------------------------- document
def _date_text(d: _dt.date | None) -> str:
    return d.strftime("%d %b %Y") if d else "date unknown"


def _hand_text(hand: str) -> str:
    return f"{hand} hand" if hand in ("right", "left") else "–"


def _overview(data: ReportData) -> Section:
    s = Section("overview", SECTION_TITLES["overview"])
    c, ses = data.client, data.session
    devices = sorted({f"{r.device_model} (serial {r.device_serial})" for r in ses.recordings})
    cals = sorted({r.calibration_id for r in ses.recordings} - {"n/a", ""})
    first = data.sessions[0]
    s.add(
        Facts(
            (
                ("Client", c.participant),
                ("Session", f"{ses.label} of {len(data.sessions)}"),
                ("Date", _date_text(ses.date)),
                ("First session", f"{first.label} · {_date_text(first.date)}"),
                ("Age at session", f"{data.age} years" if data.age is not None else "unknown"),
                ("Sex", {"F": "female", "M": "male"}[c.sex]),
                ("Dominant hand", c.dominant_hand),
                ("Tasks", ", ".join(TASK_TITLES.get(t, t) for t in ses.tasks) or "none"),
                ("Device", "; ".join(devices) or "unknown"),
                ("Calibration", ", ".join(cals) if cals else "none recorded"),
                (
                    "Data source",
                    "EMULATED — built-in device emulator (virtual client)"
                    if any(r.emulated for r in ses.recordings)
                    else "device measurements",
                ),
            )
        )
    )
    if any(r.emulated for r in ses.recordings):
        s.add(
            Paragraph(
                "Warning: this session contains emulated data. It was recorded from motorlab's built-in "
                "device emulators driven by a virtual client, not from a real person, and must not be used "
                "for clinical decisions."
            )
        )
    s.add(
        Paragraph(
            f"Age is the session year minus the birth year ({c.birth_year}); it can be one year too high "
            "before the birthday. Only a pseudonymous code identifies the client."
        )
    )
    rows = tuple(
        (
            TASK_TITLES.get(r.task, r.task),
            _hand_text(r.hand) if r.hand != "n/a" else ("both" if "grip" in r.task else "–"),
            f"{r.device_model} {r.device_serial}",
            r.calibration_id,
            r.status,
            r.path.name,
        )
        for r in ses.recordings
    )
    s.add(
        Table(
            ("Task", "Hand", "Device", "Calibration", "Status", "File"),
            rows,
            caption="Recordings of this session (BIDS motion files).",
        )
    )
    return s


def _results(data: ReportData) -> Section:
    s = Section("results", SECTION_TITLES["results"])
    if not data.lines:
        s.add(Paragraph("No task of this session produced a result that the report can show."))
    by_task: dict[str, list[MetricLine]] = {}
    for ln in data.lines:
        by_task.setdefault(ln.metric.task, []).append(ln)
    for task, lines in by_task.items():
        s.add(Subheading(TASK_TITLES.get(task, task)))
        with_norms = any(ln.norm is not None for ln in lines)
        rows: list[tuple[str, ...]] = []
        plain: list[str] = []
        notes: list[str] = []
        for m in {ln.metric.key: ln.metric for ln in lines}.values():
            plain.append(f"{m.label} shows {m.plain}.")
        for ln in lines:
            m, norm = ln.metric, ln.norm
            row: list[str] = [
                m.label,
                _hand_text(ln.hand),
                f"{wording.fmt(ln.value, m)} {m.unit}",
                str(ln.n_trials) if ln.n_trials else "–",
            ]
            if with_norms:
                if norm is not None and math.isfinite(norm.z):
                    row += [
                        f"{norm.norm_mean_kg:.1f} ± {norm.norm_sd_kg:.1f}",
                        f"{norm.z:+.2f}".replace("-", "−"),
                        f"{norm.percentile:.0f}",
                    ]
                    ref = f"{'women' if data.client.sex == 'F' else 'men'} aged {norm.age_band.replace('-', '–')}"
                    plain.append(wording.percentile_sentence(m, ln.hand, norm.percentile, ref))
                else:
                    row += ["no norm", "–", "–"]
                    if norm is not None and norm.note:
                        notes.append(norm.note)
            rows.append(tuple(row))
        cols: tuple[str, ...] = ("Measure", "Hand", "Result", "Trials")
        if with_norms:
            cols += ("Norm mean ± SD", "z", "Percentile")
            plain.append(wording.PERCENTILE_HINT)
        s.add(Table(cols, tuple(rows), caption=_results_caption(task)))
        for note in sorted(set(notes)):
            s.add(Paragraph(f"No comparison with norms: {note}."))
        if task == "grip":
            trials = _trial_table(data)
            if trials is not None:
                s.add(trials)
        s.add(Paragraph(" ".join(plain), plain=True))
    problems = [r.error for r in data.current.results if r.error]
    if problems:
        s.add(Paragraph("Recordings that could not be analysed: " + "; ".join(problems)))
    return s


def _results_caption(task: str) -> str:
    if task == "grip":
        return (
            "Grip strength is the mean of the valid trials in kilograms-force (1 kg = 9.80665 N). "
            "Norms: Mathiowetz et al. 1985 (Jamar, mean of three trials); percentile assumes a normal "
            "distribution within the age band."
        )
    return (
        "No published normative table is built in for this task; values are compared with earlier sessions."
    )


def _trial_table(data: ReportData) -> Table | None:
    rows = []
    for res in data.current.results_of("grip"):
        if res.metrics is None or res.metrics.grip is None:
            continue
        for tr in res.metrics.grip.trials:
            g = tr.result
            rows.append(
                (
                    f"{tr.hand or '–'} {tr.trial}",
                    tr.status,
                    _num(g.peak_force_kgf, 1, "kg"),
                    _num(g.peak_force_N, 0, "N"),
                    _num(g.time_to_peak_s, 2, "s"),
                    _num(g.rfd_0_100ms_N_per_s, 0, "N/s"),
                )
            )
    if not rows:
        return None
    return Table(
        ("Trial", "Status", "Peak (kg)", "Peak (N)", "Time to peak", "RFD 0–100 ms"),
        tuple(rows),
        caption="Every grip trial; invalid trials are listed but left out of the mean. RFD = rate of "
        "force development over the first 100 ms after onset.",
    )


def _num(v: float | None, decimals: int, unit: str) -> str:
    if not isinstance(v, (int, float)) or not math.isfinite(v):
        return "–"
    return f"{v:.{decimals}f} {unit}".replace("-", "−")


PEN_SOURCES = {"position": "measured position", "imu": "reconstructed from the pen's motion sensor"}


def _trial_spans(force: GripMetrics | SustainedGripMetrics) -> list[figures.TrialSpan]:
    """The trials of a grip or sustained-grip result as labelled spans of its force curve."""
    spans = []
    for tr in force.trials:
        if tr.t_s.size == 0:
            continue
        step = float(tr.t_s[1] - tr.t_s[0]) if tr.t_s.size > 1 else 0.0
        spans.append(
            figures.TrialSpan(
                float(tr.t_s[0]),
                float(tr.t_s[-1]) + step,
                tr.hand,
                tr.trial,
                tr.status == "invalid",
                newton_to_kgf(tr.result.peak_force_N),
            )
        )
    return spans


def _trace_figure(m: RecordingMetrics, title: str) -> Figure | None:
    """The figure of one recording's analysed signal (None when its task has none)."""
    force = m.grip or m.gripsustained
    if force is not None:
        return Figure(
            figures.force_curves_png(force.t_s, force.force_n, _trial_spans(force)),
            f"{title}: force over time; shaded bands are "
            "the trials (R = right hand, L = left hand) with each trial's peak.",
            f"{title} force curve",
        )
    pen = m.handwriting.pen if m.handwriting else m.spiral.pen if m.spiral else None
    if pen is not None:
        return Figure(
            figures.pen_trace_png(pen.pos_cm, pen.pen_down, title),
            f"{title}: the pen-tip path on the paper (cm, {PEN_SOURCES[pen.source]}); "
            "gaps are pen lifts or lost samples.",
            f"{title} pen trace",
            width_in=4.2,
            height_in=3.6,
        )
    if m.tremor is not None and m.tremor.acc_ms2 is not None:
        return Figure(
            figures.tremor_trace_png(m.tremor.t_s, m.tremor.acc_ms2, m.tremor.acc_channels),
            f"{title}: the first seconds of hand acceleration (mean removed); regular waves are tremor.",
            f"{title} acceleration trace",
        )
    return None


def _ink_figure(m: RecordingMetrics, title: str) -> Figure | None:
    """The writing as drawn, ink coloured by speed (tablet and browser pen tasks; report/ink.py)."""
    from .ink import ink_figure

    pen = m.handwriting.pen if m.handwriting else m.spiral.pen if m.spiral else None
    return ink_figure(pen, title) if pen is not None else None


def _traces(data: ReportData) -> Section:
    s = Section("traces", SECTION_TITLES["traces"])
    shown = 0
    for res in data.current.results:
        if res.metrics is None:
            continue
        task = res.info.task
        fig = _trace_figure(res.metrics, TASK_TITLES.get(task, task))
        if fig is not None:
            s.add(fig)
            shown += 1
        ink_fig = _ink_figure(res.metrics, TASK_TITLES.get(task, task))
        if ink_fig is not None:
            s.add(ink_fig)
    if not shown:
        s.add(Paragraph("No force or pen recording in this session."))
    else:
        s.add(Paragraph("The pictures show the raw measurements the numbers were taken from.", plain=True))
    return s


def _change(data: ReportData) -> Section:
    s = Section("change", SECTION_TITLES["change"])
    rows: list[tuple[str, ...]] = []
    emph: list[int] = []
    plain: list[str] = []
    for ln in data.lines:
        m = ln.metric
        if ln.previous is None:
            continue
        verdicts = []
        for ch in (ln.change_previous, ln.change_baseline):
            real = ln.real(ch)
            verdicts.append("–" if real is None else "real change" if real else "within noise")
        if "real change" in verdicts:
            emph.append(len(rows))
        rows.append(
            (
                m.label,
                _hand_text(ln.hand),
                f"{wording.fmt(ln.baseline, m)} (S{ln.baseline_session})",
                f"{wording.fmt(ln.previous, m)} (S{ln.previous_session})",
                f"{wording.fmt(ln.value, m)} (S{data.session.label})",
                f"{wording.fmt(ln.change_previous, m, signed=True)} {m.unit}",
                f"{wording.fmt(ln.change_baseline, m, signed=True)} {m.unit}",
                f"±{wording.fmt(ln.mdc, m)} {m.unit}" if ln.mdc is not None else "not known",
                " / ".join(verdicts) if ln.mdc is not None else "MDC not known",
            )
        )
        when = _date_text(_session_date(data, ln.previous_session))
        plain.append(
            wording.change_sentence(
                m,
                ln.hand,
                ln.change_previous,
                ln.change_baseline,
                ln.mdc,
                when,
                two_steps=ln.baseline_session != ln.previous_session,
            )
        )
    if not rows:
        s.add(
            Paragraph(
                "This is the first session with these measurements, so there is nothing to compare yet."
            )
        )
        return s
    sources = "; ".join(sorted({ln.mdc_source for ln in data.lines if ln.mdc_source}))
    s.add(
        Table(
            (
                "Measure",
                "Hand",
                "Baseline",
                "Previous",
                "Now",
                "Since previous",
                "Since baseline",
                "MDC95",
                "Verdict (previous / baseline)",
            ),
            tuple(rows),
            caption="A change counts as real only when it is larger than the minimal detectable change "
            "(MDC95); smaller changes can come from normal day-to-day variation. Highlighted rows "
            "show a real change." + (f" MDC95 source: {sources}." if sources else ""),
            emphasis=tuple(emph),
        )
    )
    for text in plain:
        s.add(Paragraph(text, plain=True))
    return s


def _session_date(data: ReportData, label: str | None) -> _dt.date | None:
    for ses in data.sessions:
        if ses.label == label:
            return ses.date
    return None


def _progress(data: ReportData) -> Section:
    from ..analysis.goals import progress_series

    s = Section("progress", SECTION_TITLES["progress"])
    charts = 0
    shown = {ln.metric.key for ln in data.lines}
    for metric in GOAL_METRICS.values():
        if metric.key not in shown:
            continue
        series: dict[str, list[figures.ProgressPoint]] = {}
        for hand in ("right", "left", "n/a") if metric.per_hand else ("n/a",):
            pts = [
                figures.ProgressPoint(m.session.label, m.session.date, v)
                for m in data.measurements
                if (v := m.value(metric.key, hand)) is not None
            ]
            if pts:
                series[hand] = pts
        if not series or max(len(p) for p in series.values()) < 2:
            continue
        mdcs = {hand: _mdc_for(metric, pts[0].value)[0] for hand, pts in series.items()}
        known = [v for v in mdcs.values() if v is not None]
        mdc = max(known) if known else None
        base = {hand: pts[0].value for hand, pts in series.items()}
        caption = (
            f"{metric.label} at every session. Shaded bands: first session ± MDC95; points inside a band "
            "are within measurement noise of the first session."
            if mdc is not None
            else f"{metric.label} at every session (no MDC95 is known for this measure)."
        )
        s.add(
            Figure(
                figures.progress_png(metric.label, metric.unit, series, mdc, base),
                caption,
                f"{metric.label} across sessions",
                height_in=2.4,
            )
        )
        words = []
        for hand, pts in series.items():
            if len(pts) < 2:
                continue
            prog = progress_series(
                [p.value for p in pts],
                [p.session for p in pts],
                mdc=mdcs[hand] if mdcs[hand] is not None else math.inf,
                higher_is_better=metric.higher_is_better,
            )
            what = f"{_hand_text(hand)}" if hand != "n/a" else metric.label.lower()
            first, last = prog[0], prog[-1]
            trend = (
                f"from {wording.fmt(first.value, metric)} to {wording.fmt(last.value, metric)} {metric.unit} "
                f"over {len(prog)} sessions"
            )
            if mdcs[hand] is None:
                words.append(f"{what.capitalize()}: {trend}.")
            else:
                words.append(
                    f"{what.capitalize()}: {trend} – {last.direction} compared with the first session."
                )
        s.add(Paragraph(f"{metric.label}. " + " ".join(words), plain=True))
        charts += 1
    if not charts:
        s.add(
            Paragraph("The progress charts appear once a measure has been recorded in two or more sessions.")
        )
    return s


def _goals(data: ReportData) -> Section:
    s = Section("goals", SECTION_TITLES["goals"])
    if not data.goals:
        s.add(
            Paragraph(
                f"No goals have been set. Goals can be written with "
                f"'motorlab goals set {data.client.participant}'."
            )
        )
        return s
    rows = []
    for gs in data.goals:
        g, m = gs.goal, goal_metric(gs.goal.metric)
        lvl = ("0" if gs.level == 0 else f"{gs.level:+d}".replace("-", "−")) if gs.level is not None else "–"
        rows.append(
            (
                g.goal_id,
                g.title,
                f"{m.label}{', ' + g.hand + ' hand' if g.hand != 'n/a' else ''}",
                f"{wording.fmt(g.baseline, m)} {m.unit}",
                f"{wording.fmt(g.level(0).threshold, m)} {m.unit}",
                f"{wording.fmt(gs.value, m)} {m.unit}" if gs.value is not None else "not measured",
                lvl,
                wording.level_sentence(gs.level),
                f"{g.weight:g}",
                g.target_date or "–",
            )
        )
    s.add(
        Table(
            (
                "Goal",
                "Description",
                "Measure",
                "Baseline",
                "Expected (0)",
                "Now",
                "Level",
                "Meaning",
                "Weight",
                "Target date",
            ),
            tuple(rows),
            caption="Levels: −2 much less than expected, −1 somewhat less, 0 expected outcome, +1 somewhat "
            "more, +2 much more. A value scores the highest level whose threshold it reaches.",
        )
    )
    scored = [gs for gs in data.goals if gs.level is not None]
    if scored:
        labels = [textwrap.fill(f"{gs.goal.goal_id}: {gs.goal.title}", 34) for gs in data.goals]
        s.add(
            Figure(
                figures.goals_png(
                    [(label, gs.baseline_level, gs.level) for label, gs in zip(labels, data.goals)]
                ),
                "Goal levels: hollow circle = level at baseline, filled circle = level now.",
                "Goal attainment levels",
                height_in=0.6 + 0.45 * len(data.goals),
            )
        )
    t = data.gas_tscore
    s.add(
        Paragraph(
            f"GAS T-score: {t:.1f} over {len(scored)} scored goal(s) (Kiresuk & Sherman 1968; inter-goal "
            "correlation 0.3, weights as set)."
            if t is not None
            else "GAS T-score: not available (no goal measured)."
        )
    )
    s.add(Paragraph(wording.gas_sentence(t, len(scored)), plain=True))
    return s


def _norms_method(data: ReportData) -> str:
    adult = (
        "Mathiowetz et al. 1985 adult table by age band, sex and hand; z = (value − mean) / SD, "
        "percentile = 100·Φ(z)."
    )
    if data.norms_table is None:
        return (
            "Norms: " + adult + " No pediatric table is included; children's results are shown without norms."
        )
    return (
        f"Norms: the clinic's table ({data.norms_table.source}) where it has a band for the client's age, "
        "sex and hand; otherwise the " + adult
    )


def _methods(data: ReportData) -> Section:
    s = Section("methods", SECTION_TITLES["methods"])
    for text in (
        (
            "Grip: seated, shoulder at the side, elbow bent at 90°, forearm and wrist neutral (ASHT position); "
            "the score is the mean of the valid trials (Mathiowetz et al., Arch Phys Med Rehabil 66:69–74, 1985). "
            "Forces are measured in newtons and shown in kilograms-force (÷ 9.80665)."
        ),
        _norms_method(data),
        (
            "Real change: MDC95 = 1.96·√2·SEM; for grip the published MDC95 of Bai et al. (BMC Musculoskelet "
            "Disord, 2019) is used: 4.9 kg for grip ≤ 20 kg and 5.1 kg above."
        ),
        (
            "Goals: Goal Attainment Scaling, T = 50 + 10·Σwᵢxᵢ / √(0.7·Σwᵢ² + 0.3·(Σwᵢ)²) (Kiresuk & Sherman 1968, "
            "formula as corrected in the erratum to Turner-Stokes, Clin Rehabil 23:362, 2009)."
        ),
        (
            "Tremor: spectral peak and band-limited RMS of the accelerometer; handwriting and spirals from the pen-tip "
            "path and tip force. See the motorlab documentation for every parameter."
        ),
        (
            f"Report made with motorlab {__version__} on {_dt.date.today().isoformat()} from "
            f"{sum(len(x.recordings) for x in data.sessions)} recording(s) in {len(data.sessions)} session(s)."
        ),
    ):
        s.add(Paragraph(text))
    return s


def build_document(data: ReportData) -> Document:
    """The report's sections in order."""
    c = data.client
    doc = Document(
        title=f"Fine-motor report – client {c.participant}",
        subtitle=f"Session {data.session.label}, {_date_text(data.session.date)} · motorlab {__version__}",
        footer=f"motorlab report · client {c.participant} · session {data.session.label} · pseudonymised data",
    )
    doc.sections = [
        _overview(data),
        _results(data),
        _traces(data),
        _change(data),
        _progress(data),
        _goals(data),
        _methods(data),
    ]
    return doc


def report_paths(root: str | Path, participant: str, session_label: str) -> tuple[Path, Path]:
    folder = derivatives_dir(root, participant)
    stem = f"sub-{participant}_ses-{session_label}_report"
    return folder / f"{stem}.html", folder / f"{stem}.pdf"


def build_report(
    root: str | Path, participant: str, session: str | int | None = None, out_dir: str | Path | None = None
) -> ReportFiles:
    """Write the HTML and PDF report of one session; returns the paths and the data shown."""
    from .html import render_html
    from .pdf import render_pdf

    data = collect(root, participant, session)
    doc = build_document(data)
    html_path, pdf_path = report_paths(root, data.client.participant, data.session.label)
    if out_dir is not None:
        html_path, pdf_path = Path(out_dir) / html_path.name, Path(out_dir) / pdf_path.name
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(html_path, render_html(doc))
        render_pdf(doc, pdf_path)
    except OSError as exc:
        raise MotorlabError(
            f"{exc.filename or html_path.parent}: cannot write the report ({exc.strerror or exc})"
        ) from None
    return ReportFiles(html_path, pdf_path, data, doc)
