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
from ..clinic.goals import Goal, GoalStore, attained_level, scored_at
from ..clinic.history import SessionInfo, client_sessions, find_session
from ..clinic.measurements import SessionMeasurements, measure_session
from ..clinic.metric_catalog import GOAL_METRICS, GoalMetric, goal_metric
from ..errors import MotorlabError
from ..units import newton_to_kgf
from . import figures, wording
from .dexterity import DEXTERITY_TITLES, beh_rows, dexterity_caption, dexterity_trial_table
from .document import Document, Facts, Figure, Paragraph, Section, Subheading, Table
from .ink import recording_ink_figure
from .pen_features import feature_table
from .wording import clock_text as _clock
from .wording import date_text as _date_text

if TYPE_CHECKING:
    from ..analysis.norms import GripNormTable, NormResult
    from ..analysis.results import GripMetrics, PinchMetrics, RecordingMetrics, SustainedGripMetrics

TASK_TITLES = {
    "grip": "Grip strength",
    "gripsustained": "Sustained grip",
    "handwriting": "Handwriting",
    "spiral": "Spiral drawing",
    "tremorrest": "Tremor at rest",
    "tremorpostural": "Tremor with arms held out",
    "pinch": "Pinch strength",
    "loops": "Loops (lllll)",
    "tracing": "Line tracing",
    **DEXTERITY_TITLES,
}
#: handwriting-like tasks whose results show the children's handwriting features (report/pen_features.py)
PEN_FEATURE_TASKS = ("handwriting", "loops", "tracing")


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
    mdc_name: str = ""
    no_tremor: bool = False  # a tremor measure recorded this session that found no tremor peak

    @property
    def change_previous(self) -> float | None:
        return _diff(self.value, self.previous)

    @property
    def change_baseline(self) -> float | None:
        return _diff(self.value, self.baseline)

    def real(self, change: float | None) -> bool | None:
        """True when |change| exceeds the noise band (and shows at the displayed precision),
        None when either is unknown."""
        if change is None or self.mdc is None or not math.isfinite(self.mdc):
            return None
        return wording.change_verdict(self.metric, change, self.mdc) in ("improved", "declined")

    def verdict(self, change: float | None) -> str:
        """:func:`wording.change_verdict` of ``change`` with this line's band."""
        return wording.change_verdict(self.metric, change, self.mdc)


@dataclass
class GoalScore:
    """A goal scored at the reported session.

    ``status``: ``scored``; ``baseline`` (the reported session is the goal's baseline or earlier,
    so GAS does not score it yet); ``not measured`` (no session after the baseline measured it);
    ``no tremor detected`` (the latest measurement found no tremor: no score).
    """

    goal: Goal
    value: float | None
    level: int | None
    baseline_level: int | None
    status: str = "scored"
    session: str = ""  # label of the session the value comes from


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
    notes: list[SessionNote] = field(default_factory=list)  # the therapist's notes of the session

    @property
    def goals_at_baseline(self) -> bool:
        """True when goals exist and the reported session is the baseline of every one of them."""
        return bool(self.goals) and all(g.status == "baseline" for g in self.goals)

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
    parent_html: Path | None = None  # the one-page parent summary
    parent_pdf: Path | None = None


