"""The therapist's report: one self-contained HTML file and a PDF with the same sections."""

from .build import ReportData, ReportFiles, build_document, build_report, collect, report_paths
from .document import Document, Section

__all__ = [
    "Document",
    "ReportData",
    "ReportFiles",
    "Section",
    "build_document",
    "build_report",
    "collect",
    "report_paths",
]
