"""Tables for a terminal: a DataFrame laid out to a width, 100 columns unless asked wider.

One style for every command that prints a table (`table`, `compare`, `claims`, `claims --plan`,
`history list`, `history show`): a header, a rule, the rows; two spaces between columns; numbers
right-aligned. Nothing is ever cut: numbers and short words keep their width, and text (a header,
a reason, a verdict's why, a cell id) wraps inside its column, between words or after `_`, `-`,
`/`, `,` where it has no spaces; a word still too long for its column is broken with a visible
`↩` at the end of each broken piece. A table whose columns cannot fit the width even so is shown
a row at a time, one `column: value` line a field, and says so. Plain text out (no colour codes),
so logs and pipes read the same as a terminal. Nothing here imports TensorFlow.
"""

import math
import re

import pandas as pd

from bench.literal import printable

DEFAULT_WIDTH = 100
WIDE = 10_000  # --wide: every column at its full width, as wide as the content
GAP = "  "
RULE = "─"
BROKEN = "↩"  # ends a piece of a word broken because no break point fitted its column
LONGEST_PIECE = 30  # a longer word without break points is broken, marked, to fit
LEAST_TEXT = 8  # a wrapping column narrower than this reads as confetti: go a row at a time
# where text without spaces may break: after these (a cell id, a path, a list)
_BREAKS = re.compile(r"(?<=[_/,\-])")


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _column_texts(values: pd.Series) -> list[str]:
    """A column's values as text: whole numbers without decimals, others with as many decimals
    as the column's typical size asks (1,234; 45.5; 0.123), missing values empty."""
    if not _is_numeric(values):
        return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else printable(str(v))
                for v in values]
    numbers = pd.to_numeric(values, errors="coerce")
    present = numbers.dropna()
    if present.empty:
        return [""] * len(values)
    if (present == present.round()).all():
        decimals = 0
    else:
        size = present.abs().median()
        decimals = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 0.1 else 4
    return ["" if math.isnan(v) else f"{v:,.{decimals}f}" for v in numbers]


def _pieces(word: str) -> list[str]:
    """A word without spaces split where it may break (after `_`, `-`, `/`, `,`)."""
    return [p for p in _BREAKS.split(word) if p]


def _least_width(text: str, inside_words: bool = True) -> int:
    """The narrowest column `text` wraps into without breaking a piece (a word, where
    `inside_words` is false: a header)."""
    return max((len(p) for word in text.split()
                for p in (_pieces(word) if inside_words else [word])), default=0)


def _words_in(word: str, width: int) -> list[str]:
    """A word too long for `width`, in parts that fit: at its break points where they serve,
    else cut with BROKEN at the end of every part but its last."""
    parts, part = [], ""
    for piece in _pieces(word):
        if len(part + piece) <= width:
            part += piece
            continue
        if part:
            parts.append(part)
        part = piece
        while len(part) > width:
            parts.append(part[:width - 1] + BROKEN)
            part = part[width - 1:]
    return parts + [part] if part else parts


def wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters: between words first, inside a word (see
    _words_in) only where the word alone does not fit."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            if len(line) + bool(line) + len(word) <= width:
                line += (" " if line else "") + word
                continue
            if line:
                lines.append(line)
            *whole, line = _words_in(word, width) if len(word) > width else [word]
            lines += whole
        lines.append(line)
    return lines


def _widths(heads: list[str], texts: list[list[str]], numeric: list[bool], width: int):
    """Each column's width: its natural width where the table fits, else the wrapping columns
    narrowed (the widest first) down to what their longest piece needs. None where even that
    does not fit."""
    natural = [max([len(heads[i]), *(len(t) for t in texts[i])]) for i in range(len(heads))]
    # a number never wraps nor breaks; text wraps at its break points, and a piece longer than
    # LONGEST_PIECE may be broken (marked) rather than widen its column
    least = []
    for i in range(len(heads)):
        if numeric[i]:
            least.append(max([_least_width(heads[i], False), *(len(t) for t in texts[i])]))
        else:
            pieces = max([_least_width(heads[i], False), *(_least_width(t) for t in texts[i])])
            least.append(min(natural[i], max(min(pieces, LONGEST_PIECE), LEAST_TEXT)))
    widths = list(natural)
    room = width - len(GAP) * (len(heads) - 1)
    while sum(widths) > room:
        slack = [w - n for w, n in zip(widths, least)]
        narrowable = [i for i in range(len(widths)) if slack[i] > 0]
        if not narrowable:
            return None
        # the widest first, for even columns; the first column (what a row is: a cell, a
        # claim) counts half below LONGEST_PIECE, so that a short name reads whole; and
        # a number's header wraps before any value does
        widest = max(narrowable, key=lambda i: (numeric[i], widths[i] if i or
                                                widths[i] > LONGEST_PIECE else widths[i] / 2))
        widths[widest] -= 1
    return widths


def _row_lines(cells: list[str], widths: list[int], right: list[bool]) -> list[str]:
    parts = [wrapped(c, w) for c, w in zip(cells, widths)]
    height = max(len(p) for p in parts)
    out = []
    for k in range(height):
        fields = [(p[k] if k < len(p) else "").rjust(w) if r else
                  (p[k] if k < len(p) else "").ljust(w) for p, w, r in zip(parts, widths, right)]
        out.append(GAP.join(fields).rstrip())
    return out


def _records_text(heads: list[str], rows: list[list[str]], width: int) -> str:
    """A row at a time, `column: value` a line, for a table too wide to fit the width whole."""
    out = wrapped(f"(one row at a time: these {len(heads)} columns do not fit {width} "
                  "characters side by side)", width)
    for row in rows:
        out.append("")
        for head, value in zip(heads, row):
            out += wrapped(f"{head}: {value}", width)
    return "\n".join(out)


def frame_text(frame: pd.DataFrame, width: int = DEFAULT_WIDTH) -> str:
    """The frame as a plain-text table at most `width` characters wide, nothing cut."""
    heads = [printable(str(c)) for c in frame.columns]
    if not heads:
        return ""
    numeric = [_is_numeric(frame[c]) for c in frame.columns]
    texts = [_column_texts(frame[c]) for c in frame.columns]
    rows = [list(r) for r in zip(*texts)]
    widths = _widths(heads, texts, numeric, width)
    if widths is None:
        return _records_text(heads, rows, width)
    lines = _row_lines(heads, widths, numeric)
    lines.append(GAP.join(RULE * w for w in widths))
    for row in rows:
        lines += _row_lines(row, widths, numeric)
    return "\n".join(lines)