def _diff(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return None
    return a - b


def _mdc_for(metric: GoalMetric, baseline: float | None) -> tuple[float | None, str]:
    """The noise band (MDC95 or test-retest band) in the metric's unit at ``baseline`` and its
    source, from the metric catalog (None where no figure is known)."""
    limit = metric.change_limit(baseline)
    return (limit, metric.band.source) if limit is not None and metric.band is not None else (None, "")


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
            no_tremor = current.no_tremor(metric.key, hand)
            if value is None and not no_tremor:
                continue
            ln = MetricLine(metric, hand, value, current.n_trials.get((metric.key, hand), 0))
            ln.no_tremor = no_tremor
            earlier = [(m.session.label, m.value(metric.key, hand)) for m in measurements[:-1]]
            earlier = [(lab, v) for lab, v in earlier if v is not None]
            if earlier:
                ln.baseline_session, ln.baseline = earlier[0]
                ln.previous_session, ln.previous = earlier[-1]
            ln.mdc, ln.mdc_source = _mdc_for(metric, ln.baseline if ln.baseline is not None else value)
            ln.mdc_name = metric.band.name if metric.band is not None and ln.mdc is not None else ""
            ln.norm = _norm_for(metric, hand, value, client, data.age, data.norms_table)
            data.lines.append(ln)
    data.notes = session_notes(chosen)
    data.goals = score_goals(GoalStore(root, client.participant).load(), measurements)
    scored = [g for g in data.goals if g.status == "scored" and g.level is not None]
    if scored:
        from ..analysis.goals import gas_tscore

        data.gas_tscore = gas_tscore(
            [g.level for g in scored if g.level is not None], [g.goal.weight for g in scored]
        )
    return data


def score_goals(goals: list[Goal], measurements: list[SessionMeasurements]) -> list[GoalScore]:
    """Each goal's GAS level from the latest session after its baseline that measured its metric.

    Sessions up to the goal's baseline (:func:`motorlab.clinic.goals.scored_at`) never score it:
    when the reported session is one of them the goal is at ``baseline`` and not interpreted.
    """
    out = []
    for g in goals:
        start = attained_level(g, g.baseline)
        reported = measurements[-1].session
        if not scored_at(g, reported.label, reported.date):
            out.append(GoalScore(g, None, None, start, "baseline"))
            continue
        found: GoalScore | None = None
        for m in reversed(measurements):
            if not scored_at(g, m.session.label, m.session.date):
                break
            value = m.value(g.metric, g.hand)
            if value is not None:
                found = GoalScore(g, value, attained_level(g, value), start, "scored", m.session.label)
                break
            if m.no_tremor(g.metric, g.hand):
                found = GoalScore(g, None, None, start, wording.NO_TREMOR, m.session.label)
                break
        out.append(found or GoalScore(g, None, None, start, "not measured"))
    return out


@dataclass(frozen=True)
class SessionNote:
    """A note the therapist typed during a recording (``MotorlabNotes`` in its sidecar)."""

    task: str
    hand: str
    time_s: float
    text: str


def session_notes(session: SessionInfo) -> list[SessionNote]:
    """The therapist's notes of every recording of the session, in recording order."""
    return [
        SessionNote(r.task, r.hand, t, text)
        for r in session.recordings
        for t, text in r.notes
        if text.strip()
    ] + [SessionNote(b.task, "n/a", t, text) for b in session.beh for t, text in b.notes if text.strip()]


# ---------------------------------------------------------------------- document
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
                ("Device", "; ".join(devices) or ("none (tasks timed or counted)" if ses.beh else "unknown")),
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
    ) + beh_rows(ses)
    s.add(
        Table(
            ("Task", "Hand", "Device", "Calibration", "Status", "File"),
            rows,
            caption="Recordings of this session (BIDS motion files"
            + (" and behavioural files of the dexterity tasks)." if ses.beh else ")."),
        )
    )
    if data.notes:
        s.add(Subheading("Session notes"))
        s.add(
            Table(
                ("Task", "Hand", "Time", "Note"),
                tuple(
                    (TASK_TITLES.get(n.task, n.task), _hand_text(n.hand), _clock(n.time_s), n.text)
                    for n in data.notes
                ),
                caption="Notes the therapist typed during the recordings (time from the recording's start).",
            )
        )
    return s


