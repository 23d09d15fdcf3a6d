"""`dcgan-bench nightly SPEC`: the nightly job in one command (what `tox -e nightly` runs).

    grid SPEC -> history ingest -> compare last-good -> report -> trend

With --ab REV, throughput is judged by an A/B in one run in place of last night's record: REV (or
the last good night's commit, for `last-good`) and this checkout's HEAD train the spec's
throughput part round after round, interleaved (as `dcgan-bench continuous` does).

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
    p.add_argument("--ab", default=None, metavar="REV",
                   help="judge throughput by an A/B in one run against this git revision, or "
                        "`last-good` (the last good night's commit), in place of last night's "
                        "record; needs a clean checkout")
    p.add_argument("--ab-rounds", type=int, default=6,
                   help="the A/B's rounds, one run a side each (default 6)")


def run(args) -> int:
    from bench.jobs.nightly import run_nightly

    return run_nightly(args.spec, args.db, args.reports, ab=args.ab,
                       ab_rounds=args.ab_rounds).exit_code
