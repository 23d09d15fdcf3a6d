"""`dcgan-bench compare BASELINE CANDIDATE`: is the candidate run slower or worse? (no TensorFlow)

Exit 0: no regression and no drift (improvements and `inconclusive` included); 1: a regression
or drift; 2: bad input, or runs that do not compare (different spec, instrument or final_n).
"""

DEFAULT_OUT = "reports/compare"


def add(sub):
    p = sub.add_parser("compare", help="compare two runs: throughput, drift, quality, numerics",
                       description=__doc__)
    p.add_argument("baseline", help="a grid run directory, a history id, or `last-good`: the "
                                    "newest earlier run of the candidate's spec in the history "
                                    "with no regression or drift verdict")
    p.add_argument("candidate", help="a grid run directory or a history id")
    p.add_argument("--db", default=None, help="history (default $BENCH_HISTORY or "
                                              "runs/history.sqlite)")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help=f"where index.html, summary.md and comparison.json go (default {DEFAULT_OUT})")
    p.add_argument("--alpha", type=float, default=None, help="significance level (default 0.002)")
    p.add_argument("--margin", type=float, default=None,
                   help="throughput noise margin, a fraction (default 0.10: 10%%)")
    p.add_argument("--drift-nights", type=int, default=None,
                   help="drift: compare with the oldest of this many last good runs (default 7)")


def _thresholds(args):
    from bench.analysis import compare
    from bench.errors import BenchError

    alpha = compare.ALPHA if args.alpha is None else args.alpha
    margin = compare.MARGIN if args.margin is None else args.margin
    nights = compare.DRIFT_NIGHTS if args.drift_nights is None else args.drift_nights
    if not 0 < alpha < 1:
        raise BenchError(f"--alpha: expected a probability between 0 and 1, found {alpha}")
    if not 0 <= margin < 1:
        raise BenchError(f"--margin: expected a fraction in [0, 1), found {margin}")
    if nights < 1:
        raise BenchError(f"--drift-nights: expected at least 1, found {nights}")
    return alpha, margin, nights


def run(args) -> int:
    from bench.analysis import compare, history
    from bench.report.comparison import comparison_text, write_comparison

    alpha, margin, nights = _thresholds(args)
    candidate = history.resolve_run(args.candidate, args.db)
    nightly = args.baseline == history.LAST_GOOD
    baseline = history.last_good(candidate, args.db) if nightly else \
        history.resolve_run(args.baseline, args.db)
    if baseline is None:
        print(f"no earlier good run of {candidate.info['spec_name']!r} in the history: "
              f"{candidate.id} is the first, and the baseline of the next")
        return 0
    drift_base = history.drift_base(candidate, nights, args.db) if nightly else None
    result = compare.compare_runs(baseline, candidate, drift_base=drift_base, alpha=alpha,
                                  margin=margin)
    print(comparison_text(result))
    write_comparison(result, args.out)
    print(f"\nwritten: {args.out}/index.html, {args.out}/summary.md")
    if nightly and not history.has_run(candidate.id, args.db):
        print(f"{candidate.id} is not in the history: its verdict is not recorded "
              "(`dcgan-bench history ingest` it first)")
    elif nightly:  # the verdict `last-good` and the trend page read
        history.record_verdict(candidate.id, baseline.id, result["verdict"],
                               {"alpha": alpha, "margin": margin, "reasons": result["reasons"],
                                "drift_base": result["drift_base"]}, args.db)
    return 1 if result["verdict"] in (compare.REGRESSION, compare.DRIFT) else 0
