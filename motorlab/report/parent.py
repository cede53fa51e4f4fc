"""The one-page parent summary (HTML and an A4 PDF of exactly one page).

What was measured, what it means in plain words, progress on the goals, next steps, the
therapist's notes of the session and a space for the therapist's note and sign-off. It is made
from the same :class:`~motorlab.report.build.ReportData` as the full report, with the same
verdicts (:func:`motorlab.report.wording.change_verdict`), norm wording and goal states, so
the two never disagree; the full report stays the clinical record.

Files: ``sub-<ID>_ses-<N>_parent.html`` and ``.pdf`` next to the report.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from .. import __version__
from . import wording
from .document import Figure
from .ink import recording_ink_figure

#: the report's data (``motorlab.report.build.ReportData``/``MetricLine``); not imported here,
#: because build writes the parent page (no import cycle)
ReportData = Any
MetricLine = Any

#: at most this many of the session's notes (each cut to NOTE_CHARS) keep the page to one sheet
MAX_NOTES = 4
NOTE_CHARS = 180


@dataclass(frozen=True)
class ParentSummary:
    """The parent page's content, already in words."""

    title: str
    subtitle: str
    measured: tuple[str, ...]
    meaning: tuple[str, ...]
    goals: tuple[tuple[str, str], ...]  # (goal in the therapist's words, where it stands)
    goals_summary: str
    next_steps: tuple[str, ...]
    notes: tuple[str, ...]
    warning: str = ""
    footer: str = ""
    #: the child's writing as drawn (first measured pen task of the visit), or None
    ink: Figure | None = None


def _what(ln: MetricLine) -> str:
    label = ln.metric.label
    return f"{label}, {ln.hand} hand" if ln.hand in ("right", "left") else label


def _change_words(ln: MetricLine) -> str:
    verdict = ln.verdict(ln.change_baseline)
    return {
        "improved": "a real improvement since the first visit",
        "declined": "lower than at the first visit, by more than day-to-day variation",
        wording.NO_CHANGE: f"{wording.NO_CHANGE} since the first visit",
        "changed": "different from the first visit; how much this measure varies from day to day is not known",
        "": "",
    }[verdict]


def _meaning(data: ReportData, ln: MetricLine) -> str:
    m = ln.metric
    if ln.no_tremor:
        return f"{_what(ln)}: {wording.NO_TREMOR} – no regular shaking stood out."
    parts = [f"{_what(ln)}: {wording.fmt(ln.value, m)} {m.unit}"]
    norm = ln.norm
    if norm is not None and math.isfinite(norm.z):
        ref = wording.reference_group(data.client.sex, data.age, norm.age_band)
        p = min(max(int(round(norm.percentile)), 1), 99)
        parts.append(f"{'higher' if m.higher_is_better else 'lower'} than about {p} in 100 {ref}")
        if wording.fewer_trials_caveat(ln.n_trials, m.trials_in_norm):
            parts.append(f"from {ln.n_trials} try only, so this comparison is less certain")
    elif norm is not None:
        parts.append("there is no norm for this age, so it is compared with earlier visits")
    change = _change_words(ln)
    if change and ln.baseline_session is not None:
        parts.append(change)
    return "; ".join(parts) + "."


def _goal_words(data: ReportData) -> tuple[tuple[tuple[str, str], ...], str]:
    goals = tuple((gs.goal.title, wording.goal_meaning(gs.status, gs.level)) for gs in data.goals)
    if not data.goals:
        return goals, "No goals have been set yet."
    scored = [g for g in data.goals if g.status == "scored" and g.level is not None]
    return goals, wording.gas_sentence(data.gas_tscore, len(scored), data.goals_at_baseline)


