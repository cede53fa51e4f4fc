"""The report as plain data: sections of headings, paragraphs, tables and figures.

The HTML and the PDF renderers walk the same :class:`Document`, so both files
always carry the same sections in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    """Text. ``plain`` marks the plain-language explanation for families."""

    text: str
    plain: bool = False


@dataclass(frozen=True)
class Facts:
    """Label/value pairs shown as a compact grid (client, date, device…)."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells. ``emphasis`` marks rows to highlight."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    emphasis: tuple[int, ...] = ()


@dataclass(frozen=True)
class Figure:
    """A PNG figure (bytes) with a caption and alternative text.

    ``meta``: name/value facts about what the figure draws (e.g. a chart's axis limits and
    values), written as ``data-`` attributes in the HTML so checks can compare them with the text.
    """

    png: bytes
    caption: str
    alt: str
    width_in: float = 7.0
    height_in: float = 3.0
    meta: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Subheading:
    text: str


Block = Paragraph | Facts | Table | Figure | Subheading


@dataclass
class Section:
    """One titled part of the report; ``key`` is a stable id (HTML anchor)."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, block: Block) -> Section:
        self.blocks.append(block)
        return self


@dataclass
class Document:
    """The whole report."""

    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)
    footer: str = ""

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def section_titles(self) -> list[str]:
        return [s.title for s in self.sections]
