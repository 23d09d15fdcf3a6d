"""`dcgan-bench table RUNS...`: the results of run or cell directories as one table."""

from bench import schema

TABLE_COLUMNS = ("cell_id", "status", schema.IMAGES_PER_SEC_MEDIAN, schema.IMAGES_PER_SEC_P10,
                 schema.IMAGES_PER_SEC_P90, "compile_seconds", "wall_seconds")
QUALITY_COLUMNS = (schema.FINAL_FID, schema.FINAL_CLASSIFIER_SCORE, schema.FINAL_CLASSES_COVERED,
                   schema.FINAL_CONFIDENT_FRACTION, schema.FINAL_OUTCOME,
                   schema.WARNINGS_COUNT, "reason")


def add(sub):
    p = sub.add_parser("table", help="print run records as one table")
    p.add_argument("runs", nargs="+", help="run or cell directories")
    p.add_argument("--csv", action="store_true", help="CSV instead of an aligned table")


def run(args) -> int:
    import pandas as pd

    from bench.analysis.results import load_results, peak_memory_mib

    df = load_results(args.runs)
    if args.csv:
        print(df.to_csv(index=False), end="")
        return 0
    memory = peak_memory_mib(df)
    shown = pd.concat([df[[c for c in TABLE_COLUMNS if c in df]], memory,
                       df[[c for c in QUALITY_COLUMNS if c in df]]], axis=1)
    # Quality numbers from different final sample counts or instruments do not compare: one
    # table per (final n, instrument), each headed by what it was measured with.
    keys = [df[schema.FINAL_N].fillna(-1), df[schema.CLASSIFIER_SHA256].fillna("")]
    groups = list(shown.groupby(keys, sort=True))
    with pd.option_context("display.max_rows", None, "display.width", 250,
                           "display.max_colwidth", 60, "display.float_format", "{:,.2f}".format):
        for i, ((n, sha), part) in enumerate(groups):
            if len(groups) > 1:
                head = (f"final n = {int(n)}, instrument {sha[:12]}" if n >= 0
                        else "no final evaluation")
                print(("\n" if i else "") + f"## {head} ({len(part)} cell{'s' if len(part) != 1 else ''})")
            print(part.to_string(index=False))
    return 0
