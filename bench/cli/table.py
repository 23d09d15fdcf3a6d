"""`dcgan-bench table RUNS...`: the results of run or cell directories as one table."""

from bench import schema

TABLE_COLUMNS = ("cell_id", "status", schema.IMAGES_PER_SEC_MEDIAN, schema.IMAGES_PER_SEC_P10,
                 schema.IMAGES_PER_SEC_P90, "compile_seconds", "wall_seconds",
                 schema.PEAK_MEMORY_MIB, schema.FINAL_FID, schema.FINAL_CLASSIFIER_SCORE,
                 schema.FINAL_CLASSES_COVERED, "reason")


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
    df[schema.PEAK_MEMORY_MIB] = peak_memory_mib(df)
    shown = df[[c for c in TABLE_COLUMNS if c in df.columns]]
    with pd.option_context("display.max_rows", None, "display.width", 200,
                           "display.max_colwidth", 60, "display.float_format", "{:,.2f}".format):
        print(shown.to_string(index=False))
    return 0
