"""`dcgan-bench continuous BASELINE CANDIDATE SPEC`: A/B in one run (asv's name). The two git
revisions of this repository, each in a cached worktree and environment, train the spec's
throughput part round after round, alternately, and each round is a pair (bench.jobs.continuous,
bench.analysis.paired). Exit 0: no regression; 1: a regression; 2: bad input."""

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
    p.add_argument("--rounds", type=int, default=6, help="rounds, each a run a side (default 6)")
    p.add_argument("--out", default=None,
                   help="where the rounds' runs go (default runs/continuous/<time>)")
    p.add_argument("--repo", default=".", help="the git repository (default: here)")
    p.add_argument("--margin", type=float, default=None,
                   help="the least slowdown reported (default the compare margin, 10%%)")


def run(args) -> int:
    from bench.analysis.paired import paired_verdicts
    from bench.analysis.runs import run_dir_to_run
    from bench.analysis.throughput import MARGIN
    from bench.errors import BenchError
    from bench.grid.spec import load_spec
    from bench.jobs import continuous

    if args.rounds < 2:
        raise BenchError(f"--rounds: expected 2 or more (a round a side is one pair), found "
                         f"{args.rounds}")
    spec = Path(args.spec)
    parts = continuous.THROUGHPUT_PART if any(
        c.part == continuous.THROUGHPUT_PART for c in load_spec(spec).cells) else None
    repo = Path(args.repo)
    baseline = continuous.prepare(repo, args.baseline, "baseline")
    candidate = continuous.prepare(repo, args.candidate, "candidate")
    out = Path(args.out or Path("runs") / "continuous" / time.strftime("%Y%m%d-%H%M%S"))
    rounds = continuous.run_rounds(spec, baseline, candidate, args.rounds, out, parts)
    verdicts = paired_verdicts([(run_dir_to_run(b), run_dir_to_run(c)) for b, c in rounds],
                               args.margin if args.margin is not None else MARGIN)
    bad = False
    for config, v in verdicts.items():
        ratio = "-" if v["ratio"] is None else \
            f"{v['ratio']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}]"
        print(f"{config}: {v['verdict']}, {ratio} over {v['pairs']} pairs"
              + (f" ({v['why']})" if v["why"] else ""))
        bad |= v["verdict"] == "regression"
    return 1 if bad else 0
