"""Render a :class:`~motorlab.report.document.Document` as an A4 PDF with matplotlib.

Pages are drawn with matplotlib's PDF backend (:class:`~matplotlib.backends.backend_pdf.PdfPages`),
so no browser is needed: text flows from top to bottom, tables are ruled
rows, figures are placed at their own aspect ratio, and a new page starts when
the current one is full. Fonts are embedded as TrueType (``pdf.fonttype`` 42)
so the text can be searched and extracted.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.image as mpimg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..atomic import atomic_open
from .document import Document, Facts, Figure, Paragraph, Subheading, Table

PAGE_W, PAGE_H = 8.27, 11.69  # A4, inches
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 0.75, 0.7, 0.8
ACCENT = "#1f5f8b"
MUTED = "#5b6775"
LINE = "#c9d2dc"
PLAIN_BG = "#f3f7fa"


def _line_h(size: float) -> float:
    """Line height in inches for a font size in points."""
    return size * 1.38 / 72.0


def _chars_per_line(width_in: float, size: float) -> int:
    """Characters of DejaVu Sans that fit a width (average advance ≈ 0.55 em)."""
    return max(8, int(width_in * 72.0 / (0.55 * size)))


def _table_chars(width_in: float, size: float) -> int:
    """Characters that surely fit a table cell (a wider 0.62 em per character, digits and capitals)."""
    return max(3, int(width_in * 72.0 / (0.62 * size)))


class _Flow:
    """Places blocks top-down on A4 pages and starts new pages as needed."""

    def __init__(self, pdf: PdfPages, footer: str):
        self.pdf = pdf
        self.footer = footer
        self.fig: MplFigure | None = None
        self.y = MARGIN_TOP
        self.page = 0
        self.width = PAGE_W - 2 * MARGIN_X

    # -- pages ------------------------------------------------------------------
    def new_page(self) -> None:
        self.finish_page()
        self.fig = MplFigure(figsize=(PAGE_W, PAGE_H))
        self.page += 1
        self.y = MARGIN_TOP

    def finish_page(self) -> None:
        if self.fig is None:
            return
        self.text_at(MARGIN_X, PAGE_H - MARGIN_BOTTOM / 2, self.footer, 7.5, color=MUTED)
        self.text_at(
            PAGE_W - MARGIN_X, PAGE_H - MARGIN_BOTTOM / 2, f"page {self.page}", 7.5, color=MUTED, ha="right"
        )
        self.pdf.savefig(self.fig)
        self.fig = None

    def ensure(self, height: float) -> None:
        if self.fig is None or self.y + height > PAGE_H - MARGIN_BOTTOM:
            self.new_page()

    # -- primitives (inches from the top-left corner) -----------------------------
    def text_at(self, x: float, y: float, s: str, size: float, ha: str = "left", **kw) -> None:
        assert self.fig is not None
        self.fig.text(x / PAGE_W, 1 - y / PAGE_H, s, fontsize=size, ha=ha, va="top", **kw)

    def hline(self, x0: float, x1: float, y: float, color: str = LINE, lw: float = 0.6) -> None:
        assert self.fig is not None
        self.fig.add_artist(
            Line2D(
                [x0 / PAGE_W, x1 / PAGE_W],
                [1 - y / PAGE_H] * 2,
                transform=self.fig.transFigure,
                color=color,
                lw=lw,
            )
        )

    def rect(self, x: float, y: float, w: float, h: float, color: str) -> None:
        assert self.fig is not None
        self.fig.add_artist(
            Rectangle(
                (x / PAGE_W, 1 - (y + h) / PAGE_H),
                w / PAGE_W,
                h / PAGE_H,
                transform=self.fig.transFigure,
                color=color,
                lw=0,
                zorder=-1,
            )
        )

    # -- blocks ---------------------------------------------------------------------
    def title(self, title: str, subtitle: str) -> None:
        self.ensure(1.0)
        self.text_at(MARGIN_X, self.y, title, 18, color=ACCENT, weight="bold")
        self.y += 0.38
        for line in textwrap.wrap(subtitle, _chars_per_line(self.width, 9.5)):
            self.text_at(MARGIN_X, self.y, line, 9.5, color=MUTED)
            self.y += _line_h(9.5)
        self.y += 0.06
        self.hline(MARGIN_X, PAGE_W - MARGIN_X, self.y, color=ACCENT, lw=2.0)
        self.y += 0.12

    def heading(self, text: str) -> None:
        self.ensure(1.4)  # keep a heading with the start of its content
        self.y += 0.18
        self.text_at(MARGIN_X, self.y, text, 13.5, color=ACCENT, weight="bold")
        self.y += _line_h(13.5) + 0.02
        self.hline(MARGIN_X, PAGE_W - MARGIN_X, self.y)
        self.y += 0.1

    def subheading(self, text: str) -> None:
        self.ensure(0.9)
        self.y += 0.08
        self.text_at(MARGIN_X, self.y, text, 11, weight="bold")
        self.y += _line_h(11) + 0.04

    def paragraph(self, p: Paragraph) -> None:
        size = 9.5
        indent = 0.15 if p.plain else 0.0
        text = f"In plain words: {p.text}" if p.plain else p.text
        lines = textwrap.wrap(text, _chars_per_line(self.width - 2 * indent, size)) or [""]
        for i, line in enumerate(lines):
            self.ensure(_line_h(size) + (0.1 if p.plain else 0))
            if p.plain:
                self.rect(
                    MARGIN_X,
                    self.y - 0.03,
                    self.width,
                    _line_h(size) + (0.06 if i == len(lines) - 1 else 0.0),
                    PLAIN_BG,
                )
                self.rect(MARGIN_X, self.y - 0.03, 0.04, _line_h(size) + 0.03, ACCENT)
            self.text_at(MARGIN_X + indent, self.y, line, size)
            self.y += _line_h(size)
        self.y += 0.1

    def facts(self, f: Facts) -> None:
        size = 9.5
        col_w = self.width / 2
        label_w = 1.35
        for i in range(0, len(f.items), 2):
            pair = f.items[i : i + 2]
            wrapped = [textwrap.wrap(v, _table_chars(col_w - label_w - 0.15, size)) or [""] for _, v in pair]
            h = max(len(w) for w in wrapped) * _line_h(size)
            self.ensure(h)
            for j, ((k, _), lines) in enumerate(zip(pair, wrapped)):
                x = MARGIN_X + j * col_w
                self.text_at(x, self.y, k, size, color=MUTED)
                for n, line in enumerate(lines):
                    self.text_at(x + label_w, self.y + n * _line_h(size), line, size, weight="bold")
            self.y += h + 0.03
        self.y += 0.08

    def table(self, t: Table) -> None:
        size = 8.0
        widths = self._column_widths(t, size)

        def wrapped(row: tuple[str, ...]) -> list[list[str]]:
            return [textwrap.wrap(cell, _table_chars(w - 0.1, size)) or [""] for cell, w in zip(row, widths)]

        def draw_row(cells: list[list[str]], bold: bool, fill: str | None) -> None:
            h = max(len(c) for c in cells) * _line_h(size) + 0.06
            self.ensure(h)
            if fill:
                self.rect(MARGIN_X, self.y, self.width, h, fill)
            x = MARGIN_X
            for cell, w in zip(cells, widths):
                for k, line in enumerate(cell):
                    self.text_at(
                        x + 0.04,
                        self.y + 0.03 + k * _line_h(size),
                        line,
                        size,
                        weight="bold" if bold else "normal",
                    )
                x += w
            self.y += h
            self.hline(MARGIN_X, PAGE_W - MARGIN_X, self.y)

        self.ensure(3 * _line_h(size))
        draw_row(wrapped(t.columns), True, "#f0f3f6")
        for i, row in enumerate(t.rows):
            draw_row(wrapped(row), False, "#eef7f1" if i in t.emphasis else None)
        if t.caption:
            for line in textwrap.wrap(t.caption, _chars_per_line(self.width, 7.5)):
                self.ensure(_line_h(7.5))
                self.text_at(MARGIN_X, self.y + 0.03, line, 7.5, color=MUTED)
                self.y += _line_h(7.5)
        self.y += 0.14

    def _column_widths(self, t: Table, size: float) -> list[float]:
        """Column widths (in) that fit every word when possible and share the rest by content length."""
        cells = [t.columns, *t.rows]
        natural = [max(len(r[c]) for r in cells) + 1 for c in range(len(t.columns))]
        word = [
            min(max(len(w) for r in cells for w in (r[c].split() or [""])), 22) + 1
            for c in range(len(t.columns))
        ]  # longer tokens (file names) are broken anyway
        avail = _table_chars(self.width - 0.1 * len(natural), size)
        if sum(natural) <= avail:
            chars = [n * avail / sum(natural) for n in natural]
        elif sum(word) <= avail:
            spare = avail - sum(word)
            extra = [n - w for n, w in zip(natural, word)]
            chars = [w + spare * e / max(sum(extra), 1) for w, e in zip(word, extra)]
        else:
            chars = [w * avail / sum(word) for w in word]
        total = sum(chars)
        return [self.width * c / total for c in chars]

    def figure(self, f: Figure) -> None:
        img = mpimg.imread(io.BytesIO(f.png), format="png")
        h_px, w_px = img.shape[:2]
        width = min(self.width, f.width_in)
        height = width * h_px / w_px
        max_h = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM - 0.6
        if height > max_h:
            width, height = width * max_h / height, max_h
        caption = textwrap.wrap(f.caption, _chars_per_line(self.width, 7.5))
        self.ensure(height + len(caption) * _line_h(7.5) + 0.1)
        assert self.fig is not None
        x = MARGIN_X + (self.width - width) / 2
        ax = self.fig.add_axes((x / PAGE_W, 1 - (self.y + height) / PAGE_H, width / PAGE_W, height / PAGE_H))
        ax.imshow(img, interpolation="antialiased")
        ax.set_axis_off()
        self.y += height + 0.05
        for line in caption:
            self.text_at(MARGIN_X, self.y, line, 7.5, color=MUTED)
            self.y += _line_h(7.5)
        self.y += 0.14


def render_pdf(doc: Document, path: str | Path) -> Path:
    """Write the document to ``path`` as a PDF (atomically); returns the path."""
    path = Path(path)
    with (
        atomic_open(path, "wb") as fh,
        matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}),
        PdfPages(fh) as pdf,
    ):
        flow = _Flow(pdf, doc.footer)
        flow.title(doc.title, doc.subtitle)
        for section in doc.sections:
            flow.heading(section.title)
            for b in section.blocks:
                if isinstance(b, Paragraph):
                    flow.paragraph(b)
                elif isinstance(b, Subheading):
                    flow.subheading(b.text)
                elif isinstance(b, Facts):
                    flow.facts(b)
                elif isinstance(b, Table):
                    flow.table(b)
                elif isinstance(b, Figure):
                    flow.figure(b)
                else:
                    raise TypeError(f"unknown report block {type(b).__name__}")
        flow.finish_page()
        info = pdf.infodict()
        info["Title"] = doc.title
        info["Subject"] = doc.subtitle
        info["Creator"] = "motorlab"
    return path
