"""HTML and Markdown for the report: sections of blocks in, one self-contained page out.

Every string that comes from a spec or a record goes through `html.escape` here (and through
`md_cell` for Markdown: bench.literal), so a grid named `<script>alert(1)</script>` shows
as text. The page has
no script, no external stylesheet, font or image: figures are PNG files beside it, referenced by
relative paths.

Blocks are tuples: ("p", text), ("figure", src, alt), ("table", DataFrame, csv_name),
("pre", text), ("samples", [(config, [(src or None, caption, status)])]).
"""

import html
import math

import pandas as pd

from bench import schema
from bench.literal import markdown_text

KNOWN_STATUSES = set(schema.STATUSES) | {schema.STATUS_MISSING, schema.STATUS_UNREADABLE}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0;
       color: #1d1d1f; background: #fff; line-height: 1.45; }
main { max-width: 1500px; margin: 0 auto; padding: 1rem 2rem 4rem; }
.headline { font-size: 1.1rem; border-left: 4px solid #0b5cad; padding: 0.2rem 0 0.2rem 0.9rem;
            margin: 0.6rem 0 1rem; }
.headline p { margin: 0.25rem 0; }
details summary { cursor: pointer; color: #0b5cad; margin: 0.4rem 0; }
h1 { font-size: 1.6rem; margin: 1rem 0 0.2rem; word-break: break-word; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 2px solid #e3e6ea;
     padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
p.meta { color: #555; margin-top: 0; }
nav { background: #f5f7fa; border: 1px solid #e3e6ea; border-radius: 6px; padding: .5rem 1rem; }
nav a { margin-right: 1.1rem; color: #0b5cad; text-decoration: none; display: inline-block; }
p { overflow-wrap: anywhere; }  /* a 40-character commit hash, a path: wrapped on a phone */
@media (max-width: 600px) { main { padding: .5rem .8rem 3rem; } }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .82rem; margin: .4rem 0; }
th, td { border: 1px solid #d9dde3; padding: .25rem .5rem; text-align: right;
         vertical-align: top; }
th { background: #f0f3f7; text-align: center; }
td.text { text-align: left; white-space: nowrap; }
td.long { text-align: left; min-width: 14rem; max-width: 30rem; overflow-wrap: break-word; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.status { font-weight: 600; text-align: center; }
.status-ok { color: #1a7f37; } .status-diverged { color: #b35900; }
.status-failed { color: #c62828; } .status-skipped, .status-missing { color: #6e7781; }
.status-running { color: #0b5cad; } .status-interrupted { color: #8250df; }
.status-other { color: #6e7781; }
img.fig { max-width: 100%; height: auto; border: 1px solid #eef0f3; }
.sample-groups { display: flex; flex-wrap: wrap; column-gap: 2.5rem; }
.samples { display: flex; flex-wrap: wrap; gap: .8rem; }
.samples figure { margin: 0; text-align: center; font-size: .8rem; }
.samples img { border: 1px solid #d9dde3; image-rendering: pixelated; }
.nosample { width: 242px; height: 60px; display: flex; align-items: center;
            justify-content: center; background: #f5f7fa; color: #6e7781;
            border: 1px dashed #ccd; }
pre { background: #f5f7fa; border: 1px solid #e3e6ea; padding: .8rem; overflow-x: auto;
      font-size: .8rem; }
a.csv { font-size: .8rem; color: #0b5cad; }
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def fmt(value) -> str:
    """A table value as text: blanks for missing, yes/no, integers plain, 4 significant digits."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalars: plain Python
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer():
            return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
        return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"
    return str(value)


def status_class(status) -> str:
    return f"status-{status}" if status in KNOWN_STATUSES else "status-other"


def table_html(frame: pd.DataFrame, csv_name=None) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    # Columns with long text (reasons, tracebacks' last lines) wrap; the rest stay on one line.
    long = {c for c in frame.columns
            if frame[c].map(lambda v: isinstance(v, str) and len(v) > 30).any()}
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, record):
            text = esc(fmt(value))
            if col == "status":
                cells.append(f'<td class="status {status_class(value)}">{text}</td>')
            elif isinstance(value, str):
                cells.append(f'<td class="{"long" if col in long else "text"}">{text}</td>')
            else:
                cells.append(f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    link = f' <a class="csv" href="{esc(csv_name)}">{esc(csv_name)}</a>' if csv_name else ""
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>'
            + "\n".join(rows) + f"</tbody></table></div>{link}")


def _samples_html(groups) -> str:
    out = ['<div class="sample-groups">']
    for config, items in groups:
        out.append(f'<div><h3>{esc(config)}</h3><div class="samples">')
        for src, caption, status in items:
            picture = (f'<img src="{esc(src)}" width="242" height="242" alt="{esc(caption)}">'
                       if src else '<div class="nosample">no samples.png</div>')
            out.append(f'<figure>{picture}<figcaption>{esc(caption)} · <span class="'
                       f'{status_class(status)}">{esc(status)}</span></figcaption></figure>')
        out.append("</div></div>")
    out.append("</div>")
    return "\n".join(out)


def block_html(block) -> str:
    kind = block[0]
    if kind == "p":
        return f"<p>{esc(block[1])}</p>"
    if kind == "figure":
        if block[1] is None:
            return ""
        return f'<p><img class="fig" src="{esc(block[1])}" alt="{esc(block[2])}"></p>'
    if kind == "table":
        return table_html(block[1], block[2])
    if kind == "pre":
        return f"<pre>{esc(block[1])}</pre>"
    if kind == "samples":
        return _samples_html(block[1])
    if kind == "details":  # shown on a click, no script: the rest of a table, say
        return f"<details><summary>{esc(block[1])}</summary>{block_html(block[2])}</details>"
    raise ValueError(f"unknown block kind {kind!r}")


def nav_label(heading: str) -> str:
    """A section's name in the page's navigation: its heading without what its parentheses or
    colon explain ("Throughput (the run is the unit: ...)" is "Throughput")."""
    short = heading.split(" (")[0]
    return short.split(": ")[0] if len(short) > 30 else short


def page(title: str, meta: list[str], sections, headline=()) -> str:
    """The whole page: the headline's sentences first, then the sections, (anchor, heading,
    blocks)."""
    nav = " ".join(f'<a href="#{esc(anchor)}">{esc(nav_label(heading))}</a>'
                   for anchor, heading, _ in sections)
    body = "\n".join(
        f'<section id="{esc(anchor)}"><h2>{esc(heading)}</h2>\n'
        + "\n".join(block_html(b) for b in blocks) + "</section>"
        for anchor, heading, blocks in sections)
    meta_html = "".join(f'<p class="meta">{esc(m)}</p>' for m in meta)
    headline_html = ('<div class="headline">' + "".join(f"<p>{esc(h)}</p>" for h in headline)
                     + "</div>") if headline else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style></head>\n"
            f"<body><main><h1>{esc(title)}</h1>{headline_html}{meta_html}<nav>{nav}</nav>\n"
            f"{body}\n"
            f"</main></body></html>\n")


def md_cell(value) -> str:
    """Markdown text of a value: what Markdown would read as markup escaped, and nothing else
    (summary.md is read as plain text in CI logs, rendered in pull-request comments)."""
    return markdown_text(fmt(value))


def table_md(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(md_cell(c) for c in frame.columns) + " |",
             "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def markdown(title: str, meta: list[str], parts) -> str:
    """summary.md: parts are (heading, DataFrame or None, sentence when the table is empty)."""
    out = [f"# {md_cell(title)}", ""] + [md_cell(m) + "  " for m in meta] + [""]
    for heading, frame, empty in parts:
        out += [f"## {md_cell(heading)}", ""]
        out += [table_md(frame) if frame is not None and not frame.empty else md_cell(empty), ""]
    return "\n".join(out)
