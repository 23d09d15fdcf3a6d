"""`dcgan-bench claims CLAIMS.toml RUNS... [--out DIR] [--plan]`: do the runs support the claims?

Exit 0: no claim fails (holds and inconclusive included); 1: a claim fails; 2: bad input (a
malformed claims file, a claim about a configuration with no cells).
"""

from bench.cli.options import add_table_formats, table_text

TEXT_COLUMNS = ("claim", "verdict", "evidence", "why", "left out")
PLAN_COLUMNS = ("claim", "kind", "assumed", "seeds", "note")


def add(sub):
    p = sub.add_parser("claims", help="judge claims about seeds (the kinds: docs/statistics.md) "
                                      "on run records; --plan sizes a grid",
                       description=__doc__)
    p.add_argument("claims", help="a claims file, e.g. runs/claims/example.toml")
    p.add_argument("runs", nargs="*", help="run or cell directories")
    p.add_argument("--out", default=None,
                   help="write index.html, claims.md and claims.json here (default: print only)")
    p.add_argument("--plan", action="store_true",
                   help="print how many seeds would decide each claim with probability --power "
                        "(at the runs' observed rates when runs are given, else the best case)")
    p.add_argument("--power", type=float, default=0.8,
                   help="--plan: the probability of deciding a claim to size its seeds for "
                        "(default 0.8)")
    p.add_argument("--family", action="store_true",
                   help="Holm's correction across the file's claims: a claim holds only if it "
                        "still does after it (the output says whether it was applied)")
    add_table_formats(p)


def run(args) -> int:
    import pandas as pd

    from bench.analysis.cells import load_cells
    from bench.analysis.claims import judge
    from bench.analysis.claims_plan import plan
    from bench.analysis.claims_spec import load_claims
    from bench.errors import BenchError
    from bench.schema import CLAIM_FAILS

    if not 0 < args.power < 1:
        raise BenchError(f"--power: expected a probability between 0 and 1, found {args.power}")
    parsed = load_claims(args.claims)
    if not args.runs and not args.plan:
        raise BenchError("no run directories given: name the runs to judge the claims on "
                         "(or --plan to size a grid)")
    cells = load_cells(args.runs) if args.runs else None
    if args.plan:
        planned = pd.DataFrame(plan(parsed, cells, args.power))
        if not (args.csv or args.json or args.wide):  # what every row shares, said once
            levels = ", ".join(f"{v:g}" for v in sorted(planned["level"].unique()))
            print(f"seeds that decide each claim with probability {args.power:g} (--power), at "
                  f"level {levels}:")
        print(table_text(planned, args, brief=PLAN_COLUMNS))
        return 0
    from bench.report.claims import claims_table, write_claims

    verdicts = judge(parsed, cells, family=args.family)
    if not (args.csv or args.json):  # a script reads the table alone
        print("family correction: " + (f"Holm across the file's {len(verdicts)} claims"
                                       if args.family else
                                       "none (each claim at its own level; --family for Holm)"))
    print(table_text(claims_table(verdicts), args, brief=TEXT_COLUMNS))
    if args.out:
        write_claims(verdicts, args.out, args.claims)
        if not (args.csv or args.json):
            print(f"\nwritten: {args.out}/ (index.html, claims.md)")
    return 1 if any(v["verdict"] == CLAIM_FAILS for v in verdicts) else 0