def _results(data: ReportData) -> Section:
    s = Section("results", SECTION_TITLES["results"])
    if not data.lines and not any(feature_table(data.current.results_of(t)) for t in PEN_FEATURE_TASKS):
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
        percentiles = False
        for ln in lines:
            m, norm = ln.metric, ln.norm
            result = wording.NO_TREMOR if ln.no_tremor else f"{wording.fmt(ln.value, m)} {m.unit}"
            row: list[str] = [m.label, _hand_text(ln.hand), result, str(ln.n_trials) if ln.n_trials else "–"]
            if ln.no_tremor:
                plain.append(wording.no_tremor_sentence(m, ln.hand))
            if with_norms:
                if norm is not None and math.isfinite(norm.z):
                    row += [
                        f"{norm.norm_mean_kg:.1f} ± {norm.norm_sd_kg:.1f}",
                        f"{norm.z:+.2f}".replace("-", "−"),
                        f"{norm.percentile:.0f}",
                    ]
                    ref = wording.reference_group(data.client.sex, data.age, norm.age_band)
                    plain.append(wording.percentile_sentence(m, ln.hand, norm.percentile, ref))
                    percentiles = True
                    caveat = wording.fewer_trials_caveat(ln.n_trials, m.trials_in_norm)
                    if caveat:
                        plain.append(caveat)
                        notes.append(f"{_hand_text(ln.hand).capitalize()}: {caveat}")
                else:
                    row += ["no norm", "–", "–"]
            rows.append(tuple(row))
        cols: tuple[str, ...] = ("Measure", "Hand", "Result", "Trials")
        if with_norms:
            cols += ("Norm mean ± SD", "z", "Percentile")
        s.add(Table(cols, tuple(rows), caption=_results_caption(task, lines)))
        for note in notes:
            s.add(Paragraph(note))
        missing = [ln for ln in lines if ln.norm is not None and not math.isfinite(ln.norm.z)]
        if missing:
            plain.append(_no_norm_words(data))
        if percentiles:
            plain.append(wording.PERCENTILE_HINT)
        if task == "grip":
            trials = _trial_table(data)
            if trials is not None:
                s.add(trials)
        if task in PEN_FEATURE_TASKS:
            feats = feature_table(data.current.results_of(task))
            if feats is not None:
                s.add(feats)
        if task in DEXTERITY_TITLES:
            dex = dexterity_trial_table(data.current, task)
            if dex is not None:
                s.add(dex)
        s.add(Paragraph(" ".join(plain), plain=True))
    for task in PEN_FEATURE_TASKS:  # pen tasks without a catalog measure: their features only
        feats = feature_table(data.current.results_of(task)) if task not in by_task else None
        if feats is not None:
            s.add(Subheading(TASK_TITLES.get(task, task)))
            s.add(feats)
    problems = [r.error for r in data.current.results if r.error]
    problems += [d.error for d in data.current.dexterity if d.error]
    if problems:
        s.add(Paragraph("Recordings that could not be analysed: " + "; ".join(problems)))
    return s


#: how a clinic adds the grip norms table it uses (a CSV with its citation; docs/metrics.md "Norms")
NORMS_HOWTO = (
    "save the published table as a CSV file with a '# source: <citation>' line and the columns "
    "age_lo,age_hi,sex,hand,mean_kg,sd_kg at code/motorlab/grip_norms.csv in the clinic's data folder "
    "(or pass it to 'motorlab analyze --norms FILE'); the report then compares with it"
)


def _no_norm_words(data: ReportData) -> str:
    """The plain-words text when no norm table covers the client's age, sex and hand."""
    age = f"age {data.age}" if data.age is not None else "this age"
    if data.norms_table is not None:
        return (
            f"There is no norm for {age} in the clinic's table ({data.norms_table.source}) or in the "
            "built-in adult table, so this result is not compared with other people of the same age; "
            "it is compared with earlier sessions instead. To add one, " + NORMS_HOWTO + "."
        )
    who = "children of this age" if data.age is not None and data.age < 20 else "this age"
    return (
        f"There is no norm for {age}: motorlab has no built-in table for {who}, so this result is not "
        "compared with other people of the same age; it is compared with earlier sessions instead. "
        "The clinic can add a table: " + NORMS_HOWTO + "."
    )


def _norm_source_words(source: str) -> str:
    from ..analysis.norms import MATHIOWETZ_1985_SOURCE

    if source == MATHIOWETZ_1985_SOURCE:
        return "Mathiowetz et al. 1985 (adults, Jamar, mean of three trials)"
    return f"the clinic's table: {source}"