def _next_steps(data: ReportData) -> tuple[str, ...]:
    steps = []
    if data.goals_at_baseline:
        steps.append(
            "Practise the everyday activities agreed for the goals; we check them at the next visit."
        )
    elif data.goals:
        steps.append("Keep practising the goals' activities; we measure them again at the next visit.")
    if any(ln.verdict(ln.change_baseline) == "declined" for ln in data.lines):
        steps.append("We will talk with you about the results that went down.")
    if any(ln.norm is not None and not math.isfinite(ln.norm.z) for ln in data.lines):
        steps.append("Without a norm for this age, progress is judged against the earlier visits.")
    steps.append("Please bring your questions to the next visit.")
    return tuple(steps)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def build_parent_summary(data: ReportData, task_titles: Mapping[str, str] | None = None) -> ParentSummary:
    """The parent page of the reported session (``task_titles``: task label -> title)."""
    titles = task_titles or {}
    from .wording import clock_text as _clock
    from .wording import date_text as _date_text

    ses = data.session
    measured = []
    for task in ses.tasks:
        lines = [ln for ln in data.lines if ln.metric.task == task]
        what = "; ".join(dict.fromkeys(ln.metric.plain for ln in lines))
        measured.append(f"{titles.get(task, task)}" + (f" – {what}" if what else ""))
    goals, summary = _goal_words(data)
    notes = tuple(
        _clip(f"{titles.get(n.task, n.task)} ({_clock(n.time_s)}): {n.text}", NOTE_CHARS)
        for n in data.notes[:MAX_NOTES]
    )
    return ParentSummary(
        title="Visit summary",
        subtitle=f"Client {data.client.participant} · visit {ses.label} · {_date_text(ses.date)}",
        measured=tuple(measured),
        meaning=tuple(_meaning(data, ln) for ln in data.lines),
        goals=goals,
        goals_summary=summary,
        next_steps=_next_steps(data),
        notes=notes,
        warning="Emulated data (a virtual client) – not for clinical decisions."
        if any(r.emulated for r in ses.recordings)
        else "",
        footer=f"motorlab {__version__} · client {data.client.participant} · visit {ses.label} · "
        "the full report is kept in the client's file",
        ink=_first_ink(data, titles),
    )


def _first_ink(data: ReportData, titles: Mapping[str, str]) -> Figure | None:
    """The writing as drawn of the visit's first pen task measured on a surface (tablet or
    browser pen; an IMU pen's reconstructed path is not the writing as drawn)."""
    for res in data.current.results:
        if res.metrics is not None:
            fig = recording_ink_figure(res.metrics, titles.get(res.info.task, res.info.task))
            if fig is not None:
                return fig
    return None


# ----------------------------------------------------------------------------- HTML
_CSS = """
@page { size: A4; margin: 14mm 16mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #1d2733; margin: 0; background: #eef1f4;
       font-size: 12.5px; line-height: 1.4; }
main { width: 178mm; margin: 16px auto; background: #fff; padding: 12mm 14mm; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
h1 { color: #1f5f8b; font-size: 22px; margin: 0; }
p.sub { color: #5b6775; margin: 2px 0 8px; border-bottom: 3px solid #1f5f8b; padding-bottom: 6px; }
h2 { color: #1f5f8b; font-size: 15px; margin: 10px 0 4px; }
ul { margin: 2px 0 4px 18px; padding: 0; }
li { margin: 1px 0; }
p.warn { color: #9a3412; font-weight: bold; }
.box { border: 1px solid #c9d2dc; border-radius: 4px; padding: 6px 10px; min-height: 26mm; }
.line { border-bottom: 1px solid #c9d2dc; height: 7mm; }
.sign { display: flex; gap: 16px; margin-top: 8px; }
.sign div { flex: 1; border-bottom: 1px solid #5b6775; padding-top: 8mm; color: #5b6775; font-size: 11px; }
footer { color: #5b6775; font-size: 10px; margin-top: 8px; }
#writing img { max-height: 52mm; max-width: 100%; }
#writing figure { margin: 0; } #writing figcaption { color: #5b6775; font-size: 10px; }
@media print { body { background: #fff; } main { box-shadow: none; margin: 0; padding: 0; width: auto; }
               #writing img { max-height: 42mm; } }
"""


def _ul(items: tuple[str, ...]) -> str:
    return "<ul>" + "".join(f"<li>{escape(x)}</li>" for x in items) + "</ul>"


def _ink_html(ink: Figure | None) -> str:
    if ink is None:
        return ""
    data = base64.b64encode(ink.png).decode("ascii")
    return (
        f'<section id="writing"><h2>The writing as drawn</h2><figure><img src="data:image/png;base64,{data}" '
        f'alt="{escape(ink.alt)}"><figcaption>{escape(ink.caption)}'
        "</figcaption></figure></section>"
    )


def render_parent_html(s: ParentSummary) -> str:
    """The parent page as one self-contained HTML file (no script, prints on one A4 page)."""
    goals = (
        "<ul>" + "".join(f"<li><b>{escape(t)}</b>: {escape(state)}</li>" for t, state in s.goals) + "</ul>"
        if s.goals
        else ""
    )
    notes = "".join(f"<p>{escape(n)}</p>" for n in s.notes)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="motorlab">
