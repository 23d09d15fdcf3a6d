"""`dcgan-bench continuous BASELINE CANDIDATE SPEC`: A/B in one run (asv's name). The two git
revisions of this repository, each in a cached worktree and environment, train the spec's
throughput part round after round, alternately, and each round is a pair (bench.jobs.continuous,
bench.analysis.paired). Writes <out>/continuous.json. Exit 0: no regression; 1: a regression;
2: bad input (a revision git does not know, a spec that does not load, a side's grid that
failed)."""

import time
from pathlib import Path


def add(sub):
    p = sub.add_parser("continuous", help="A/B two git revisions on this machine, interleaved "
                                          "round after round, judged in pairs",
                       description=__doc__)
    p.add_argument("baseline", help="a git revision (commit, branch, tag)")
    p.add_argument("candidate", help="a git revision")
    p.add_argument("spec", help="a grid spec; its `throughput` part runs (all of it where it has "
                                "none)")
    p.add_argument("--rounds", type=int, default=6,
                   help="rounds, each a run a side, baseline and candidate in ABBA order "
                        "(default 6; 3 pairs at least are judged)")
    p.add_argument("--out", default=None,
                   help="where the rounds' runs and continuous.json go (default "
                        "runs/continuous/<time>)")
    p.add_argument("--repo", default=".", help="the git repository (default: here)")
    p.add_argument("--margin", type=float, default=None,
                   help="the least slowdown reported (default the compare margin, 10%%)")


def run(args) -> int:
    from bench.analysis.verdicts import Thresholds
    from bench.jobs import continuous

    continuous.check_rounds(args.rounds, "--rounds")
    margin = Thresholds(**({} if args.margin is None else {"margin": args.margin})).margin
    out = Path(args.out or Path("runs") / "continuous" / time.strftime("%Y%m%d-%H%M%S"))
    record = continuous.run_continuous(Path(args.repo), args.baseline, args.candidate,
                                       Path(args.spec), args.rounds, out, margin)
    print(continuous.verdicts_text(record["verdicts"]))
    print(f"\nwritten: {out / continuous.RESULT_FILE}")
    return 1 if any(v["verdict"] == "regression" for v in record["verdicts"].values()) else 0
