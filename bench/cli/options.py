"""Argument types shared by several commands."""

import argparse

ON_OFF = {"on": True, "off": False, "true": True, "false": False}


def on_off(value: str) -> bool:
    try:
        return ON_OFF[value.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected on or off, found {value!r}") from None


def add_table_formats(parser):
    """One set of output options for every command that prints a table: the 100-column text
    table by default, `--wide` (every column, one line a row), `--csv` and `--json` for scripts
    (every column, numbers unrounded)."""
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument("--wide", action="store_true",
                         help="every column, one line a row (default: what fits 100 "
                              "characters, text wrapped, nothing cut)")
    formats.add_argument("--csv", action="store_true", help="the table as CSV, every column")
    formats.add_argument("--json", action="store_true",
                         help="the table as JSON (a list of objects), every column")


def table_text(frame, args, brief=None) -> str:
    """`frame` as the options chose: CSV, JSON, or a text table (`brief`'s columns, when given,
    unless --wide) that fits 100 characters."""
    import json

    from bench import records
    from bench.report.terminal import DEFAULT_WIDTH, WIDE, frame_text

    if getattr(args, "csv", False):
        return frame.to_csv(index=False).rstrip("\n")
    if getattr(args, "json", False):
        return json.dumps(records.jsonable(frame.to_dict(orient="records")), indent=2,
                          default=str)
    wide = getattr(args, "wide", False)
    shown = frame if wide or brief is None else frame[[c for c in brief if c in frame]]
    return frame_text(shown, WIDE if wide else DEFAULT_WIDTH)