<title>{escape(s.title)} – {escape(s.subtitle)}</title>
<link rel="icon" href="data:,">
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>{escape(s.title)}</h1>
<p class="sub">{escape(s.subtitle)}</p>
{f'<p class="warn">{escape(s.warning)}</p>' if s.warning else ""}
<section id="measured"><h2>What we measured</h2>{_ul(s.measured)}</section>
<section id="meaning"><h2>What it means</h2>{_ul(s.meaning)}</section>
<section id="goals"><h2>Progress on goals</h2>{goals}<p>{escape(s.goals_summary)}</p></section>
{_ink_html(s.ink)}<section id="next"><h2>Next steps</h2>{_ul(s.next_steps)}</section>
<section id="note"><h2>Therapist's note</h2><div class="box">{notes}</div>
<div class="sign"><div>Therapist</div><div>Signature</div><div>Date</div></div></section>
<footer>{escape(s.footer)}</footer>
</main>
</body>
</html>
"""


# ------------------------------------------------------------------------------ PDF
def _parent_pdf(s: ParentSummary, base: float):
    from fpdf.enums import XPos, YPos

    from .pdf import LINE, MUTED, ReportPDF

    pdf = ReportPDF(s.footer, base_size=base)
    pdf.set_title(pdf.t(f"{s.title} – {s.subtitle}"))
    pdf.title_block(s.title, s.subtitle)
    lh = base * 0.5

    def bullets(items: tuple[str, ...]) -> None:
        pdf.style(base)
        for item in items:
            pdf.set_x(pdf.l_margin + 1.5)
            pdf.cell(4, lh, "•" if pdf.unicode else "-")
            pdf.multi_cell(
                pdf.text_width - 5.5, lh, pdf.t(item), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )

    if s.warning:
        pdf.style(base, bold=True, color=(154, 52, 18))
        pdf.multi_cell(0, lh, pdf.t(s.warning), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for title, items in (("What we measured", s.measured), ("What it means", s.meaning)):
        pdf.heading(title, keep_mm=0)
        bullets(items)
    pdf.heading("Progress on goals", keep_mm=0)
    pdf.style(base)
    for goal, state in s.goals:
        pdf.set_x(pdf.l_margin + 1.5)
        pdf.cell(4, lh, "•" if pdf.unicode else "-")
        pdf.multi_cell(
            pdf.text_width - 5.5,
            lh,
            pdf.t(f"{goal}: {state}"),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.multi_cell(0, lh, pdf.t(s.goals_summary), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if s.ink is not None:  # the writing, scaled with the text so the page still fits
        pdf.heading("The writing as drawn", keep_mm=0)
        h = 4.6 * base
        w = h * s.ink.width_in / s.ink.height_in
        pdf.image(io.BytesIO(s.ink.png), x=pdf.l_margin, y=pdf.y, w=w, h=h)
        pdf.set_y(pdf.y + h + 1)
    pdf.heading("Next steps", keep_mm=0)
    bullets(s.next_steps)
    pdf.heading("Therapist's note", keep_mm=0)
    top = pdf.y
    pdf.style(base)
    for note in s.notes:
        pdf.set_x(pdf.l_margin + 2)
        pdf.multi_cell(pdf.text_width - 4, lh, pdf.t(note), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    box_h = max(pdf.y - top + 12, 34.0)
    pdf.set_draw_color(*LINE)
    pdf.rect(pdf.l_margin, top - 1, pdf.text_width, box_h + 1)
    pdf.set_y(top + box_h + 9)
    pdf.set_draw_color(*MUTED)
    w = (pdf.text_width - 10) / 3
    pdf.style(base - 1.5, color=MUTED)
    for i, label in enumerate(("Therapist", "Signature", "Date")):
        x = pdf.l_margin + i * (w + 5)
        pdf.line(x, pdf.y, x + w, pdf.y)
        pdf.text(x, pdf.y + 3.5, label)
    fits = pdf.page == 1 and pdf.y + 5 <= pdf.h - pdf.b_margin
    return pdf, fits


def render_parent_pdf(s: ParentSummary, path: str | Path) -> Path:
    """Write the parent page as a PDF of exactly one A4 page (atomically).

    The text is set at 10.5 pt and made smaller, step by step down to 7 pt, until it fits one
    page; should even that not fit, the longest list is shortened one item at a time with a
    pointer to the full report (never the goals' state or the sign-off).
    """
    import dataclasses

    from .pdf import write_pdf

    full = {k: getattr(s, k) for k in ("meaning", "measured", "notes", "next_steps")}
    keep = {k: len(v) for k, v in full.items()}
    summary = s
    while True:
        for base in (10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0):
            pdf, fits = _parent_pdf(summary, base)
            if fits:
                return write_pdf(pdf, path)
            pdf.release_fonts()
        longest = max(keep, key=lambda k: keep[k])
        if keep[longest] <= 1:
            raise ValueError("the parent summary does not fit on one A4 page")  # pragma: no cover
        keep[longest] -= 1
        shortened: dict[str, Any] = {
            k: (*full[k][:n], f"… {len(full[k]) - n} more in the full report")
            if n < len(full[k])
            else full[k]
            for k, n in keep.items()
        }
        summary = dataclasses.replace(summary, **shortened)
