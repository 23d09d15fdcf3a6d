"""`dcgan-bench nightly SPEC`: the nightly job in one command (what `tox -e nightly` runs).

    grid SPEC -> history ingest -> compare last-good -> report -> trend

A grid with failed cells goes on: the comparison lists them (a cell ok last night and failed
tonight is a regression). The report and the trend page are rendered whatever the verdict.
Exit: the comparison's (0 ok, 1 regression or drift), or 2 when a step gets bad input.
"""

from pathlib import Path


def add(sub):
    p = sub.add_parser("nightly", help="grid, ingest, compare with last-good, report, trend",
                       description=__doc__)
    p.add_argument("spec", help="a grid spec, e.g. runs/grids/nightly.toml")
    p.add_argument("--db", default=None, help="history (default $BENCH_HISTORY or "
                                              "runs/history.sqlite)")
    p.add_argument("--reports", default="reports",
                   help="pages go to REPORTS/<spec stem> (the night's report), "
                        "REPORTS/<spec stem>-compare and REPORTS/trend (default reports)")


def run(args) -> int:
    from bench.cli import main
    from bench.errors import EXIT_BAD_INPUT
    from bench.grid.run import LATEST_LINK

    stem = Path(args.spec).stem
    run_dir = str(Path("runs") / stem / LATEST_LINK)
    db = ["--db", args.db] if args.db else []
    reports = Path(args.reports)
    grid_code = main(["grid", args.spec])
    if grid_code == EXIT_BAD_INPUT or not Path(run_dir).is_dir():
        return grid_code or EXIT_BAD_INPUT
    ingest_code = main(["history", "ingest", run_dir, *db])
    if ingest_code:
        return ingest_code
    compare_code = main(["compare", "last-good", run_dir, *db,
                         "--out", str(reports / f"{stem}-compare")])
    pages = [main(["report", run_dir, "--out", str(reports / stem)]),
             main(["trend", *db, "--out", str(reports / "trend")])]
    print(f"nightly: comparison {reports / f'{stem}-compare'}/index.html, report "
          f"{reports / stem}/index.html, trend {reports / 'trend'}/index.html")
    return compare_code or max(pages)
