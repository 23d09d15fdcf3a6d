"""`dcgan-bench trend`: the history's runs night after night, one offline HTML page (no TensorFlow)."""

DEFAULT_OUT = "reports/trend"


def add(sub):
    p = sub.add_parser("trend", help="throughput and final FID per configuration over the runs "
                                     "in the history, each run's verdict marked")
    p.add_argument("--db", default=None, help="default $BENCH_HISTORY or runs/history.sqlite")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")


def run(args) -> int:
    from bench.report.trend import render_trend

    print(f"trend page: {render_trend(args.db, args.out)}")
    return 0
