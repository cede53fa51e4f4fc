"""Render a :class:`~motorlab.report.document.Document` as one self-contained HTML file.

Standard library only: every text is escaped with :func:`html.escape`, figures
are embedded as base64 PNG ``data:`` URIs, the style sheet is inline and there
is no script, so the file opens offline and prints cleanly.
"""

from __future__ import annotations

import base64
from html import escape
from string import Template

from .document import Document, Facts, Figure, Paragraph, Section, Subheading, Table

_CSS = """
:root { --ink:#1d2733; --muted:#5b6775; --line:#d6dde5; --accent:#1f5f8b; --plain:#f3f7fa; --good:#1e7d4f; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: var(--ink); margin: 0;
       background: #eef1f4; line-height: 1.45; font-size: 15px; }
main { max-width: 880px; margin: 24px auto; background: #fff; padding: 36px 48px 28px;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: 10px; margin-bottom: 8px; }
header.report h1 { margin: 0; font-size: 26px; color: var(--accent); letter-spacing: .2px; }
header.report p { margin: 4px 0 0; color: var(--muted); }
nav.toc { font-size: 13px; color: var(--muted); margin: 10px 0 4px; display: flex; flex-wrap: wrap; gap: 2px 14px; }
nav.toc a { color: var(--accent); text-decoration: none; white-space: nowrap; }
section { margin-top: 26px; page-break-inside: auto; }
section h2 { font-size: 19px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin: 0 0 10px;
             color: var(--accent); }
h3 { font-size: 16px; margin: 18px 0 6px; }
p { margin: 6px 0; }
p.plain { background: var(--plain); border-left: 4px solid var(--accent); padding: 8px 12px; margin: 10px 0;
          border-radius: 0 4px 4px 0; }
p.plain::before { content: "In plain words: "; font-weight: bold; color: var(--accent); }
dl.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 4px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top;
         overflow-wrap: break-word; hyphens: manual; }
th.num { text-align: right; }
th { background: #f6f8fa; font-weight: 600; color: #34414f; }
td.num { text-align: right; font-variant-numeric: tabular-nums; overflow-wrap: normal; white-space: nowrap; }
tr.emph td { background: #eef7f1; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 12.5px; padding-top: 4px; }
figure { margin: 12px 0 16px; page-break-inside: avoid; }
figure img { display: block; width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
footer { margin-top: 30px; border-top: 1px solid var(--line); padding-top: 8px; font-size: 12px; color: var(--muted); }
@media print { body { background: #fff; } main { box-shadow: none; margin: 0; max-width: none; padding: 0; }
               nav.toc { display: none; } }
"""

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="motorlab">
<title>$title</title>
<link rel="icon" href="data:,">
<style>$css</style>
</head>
<body>
<main>
<header class="report">
<h1>$title</h1>
<p>$subtitle</p>
</header>
<nav class="toc">$toc</nav>
$sections
<footer>$footer</footer>
</main>
</body>
</html>
""")


_BLANK = ("", "–", "-", "n/a")


def _num_like(cell: str) -> bool:
    s = cell.strip().lstrip("+−-±").replace(",", "").replace(".", "", 1).split(" ")[0]
    return bool(s) and s.isdigit()


def _numeric_columns(t: Table) -> list[bool]:
    """A column is right-aligned when all its filled cells start with a number."""
    out = []
    for c in range(len(t.columns)):
        cells = [r[c] for r in t.rows if r[c].strip() not in _BLANK]
        out.append(bool(cells) and all(_num_like(x) for x in cells))
    return out


def _cell(text: str) -> str:
    """Escaped cell text; long file names may break after underscores."""
    return escape(text).replace("_", "_<wbr>") if len(text) > 24 else escape(text)


def _table(t: Table) -> str:
    numeric = _numeric_columns(t)
    head = "".join(
        f'<th class="num">{escape(c)}</th>' if n else f"<th>{escape(c)}</th>"
        for c, n in zip(t.columns, numeric)
    )
    body = []
    for i, row in enumerate(t.rows):
        cls = ' class="emph"' if i in t.emphasis else ""
        cells = "".join(
            f'<td class="num">{_cell(c)}</td>' if n else f"<td>{_cell(c)}</td>" for c, n in zip(row, numeric)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    cap = f"<caption>{escape(t.caption)}</caption>" if t.caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(f: Figure) -> str:
    data = base64.b64encode(f.png).decode("ascii")
    width = int(round(f.width_in * 112))  # CSS px at the figure's intended size (max 784 px of text width)
    attrs = "".join(f' data-{escape(k, quote=True)}="{escape(v, quote=True)}"' for k, v in f.meta)
    return (
        f'<figure style="max-width: {width}px"{attrs}><img src="data:image/png;base64,{data}" '
        f'alt="{escape(f.alt, quote=True)}"><figcaption>{escape(f.caption)}</figcaption></figure>'
    )


def _block(b) -> str:
    if isinstance(b, Paragraph):
        return f'<p class="plain">{escape(b.text)}</p>' if b.plain else f"<p>{escape(b.text)}</p>"
    if isinstance(b, Subheading):
        return f"<h3>{escape(b.text)}</h3>"
    if isinstance(b, Facts):
        items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in b.items)
        return f'<dl class="facts">{items}</dl>'
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        return _figure(b)
    raise TypeError(f"unknown report block {type(b).__name__}")


def _section(s: Section) -> str:
    inner = "\n".join(_block(b) for b in s.blocks)
    return f'<section id="{escape(s.key, quote=True)}">\n<h2>{escape(s.title)}</h2>\n{inner}\n</section>'


def render_html(doc: Document) -> str:
    """The complete HTML page (UTF-8 text)."""
    toc = "".join(f'<a href="#{escape(s.key, quote=True)}">{escape(s.title)}</a>' for s in doc.sections)
    return _PAGE.substitute(
        title=escape(doc.title),
        subtitle=escape(doc.subtitle),
        css=_CSS,
        toc=toc,
        sections="\n".join(_section(s) for s in doc.sections),
        footer=escape(doc.footer),
    )