def _results_caption(task: str, lines: list[MetricLine]) -> str:
    if task == "grip":
        used = sorted(
            {
                _norm_source_words(ln.norm.source)
                for ln in lines
                if ln.norm is not None and math.isfinite(ln.norm.z)
            }
        )
        norms = (
            "Norms: " + "; ".join(used) + "; percentile assumes a normal distribution within the age band."
            if used
            else "No norm table covers this client's age, sex and hand."
        )
        return "Grip strength is the mean of the valid trials in kilograms-force (1 kg = 9.80665 N). " + norms
    if task in DEXTERITY_TITLES:
        return dexterity_caption(task)
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
                    _num(g.time_to_peak_s, 2, "s"),
                    _num(newton_to_kgf(g.rfd_0_100ms_N_per_s), 0, "kg/s"),
                )
            )
    if not rows:
        return None
    return Table(
        ("Trial", "Status", "Peak", "Time to peak", "RFD 0–100 ms"),
        tuple(rows),
        caption="Every grip trial; invalid trials are listed but left out of the mean. RFD = rate of "
        "force development over the first 100 ms after onset.",
    )


def _num(v: float | None, decimals: int, unit: str) -> str:
    if not isinstance(v, (int, float)) or not math.isfinite(v):
        return "–"
    return f"{v:.{decimals}f} {unit}".replace("-", "−")


PEN_SOURCES = {"position": "measured position", "imu": "reconstructed from the pen's motion sensor"}


def _trial_spans(force: GripMetrics | SustainedGripMetrics | PinchMetrics) -> list[figures.TrialSpan]:
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
                f"{tr.trial} {grip}" if (grip := getattr(tr, "grip", "")) else tr.trial,
                tr.status == "invalid",
                newton_to_kgf(tr.result.peak_force_N),
            )
        )
    return spans


def _trace_figure(m: RecordingMetrics, title: str) -> Figure | None:
    """The figure of one recording's analysed signal (None when its task has none)."""
    force = m.grip or m.gripsustained or m.pinch
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
        ink_fig = recording_ink_figure(res.metrics, TASK_TITLES.get(task, task))
        if ink_fig is not None:
            s.add(ink_fig)
    if not shown:
        s.add(Paragraph("No force or pen recording in this session."))
    else:
        s.add(Paragraph("The pictures show the raw measurements the numbers were taken from.", plain=True))
    return s


_VERDICT_WORDS = {
    "improved": "real improvement",
    "declined": "real decline",
    wording.NO_CHANGE: wording.NO_CHANGE,
    "changed": "changed (band not known)",
    "": "–",
}


def _change(data: ReportData) -> Section:
    s = Section("change", SECTION_TITLES["change"])
    rows: list[tuple[str, ...]] = []
    emph: list[int] = []
    plain: list[str] = []
    for ln in data.lines:
        m = ln.metric
        if ln.previous is None or ln.value is None:
            continue
        verdicts = [ln.verdict(ch) for ch in (ln.change_previous, ln.change_baseline)]
        if {"improved", "declined"} & set(verdicts):
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
                " / ".join(_VERDICT_WORDS[v] for v in verdicts),
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
                "Noise band",
                "Verdict (previous / baseline)",
            ),
            tuple(rows),
            caption="A change counts as real only when it is larger than the measure's noise band (the "
            "minimal detectable change, MDC95, or its test-retest band); smaller changes, and changes that "
            "round to zero, are no meaningful change. Highlighted rows show a real change."
            + (f" Sources: {sources}." if sources else ""),
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


def progress_series_of(data: ReportData, metric: GoalMetric) -> dict[str, list[figures.ProgressPoint]]:
    """Per hand, the metric's value at every session up to the reported one (sessions without a value
    are left out)."""
    series: dict[str, list[figures.ProgressPoint]] = {}
    for hand in ("right", "left", "n/a") if metric.per_hand else ("n/a",):
        pts = [
            figures.ProgressPoint(m.session.label, m.session.date, v)
            for m in data.measurements
            if (v := m.value(metric.key, hand)) is not None
        ]
        if pts:
            series[hand] = pts
    return series


