"""`dcgan-bench nightly SPEC`: the nightly job in one command (what `tox -e nightly` runs).

    grid SPEC -> history ingest -> compare last-good -> report -> trend

Exit: 0 nothing new went wrong; 1 a regression found tonight (one carried open from an earlier
night was reported then, and does not raise it again); 2 bad input; 130 interrupted (nothing
ingested). The job itself is bench.jobs.nightly.
"""

from bench.schema import REPORTS_ROOT


def add(sub):
    p = sub.add_parser("nightly", help="grid, ingest, compare with last-good, report, trend",
                       description=__doc__)
    p.add_argument("spec", help="a grid spec, e.g. runs/grids/nightly.toml")
    p.add_argument("--db", default=None, help="history (default $BENCH_HISTORY or "
                                              "runs/history.sqlite)")
    p.add_argument("--reports", default=REPORTS_ROOT,
                   help="pages go to REPORTS/<spec stem> (the night's report), "
                        "REPORTS/<spec stem>-compare and REPORTS/trend (default reports)")


def run(args) -> int:
    from bench.jobs.nightly import run_nightly

    return run_nightly(args.spec, args.db, args.reports).exit_code
