"""`dcgan-bench compare BASELINE CANDIDATE`: is the candidate run slower or worse? (no TensorFlow)

Exit 0: nothing new went wrong (improvements, `inconclusive`, and a regression carried open from
an earlier night included); 1: a regression found in the candidate; 2: bad input, or runs that do
not compare (different spec, instrument or final_n, or different machines without
--across-machines or --quality-only).
"""

DEFAULT_OUT = "reports/compare"


def add(sub):
    p = sub.add_parser("compare", help="compare two runs: throughput, change points, quality, numerics",
                       description=__doc__)
    p.add_argument("baseline", help="a grid run directory, a history id, or `last-good`: the "
                                    "newest earlier good (or accepted) run of the candidate's "
                                    "spec on the same machine in the history, with the nights "
                                    "since judged for change points and open regressions")
    p.add_argument("candidate", help="a grid run directory or a history id")
    p.add_argument("--db", default=None, help="history (default $BENCH_HISTORY or "
                                              "runs/history.sqlite)")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help=f"where index.html, summary.md and comparison.json go (default {DEFAULT_OUT})")
    p.add_argument("--alpha", type=float, default=None,
                   help="the quality tests' family significance level (default 0.05)")
    p.add_argument("--margin", type=float, default=None,
                   help="throughput's least slowdown, a fraction (default 0.10: 10%%); the "
                        "verdict's threshold is this or the measured night noise, the larger")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--across-machines", action="store_true",
                       help="compare throughput of runs from different machine fingerprints "
                            "anyway; every output says so in its first line")
    scope.add_argument("--quality-only", action="store_true",
                       help="runs from different machines: compare quality alone")
    p.add_argument("--wide", action="store_true",
                   help="every column of every table (default: those that fit 100 characters)")


def run(args) -> int:
    from bench.analysis import history
    from bench.analysis.machines import ACROSS_MACHINES, QUALITY_ONLY, SAME_MACHINE
    from bench.analysis.verdicts import Thresholds, judge_run
    from bench.report.comparison import comparison_text, write_comparison

    given = {"alpha": args.alpha, "margin": args.margin}
    thresholds = Thresholds(**{k: v for k, v in given.items() if v is not None})
    scope = ACROSS_MACHINES if args.across_machines else \
        QUALITY_ONLY if args.quality_only else SAME_MACHINE
    judgement = judge_run(history.resolve_run(args.candidate, args.db), args.baseline, args.db,
                          thresholds, scope)
    if judgement.result is not None:
        # the files first: a reader of the printed text may close the pipe early (| head)
        write_comparison(judgement.result, args.out)
        print(comparison_text(judgement.result, wide=args.wide))
        print(f"\nwritten: {args.out}/ (index.html, summary.md)")
    for note in judgement.notes:
        print(note)
    return 1 if judgement.bad else 0
