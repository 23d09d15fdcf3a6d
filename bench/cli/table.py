"""`dcgan-bench table RUNS...`: the results of run or cell directories as one table (no
TensorFlow); 100 columns wide unless `--wide`."""

import sys

from bench import schema
from bench.cli.options import add_table_formats, table_text
from bench.literal import printable

# What fits 100 columns: the cell, how it ended, its speed, the other processes' share of the
# machine while it was timed (median window, bench.cell.contention) and its final quality; the
# reason of each cell that did not end ok follows the table, on its own line.
BRIEF_COLUMNS = {"cell_id": "cell", "status": "status", schema.IMAGES_PER_SEC_MEDIAN: "img/s",
                 schema.OTHERS_SHARE: "others", "compile_seconds": "compile s",
                 schema.FINAL_FID: "FID",
                 schema.FINAL_CLASSES_COVERED: "classes", schema.FINAL_OUTCOME: "outcome"}
TABLE_COLUMNS = ("cell_id", "status", schema.IMAGES_PER_SEC_MEDIAN, schema.IMAGES_PER_SEC_P10,
                 schema.IMAGES_PER_SEC_P90, "mfu", *schema.CONTENTION_COLUMNS, "compile_seconds",
                 "wall_seconds")
QUALITY_COLUMNS = (schema.FINAL_FID, schema.FINAL_CLASSIFIER_SCORE, schema.FINAL_CLASSES_COVERED,
                   schema.FINAL_CONFIDENT_FRACTION, schema.FINAL_OUTCOME,
                   schema.WARNINGS_COUNT, "reason")


def add(sub):
    p = sub.add_parser("table", help="print run records as one table",
                       description="The results of run or cell directories, one row a cell.")
    p.add_argument("runs", nargs="+", help="run or cell directories")
    add_table_formats(p)


def run(args) -> int:
    import pandas as pd

    from bench.analysis.results import load_results, peak_memory_mib
    from bench.runlock import runs_in_progress

    df = load_results(args.runs)
    for run, holder in runs_in_progress(df["cell_dir"]).items():  # said first, also to a script
        print(printable(f"in progress: {run} is still being written by its grid ({holder}); "
                        "its cells that have not finished read `running`"), file=sys.stderr)
    if args.csv or args.json:  # every column, every number unrounded
        print(table_text(df, args))
        return 0
    if args.wide:
        shown = pd.concat([df[[c for c in TABLE_COLUMNS if c in df]], peak_memory_mib(df),
                           df[[c for c in QUALITY_COLUMNS if c in df]]], axis=1)
    else:
        shown = df[[c for c in BRIEF_COLUMNS if c in df]].rename(columns=BRIEF_COLUMNS)
    two_runs = df["run"].nunique() > 1
    if two_runs:  # rows of two runs: each says which it came from
        shown.insert(0, "run", df["run"])
    # Quality numbers from different final sample counts or instruments do not compare: one
    # table per (final n, instrument), each headed by what it was measured with.
    keys = [df[schema.FINAL_N].fillna(-1), df[schema.CLASSIFIER_SHA256].fillna("")]
    groups = list(shown.groupby(keys, sort=True))
    for i, ((n, sha), part) in enumerate(groups):
        if len(groups) > 1:
            head = (f"final n = {int(n)}, instrument {sha[:12]}" if n >= 0
                    else "no final evaluation")
            print(("\n" if i else "") + f"## {head} ({len(part)} cell{'s' if len(part) != 1 else ''})")
        print(table_text(part, args))
        if not args.wide:
            _print_reasons(df.loc[part.index], two_runs)
    return 0


def _print_reasons(rows, name_runs: bool):
    """Why each cell that did not end ok ended so, wrapped to 100 columns."""
    import textwrap

    for _, row in rows[rows["status"] != schema.STATUS_OK].iterrows():
        if isinstance(row.get("reason"), str) and row["reason"]:
            where = f"{row['run']}/" if name_runs else ""
            print(printable(textwrap.fill(f"{where}{row['cell_id']} {row['status']}: {row['reason']}",
                                          100, subsequent_indent="    ")))
    return 0
