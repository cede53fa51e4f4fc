"""The PDF layout (fpdf2): real font metrics keep every word inside the page, long tables
repeat their header row on each page, and Unicode text prints as written."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from motorlab.report.document import Document, Paragraph, Section, Table
from motorlab.report.pdf import latin1, render_pdf

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")

A4_W_PT, A4_H_PT = 595.28, 841.89


def _words(pdf) -> list[tuple[int, float, float, str]]:
    """(page, xMin, xMax, word) of every word, from pdftotext -bbox."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True)
    out, page = [], 0
    for line in html.stdout.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', line)
        if m:
            out.append((page, float(m.group(1)), float(m.group(2)), m.group(3)))
    return out


def test_long_tables_and_names_stay_inside_the_page_with_headers_on_every_page(tmp_path):
    long_name = "sub-P007_ses-03_task-tremorpostural_tracksys-imupen_acq-wristband_run-12_motion.tsv"
    rows = tuple(
        (f"row {i}", "Grip strength (mean of the valid trials), right hand", long_name, f"{i * 1.5:.1f} kg")
        for i in range(120)
    )
    doc = Document(
        "Fine-motor report – client Ω-Ärztin-P007",
        "subtitle",
        [
            Section(
                "s",
                "A long table",
                [
                    Table(("Row", "Measure", "File", "Result"), rows, caption="caption"),
                    Paragraph("Grip ± SD, z = −0.31, Φ(z), 9.80665 m/s², naïve Zoë. " * 30, plain=True),
                ],
            )
        ],
        footer="footer",
    )
    path = render_pdf(doc, tmp_path / "long.pdf")
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 3 and "595.28 x 841.89" in info
    words = _words(path)
    margin_pt = 18 / 25.4 * 72
    assert all(x0 >= margin_pt - 1 and x1 <= A4_W_PT - margin_pt + 1 for _, x0, x1, _ in words), max(
        words, key=lambda w: w[2]
    )
    # the header row starts again on every page the table spans
    table_pages = {p for p, _, _, w in words if w.startswith("row")}
    header_pages = {p for p, _, _, w in words if w == "Measure"}
    assert len(table_pages) >= 2 and table_pages <= header_pages
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "Ω-Ärztin-P007" in text and "−0.31" in text and "m/s²" in text and "Zoë" in text
    # every row is there once, with the long name broken inside its cell, not cut off
    assert sum(1 for _, _, _, w in words if w == "row") == 120
    assert text.replace("\n", "").count("motion.tsv") == 120


def test_core_font_fallback_text_is_latin1():
    assert latin1("z = −0.31 · Φ(z) ± 2 – ok") == "z = -0.31 * Phi(z) ± 2 - ok"
    latin1("Ω").encode("latin-1")


def test_without_a_dejavu_font_the_pdf_falls_back_to_helvetica(tmp_path, monkeypatch):
    import motorlab.report.pdf as pdf_mod

    monkeypatch.setattr(pdf_mod, "font_dir", lambda: None)  # as on a system without DejaVu TTFs
    doc = Document(
        "Report – Zoë", "z = −0.31 · Φ(z)", [Section("s", "Ω section", [Paragraph("9.8 m/s² ± 1")])]
    )
    path = render_pdf(doc, tmp_path / "core.pdf")
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    assert "Helvetica" in fonts and "DejaVu" not in fonts
    assert (
        "Report - Zoë" in text and "z = -0.31 * Phi(z)" in text and "? section" in text and "m/s² ± 1" in text
    )