def _key(hand: str) -> str:
    """A hand as an HTML data-attribute name part ('n/a' -> 'na')."""
    return hand.replace("/", "")


def _progress(data: ReportData) -> Section:
    s = Section("progress", SECTION_TITLES["progress"])
    charts = 0
    shown = {ln.metric.key for ln in data.lines}
    for metric in GOAL_METRICS.values():
        if metric.key not in shown:
            continue
        series = progress_series_of(data, metric)
        if not series or max(len(p) for p in series.values()) < 2:
            continue
        bands = {hand: metric.change_limit(pts[0].value) for hand, pts in series.items()}
        band_name = metric.band.name if metric.band is not None else ""
        words = []
        verdicts = {}
        for hand, pts in series.items():
            if len(pts) < 2:
                continue
            first, last = pts[0], pts[-1]
            verdict = wording.change_verdict(metric, last.value - first.value, bands[hand])
            verdicts[hand] = verdict
            what = _hand_text(hand) if hand != "n/a" else metric.label.lower()
            trend = (
                f"from {wording.fmt(first.value, metric)} to {wording.fmt(last.value, metric)} {metric.unit} "
                f"over {len(pts)} sessions"
            )
            reading = {
                "improved": "a real improvement since the first session",
                "declined": "a real decline since the first session",
                wording.NO_CHANGE: f"{wording.NO_CHANGE} since the first session",
                "changed": "no published figure tells whether this is more than day-to-day variation",
            }[verdict]
            words.append(f"{what[:1].upper()}{what[1:]}: {trend}, {reading}.")
        for ln in data.lines:
            if ln.metric.key == metric.key and ln.no_tremor:
                what = _hand_text(ln.hand) if ln.hand != "n/a" else metric.label.lower()
                words.append(
                    f"{what[:1].upper()}{what[1:]}: {wording.NO_TREMOR} in this session, so it has no point "
                    "on the chart."
                )
        chart = figures.progress_png(metric.label, metric.unit, series, bands, metric.chart_max)
        caption = f"{metric.label} at every session, drawn on a fixed scale from 0" + (
            f". Shaded bands: first session ± the {band_name}; points inside a band are within measurement "
            "noise of the first session."
            if any(b is not None for b in bands.values())
            else " (no published figure for this measure's day-to-day variation)."
        )
        s.add(
            Figure(
                chart.png,
                caption,
                f"{metric.label} across sessions",
                height_in=2.4,
                meta=(
                    ("metric", metric.key),
                    ("ylim", f"{chart.ylim[0]:.6g},{chart.ylim[1]:.6g}"),
                    *(
                        (f"series-{_key(hand)}", ",".join(f"{p.value:.6g}" for p in pts))
                        for hand, pts in series.items()
                    ),
                    *((f"band-{_key(hand)}", f"{b:.6g}") for hand, b in bands.items() if b is not None),
                    *((f"verdict-{_key(hand)}", v) for hand, v in verdicts.items()),
                ),
            )
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
        if gs.status == "scored":
            now = f"{wording.fmt(gs.value, m)} {m.unit}"
        elif gs.status == "baseline":
            now = "–"
        else:
            now = gs.status
        rows.append(
            (
                g.goal_id,
                g.title,
                f"{m.label}{', ' + g.hand + ' hand' if g.hand != 'n/a' else ''}",
                f"{wording.fmt(g.baseline, m)} {m.unit}",
                f"{wording.fmt(g.level(0).threshold, m)} {m.unit}",
                now,
                lvl,
                wording.goal_meaning(gs.status, gs.level),
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
            "more, +2 much more. A value scores the highest level whose threshold it reaches. A goal is "
            "scored only from the first session after the one it was set on (its baseline).",
        )
    )
    scored = [gs for gs in data.goals if gs.status == "scored" and gs.level is not None]
    if scored:
        labels = [textwrap.fill(f"{gs.goal.goal_id}: {gs.goal.title}", 34) for gs in data.goals]
        s.add(
            Figure(
                figures.goals_png(
                    [
                        (label, gs.baseline_level, gs.level if gs.status == "scored" else None)
                        for label, gs in zip(labels, data.goals)
                    ]
                ),
                "Goal levels: hollow circle = level at baseline, filled circle = level now.",
                "Goal attainment levels",
                height_in=0.6 + 0.45 * len(data.goals),
            )
        )
    t = data.gas_tscore
    if data.goals_at_baseline:
        s.add(
            Paragraph(
                "GAS T-score: not calculated at baseline (the goals were set at this session or later)."
            )
        )
    else:
        s.add(
            Paragraph(
                f"GAS T-score: {t:.1f} over {len(scored)} scored goal(s) (Kiresuk & Sherman 1968; inter-goal "
                "correlation 0.3, weights as set)."
                if t is not None
                else "GAS T-score: not available (no goal measured after its baseline)."
            )
        )
    s.add(Paragraph(wording.gas_sentence(t, len(scored), data.goals_at_baseline), plain=True))
    return s


def _norms_method(data: ReportData) -> str:
    adult = (
        "Mathiowetz et al. 1985 adult table (20+ years) by age band, sex and hand; z = (value − mean) / SD, "
        "percentile = 100·Φ(z)."
    )
    if data.norms_table is None:
        return (
            "Norms: "
            + adult
            + " No pediatric table is included; children's results are shown without norms. To add a "
            "table, " + NORMS_HOWTO + "."
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
            "Disord, 2019) is used: 4.9 kg for grip ≤ 20 kg and 5.1 kg above. Tremor amplitudes use a "
            "test-retest band of ±66 % of the first session (Elble et al. 2016). A change that rounds to "
            "zero at the precision shown is no meaningful change. Progress charts start at 0 on a fixed "
            "scale per measure."
        ),
        (
            "Goals: Goal Attainment Scaling, T = 50 + 10·Σwᵢxᵢ / √(0.7·Σwᵢ² + 0.3·(Σwᵢ)²) (Kiresuk & Sherman 1968, "
            "formula as corrected in the erratum to Turner-Stokes, Clin Rehabil 23:362, 2009)."
        ),
        (
            "Tremor: spectral peak and band-limited RMS of the accelerometer; handwriting and spirals from the pen-tip "
            "path and tip force. A tremor amplitude is reported only when a tremor peak stands out of the "
            "spectrum's background; otherwise the report says 'no tremor detected'. See the motorlab "
            "documentation for every parameter."
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


def report_paths(
    root: str | Path, participant: str, session_label: str, kind: str = "report"
) -> tuple[Path, Path]:
    """HTML and PDF paths of the full report (``kind="report"``) or the parent page (``"parent"``)."""
    folder = derivatives_dir(root, participant)
    stem = f"sub-{participant}_ses-{session_label}_{kind}"
    return folder / f"{stem}.html", folder / f"{stem}.pdf"


def build_report(
    root: str | Path, participant: str, session: str | int | None = None, out_dir: str | Path | None = None
) -> ReportFiles:
    """Write the HTML and PDF report of one session and its one-page parent summary;
    returns the paths and the data shown."""
    from .html import render_html
    from .parent import build_parent_summary, render_parent_html, render_parent_pdf
    from .pdf import render_pdf

    data = collect(root, participant, session)
    doc = build_document(data)
    paths = [
        report_paths(root, data.client.participant, data.session.label, kind) for kind in ("report", "parent")
    ]
    if out_dir is not None:
        paths = [(Path(out_dir) / h.name, Path(out_dir) / p.name) for h, p in paths]
    (html_path, pdf_path), (parent_html, parent_pdf) = paths
    parent = build_parent_summary(data, TASK_TITLES)
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(html_path, render_html(doc))
        render_pdf(doc, pdf_path)
        atomic_write_text(parent_html, render_parent_html(parent))
        render_parent_pdf(parent, parent_pdf)
    except OSError as exc:
        raise MotorlabError(
            f"{exc.filename or html_path.parent}: cannot write the report ({exc.strerror or exc})"
        ) from None
    return ReportFiles(html_path, pdf_path, data, doc, parent_html, parent_pdf)
