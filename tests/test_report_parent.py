"""The one-page parent summary: its content follows the full report, and the PDF is always
exactly one A4 page, even with many measures, goals and notes."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess

import pytest

from motorlab.clinic import ClientRegistry, GoalStore, make_client, make_goal
from motorlab.report import build_report
from motorlab.report.parent import (
    ParentSummary,
    build_parent_summary,
    render_parent_html,
    render_parent_pdf,
)
from motorlab.sim.dataset import simulate_grip
from motorlab.sim.sample_clinic import write_sample_clinic
from motorlab.storage.bids import write_recording

pytestmark = pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")


def _pages(pdf) -> tuple[int, str]:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "595.28 x 841.89 pts (A4)" in info
    return int(re.search(r"Pages:\s+(\d+)", info).group(1)), re.sub(r"\s+", " ", text)


def test_parent_page_of_the_sample_clinic(tmp_path):
    truth = write_sample_clinic(tmp_path / "clinic")
    files = build_report(truth.root, truth.participant)
    assert files.parent_pdf.name == "sub-P007_ses-03_parent.pdf" and files.parent_html.exists()
    pages, text = _pages(files.parent_pdf)
    assert pages == 1
    for heading in (
        "What we measured",
        "What it means",
        "Progress on goals",
        "Next steps",
        "Therapist's note",
    ):
        assert heading in text
    right = files.data.line("grip_strength_kgf", "right")
    assert f"{right.value:.1f} kg" in text and "a real improvement since the first visit" in text
    assert "Open a jam jar with the right hand: more than expected" in text
    assert all(w in text.split("Therapist's note")[1] for w in ("Therapist", "Signature", "Date"))
    html = files.parent_html.read_text(encoding="utf-8")
    assert "<script" not in html and "Open a jam jar with the right hand" in html
    # the child's writing as drawn (the sample clinic's spiral is measured on a tablet surface)
    ink = files.data.current and build_parent_summary(files.data).ink
    assert ink is not None and ink.png.startswith(b"\x89PNG")
    assert 'id="writing"' in html and "data:image/png;base64," in html
    assert "The writing as drawn" in text


def test_parent_page_stays_one_page_when_crowded(tmp_path):
    crowded = ParentSummary(
        "Visit summary",
        "Client P999 · visit 12 · 01 Jan 2027",
        tuple(f"Task {i} – what it shows, told in a sentence of ordinary length" for i in range(12)),
        tuple(
            f"Measure {i}, right hand: 12.3 kg; higher than about 40 in 100 girls aged 8–9."
            for i in range(30)
        ),
        tuple(
            (f"Goal {i}: a long goal written by the therapist in everyday words", "as expected")
            for i in range(8)
        ),
        "The combined goal score is 50.",
        ("Keep practising.", "Please bring your questions to the next visit."),
        tuple("A note the therapist typed during the task, " * 4 for _ in range(4)),
    )
    open_files = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    path = render_parent_pdf(crowded, tmp_path / "crowded.pdf")
    if open_files:  # the discarded layout attempts leave no font file open
        assert len(os.listdir("/proc/self/fd")) == open_files
    pages, text = _pages(path)
    assert pages == 1
    assert "Goal 7: a long goal" in text and "Signature" in text  # never dropped
    assert "more in the full report" in text  # what was shortened points to the full report
    assert "Measure 0, right hand" in text


def test_session_notes_on_the_parent_page_only_when_there_are_some(tmp_path):
    root = tmp_path / "clinic"
    ClientRegistry(root).add(make_client("P300", 2016, "F", "left"))
    for label, notes in (("01", [{"time_s": 12.0, "text": "Tried hard, liked the game"}]), ("02", None)):
        rec = simulate_grip("P300", label, hand="left", seed=int(label)).recording
        md = rec.metadata.replace(acq_time=f"2026-03-{int(label) + 1:02d}T10:00:00")
        write_recording(
            dataclasses.replace(rec, metadata=md), root, {"MotorlabNotes": notes} if notes else None
        )
    GoalStore(root, "P300").put(
        make_goal(
            "G1",
            "Zip a coat",
            "grip_strength_kgf",
            "left",
            10,
            [("", 8), ("", 11), ("", 14), ("", 17), ("", 20)],
            created="2026-03-02",
        )
    )
    first = build_report(root, "P300", session="01", out_dir=tmp_path / "a")
    _, text = _pages(first.parent_pdf)
    assert "Grip strength (0:12): Tried hard, liked the game" in text
    assert "Zip a coat: baseline: scored from the next session" in text
    assert "There is no norm for this age" not in text or "no norm for this age" in text
    assert "girls" not in text or "women" not in text
    second = build_report(root, "P300", session="02", out_dir=tmp_path / "b")
    _, text2 = _pages(second.parent_pdf)
    assert (
        "Tried hard" not in text2
        and "Zip a coat:" in text2
        and "baseline" not in text2.split("Zip a coat:")[1][:30]
    )
    assert "Tried hard" not in render_parent_html(
        dataclasses.replace(ParentSummary("t", "s", (), (), (), "", (), ()))
    )
