"""Render a :class:`~motorlab.report.document.Document` as an A4 PDF with fpdf2.

fpdf2 lays the text out with the embedded font's real glyph widths, wraps long words and
names inside table cells, repeats a table's header row on every page it spans and breaks
pages by itself, so nothing overflows the page. The font is DejaVu Sans (TrueType, embedded
and subset; Unicode, so −, ±, ², Φ and names in any Latin script print as written), taken from
the system's fonts or from the copy matplotlib ships; without either the PDF falls back to
fpdf2's core Helvetica and replaces the characters Latin-1 cannot hold.
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace

from ..atomic import atomic_open
from .document import Document, Facts, Figure, Paragraph, Subheading, Table

ACCENT = (31, 95, 139)
INK = (29, 39, 51)
MUTED = (91, 103, 117)
LINE = (201, 210, 220)
PLAIN_BG = (243, 247, 250)
HEAD_BG = (240, 243, 246)
EMPH_BG = (238, 247, 241)
MARGIN_MM = 18.0
FONT = "DejaVu"

_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}

#: characters of the report that Latin-1 (the core fonts) lacks, and what prints instead
_LATIN1 = {"−": "-", "–": "-", "—": "-", "·": "*", "Φ": "Phi", "√": "sqrt", "…": "...", "ᵢ": "i", "Σ": "sum"}


def font_dir() -> Path | None:
    """A folder holding the DejaVu Sans TTFs (system fonts first, then matplotlib's copy)."""
    candidates = [Path("/usr/share/fonts/truetype/dejavu")]
    try:
        import matplotlib

        candidates.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        pass
    for folder in candidates:
        if all((folder / name).is_file() for name in _FONT_FILES.values()):
            return folder
    return None


def latin1(text: str) -> str:
    """``text`` with what the core PDF fonts cannot show replaced (only used without DejaVu)."""
    out = []
    for ch in "".join(_LATIN1.get(ch, ch) for ch in text):
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")  # e.g. 'ő' -> 'o', 'Ω' -> '?'
    return "".join(out)


class ReportPDF(FPDF):
    """An A4 page flow with the report's type styles; blocks are added top to bottom."""

    def __init__(self, footer: str = "", base_size: float = 9.5):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer
        self.base = base_size
        self.set_margins(MARGIN_MM, 16.0, MARGIN_MM)
        self.set_auto_page_break(True, margin=17.0)
        folder = font_dir()
        if folder is not None:
            for style, name in _FONT_FILES.items():
                self.add_font(FONT, style, str(folder / name))
            self.family_name = FONT
            self.unicode = True
        else:
            self.family_name = "helvetica"
            self.unicode = False
        self.set_font(self.family_name, size=self.base)
        self.set_text_color(*INK)
        self.set_draw_color(*LINE)
        self.set_creator("motorlab")

    def release_fonts(self) -> None:
        """Close the TrueType files of a document that will not be written (``output()`` closes
        them otherwise; a discarded layout attempt would keep three files open)."""
        for font in self.fonts.values():
            close = getattr(font, "close", None)
            if close is not None:
                close()

    # -- helpers ---------------------------------------------------------------------
    def t(self, text: str) -> str:
        return text if self.unicode else latin1(text)

    @property
    def text_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    @property
    def space_left(self) -> float:
        return self.h - self.b_margin - self.y

    def style(self, size: float, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)
        self.set_text_color(*color)

    def lines_of(self, text: str, width_mm: float) -> int:
        """Lines ``text`` takes in the current font at ``width_mm`` (fpdf2's own line breaking)."""
        lines = self.multi_cell(width_mm, 1, self.t(text), dry_run=True, output="LINES")
        return len(lines) if isinstance(lines, list) else 1

    def need(self, height_mm: float) -> None:
        """Start a new page unless ``height_mm`` still fits on this one."""
        if self.space_left < height_mm:
            self.add_page()

    def rule(self, color: tuple[int, int, int] = LINE, width: float = 0.2) -> None:
        self.set_draw_color(*color)
        self.set_line_width(width)
        self.line(self.l_margin, self.y, self.w - self.r_margin, self.y)
        self.set_draw_color(*LINE)
        self.set_line_width(0.2)

    def footer(self) -> None:
        if not self.footer_text:
            return
        self.set_y(-12)
        self.style(7.5, color=MUTED)
        self.cell(self.text_width * 0.8, 4, self.t(self.footer_text))
        self.cell(self.text_width * 0.2, 4, f"page {self.page_no()}", align="R")

    # -- blocks ----------------------------------------------------------------------
    def title_block(self, title: str, subtitle: str) -> None:
        if self.page == 0:
            self.add_page()
        self.style(self.base + 8.5, bold=True, color=ACCENT)
        self.multi_cell(0, (self.base + 8.5) * 0.5, self.t(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.style(self.base, color=MUTED)
        self.multi_cell(0, self.base * 0.5, self.t(subtitle), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)
        self.rule(ACCENT, 0.7)
        self.ln(2.5)

    def heading(self, text: str, keep_mm: float = 35.0) -> None:
        self.need(keep_mm)  # keep a heading with the start of its content
        self.ln(3.0)
        self.style(self.base + 4, bold=True, color=ACCENT)
        self.multi_cell(0, (self.base + 4) * 0.5, self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(0.8)
        self.rule()
        self.ln(2.0)

    def subheading(self, text: str) -> None:
        self.need(22.0)
        self.ln(1.5)
        self.style(self.base + 1.5, bold=True)
        self.multi_cell(0, (self.base + 1.5) * 0.5, self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.0)

    def paragraph(self, p: Paragraph, size: float | None = None) -> None:
        size = size or self.base
        lh = size * 0.48
        if p.plain:
            self.set_fill_color(*PLAIN_BG)
            self.need(2 * lh + 3)
            top, page = self.y, self.page
            self.style(size, bold=True, color=ACCENT)
            self.set_x(self.l_margin + 2.5)
            self.multi_cell(self.text_width - 2.5, lh, "In plain words:", fill=True, new_x=XPos.LMARGIN)
            self.style(size)
            self.set_x(self.l_margin + 2.5)
            self.multi_cell(self.text_width - 2.5, lh, self.t(p.text), fill=True, new_x=XPos.LMARGIN)
            self.cell(self.text_width - 2.5, 1.2, "", fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            if self.page == page:  # the accent bar at the left of the box
                self.set_fill_color(*ACCENT)
                self.rect(self.l_margin, top, 1.0, self.y - top, style="F")
        else:
            self.style(size)
            self.multi_cell(0, lh, self.t(p.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.6)

    def facts(self, f: Facts) -> None:
        rows = [f.items[i : i + 2] for i in range(0, len(f.items), 2)]
        w = self.text_width
        self.style(self.base)
        with self.table(
            col_widths=(0.19 * w, 0.31 * w, 0.19 * w, 0.31 * w),
            first_row_as_headings=False,
            borders_layout=TableBordersLayout.NONE,
            text_align="LEFT",
            line_height=self.base * 0.48,
            padding=(0.6, 1.0),
            width=w,
        ) as table:
            for pair in rows:
                row = table.row()
                for k, v in pair:
                    row.cell(self.t(k), style=FontFace(color=MUTED))
                    row.cell(self.t(v), style=FontFace(emphasis="BOLD"))
                for _ in range(2 - len(pair)):
                    row.cell("")
                    row.cell("")
        self.ln(1.5)

    def column_widths(self, t: Table, size: float) -> list[float]:
        """Widths (mm) from the font's real metrics: every column gets its longest word (up to
        a cap, longer tokens wrap by character), the rest is shared by content width."""
        self.style(size, bold=True)
        pad = 2.4
        heads = [self.get_string_width(self.t(c)) for c in t.columns]
        self.style(size)
        natural, word = [], []
        for c, head in enumerate(t.columns):
            cells = [self.t(r[c]) for r in t.rows]
            natural.append(max([heads[c], *(self.get_string_width(x) for x in cells)]) + pad)
            words = [w for x in [self.t(head), *cells] for w in x.split()] or [""]
            word.append(min(max(self.get_string_width(w) for w in words), 32.0) + pad)
        avail = self.text_width
        if sum(natural) <= avail:
            return [n * avail / sum(natural) for n in natural]
        if sum(word) <= avail:
            spare = avail - sum(word)
            extra = [max(n - w, 0.0) for n, w in zip(natural, word)]
            return [w + spare * e / (sum(extra) or 1.0) for w, e in zip(word, extra)]
        return [w * avail / sum(word) for w in word]

    def table_block(self, t: Table, size: float | None = None) -> None:
        size = size or self.base - 1.5
        widths = self.column_widths(t, size)
        self.need(3 * size * 0.5 + 6)
        self.style(size)
        self.set_draw_color(*LINE)
        with self.table(
            col_widths=widths,
            width=self.text_width,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_BG, color=(52, 65, 79)),
            text_align="LEFT",
            line_height=size * 0.47,
            padding=(0.9, 1.2),
            repeat_headings=1,
            cell_fill_mode=TableCellFillMode.NONE,
        ) as table:
            table.row([self.t(c) for c in t.columns])
            for i, cells in enumerate(t.rows):
                style = FontFace(fill_color=EMPH_BG) if i in t.emphasis else None
                table.row([self.t(c) for c in cells], style=style)
        if t.caption:
            self.ln(0.8)
            self.style(size - 0.5, color=MUTED)
            self.multi_cell(0, (size - 0.5) * 0.45, self.t(t.caption), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2.2)

    def figure(self, f: Figure, max_height_mm: float | None = None) -> None:
        from PIL import Image

        with Image.open(io.BytesIO(f.png)) as img:
            w_px, h_px = img.size
        width = min(self.text_width, f.width_in * 25.4)
        height = width * h_px / w_px
        limit = max_height_mm or (self.h - self.t_margin - self.b_margin - 20)
        if height > limit:
            width, height = width * limit / height, limit
        self.style(7.5, color=MUTED)
        caption_h = self.lines_of(f.caption, self.text_width) * 3.4
        self.need(height + caption_h + 3)
        self.image(io.BytesIO(f.png), x=self.l_margin + (self.text_width - width) / 2, w=width, h=height)
        self.ln(1.0)
        self.multi_cell(0, 3.4, self.t(f.caption), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2.5)

    def block(self, b: object) -> None:
        if isinstance(b, Paragraph):
            self.paragraph(b)
        elif isinstance(b, Subheading):
            self.subheading(b.text)
        elif isinstance(b, Facts):
            self.facts(b)
        elif isinstance(b, Table):
            self.table_block(b)
        elif isinstance(b, Figure):
            self.figure(b)
        else:
            raise TypeError(f"unknown report block {type(b).__name__}")


def write_pdf(pdf: FPDF, path: str | Path) -> Path:
    """Write an fpdf2 document atomically; returns the path."""
    path = Path(path)
    data = bytes(pdf.output())
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return path


def render_pdf(doc: Document, path: str | Path) -> Path:
    """Write the document to ``path`` as an A4 PDF (atomically); returns the path."""
    pdf = ReportPDF(doc.footer)
    pdf.set_title(pdf.t(doc.title))
    pdf.set_subject(pdf.t(doc.subtitle))
    pdf.title_block(doc.title, doc.subtitle)
    for section in doc.sections:
        pdf.heading(section.title)
        for b in section.blocks:
            pdf.block(b)
    return write_pdf(pdf, path)
