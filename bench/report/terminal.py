"""Tables for a terminal (rich): a DataFrame laid out to a width, 100 columns unless asked wider.

`table` and `compare` show a few columns that fit 100 columns by default, and every column with
`--wide`; the long cell ids and reasons wrap inside their column instead of pushing the line
past the width. Plain text out (no colour codes), so logs and pipes read the same as a terminal.
Nothing here imports TensorFlow.
"""

import io
import math

import pandas as pd

from bench.literal import printable

DEFAULT_WIDTH = 100
WIDE = 10_000  # --wide: every column at its full width, as wide as the content
WRAP_FROM = 24  # text longer than this may wrap inside its column


def _column_texts(values: pd.Series) -> list[str]:
    """A column's values as text: whole numbers without decimals, others with as many decimals
    as the column's typical size asks (1,234; 45.5; 0.123), missing values empty."""
    numbers = pd.to_numeric(values, errors="coerce") if pd.api.types.is_numeric_dtype(values) \
        and not pd.api.types.is_bool_dtype(values) else None
    if numbers is None:
        return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                for v in values]
    present = numbers.dropna()
    if present.empty:
        return [""] * len(values)
    if (present == present.round()).all():
        decimals = 0
    else:
        size = present.abs().median()
        decimals = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 0.1 else 4
    return ["" if math.isnan(v) else f"{v:,.{decimals}f}" for v in numbers]


def frame_text(frame: pd.DataFrame, width: int = DEFAULT_WIDTH) -> str:
    """The frame as a plain-text table at most `width` characters wide (text columns wrap)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False, padding=(0, 1))
    rows = [list(r) for r in zip(*(_column_texts(frame[c]) for c in frame.columns))] \
        if len(frame.columns) else []
    for i, column in enumerate(frame.columns):
        numeric = pd.api.types.is_numeric_dtype(frame[column]) and \
            not pd.api.types.is_bool_dtype(frame[column])
        longest = max((len(r[i]) for r in rows), default=0)
        # only long text wraps (a reason, a verdict's why): numbers, words and the first column
        # (what a row is: a cell, a configuration) keep their width
        wraps = not numeric and i > 0 and longest > WRAP_FROM
        # Text, not str: rich would read `[/x]` in a reason as markup (and fail, or drop it)
        table.add_column(Text(printable(column)), justify="right" if numeric else "left",
                         overflow="fold", no_wrap=not wraps,
                         min_width=min(longest, WRAP_FROM) if wraps else None)
    for row in rows:
        table.add_row(*(Text(printable(value)) for value in row))
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, highlight=False,
            legacy_windows=False).print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())
