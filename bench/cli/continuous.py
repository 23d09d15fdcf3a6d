"""`dcgan-bench continuous BASELINE CANDIDATE SPEC`: A/B in one run (asv's name). The two git
revisions of this repository, each in a cached worktree and environment, train the spec's
throughput part round after round, alternately, and each round is a pair (bench.jobs.continuous,
bench.analysis.paired). Writes <out>/continuous.json. Exit 0: no regression; 1: a regression;
2: bad input (a revision git does not know, a spec that does not load, a side's grid that
failed)."""

import time
from pathlib import Path

RESULT_FILE = "continuous.json"


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
    from bench import records
    from bench.analysis.paired import MIN_PAIRS, paired_verdicts
    from bench.analysis.runs import run_dir_to_run
    from bench.analysis.verdicts import Thresholds
    from bench.errors import BenchError
    from bench.grid.spec import load_spec
    from bench.jobs import continuous

    if args.rounds < MIN_PAIRS:
        raise BenchError(f"--rounds: expected {MIN_PAIRS} or more (a round is one pair, and "
                         f"{MIN_PAIRS} pairs are the fewest judged), found {args.rounds}")
    margin = Thresholds(**({} if args.margin is None else {"margin": args.margin})).margin
    spec = Path(args.spec)
    parts = continuous.THROUGHPUT_PART if any(
        c.part == continuous.THROUGHPUT_PART for c in load_spec(spec).cells) else None
    repo = Path(args.repo)
    baseline = continuous.prepare(repo, args.baseline, "baseline")
    candidate = continuous.prepare(repo, args.candidate, "candidate")
    out = Path(args.out or Path("runs") / "continuous" / time.strftime("%Y%m%d-%H%M%S"))
    print(f"{args.rounds} rounds of {spec} ({parts or 'every'} part): baseline "
          f"{args.baseline} = {baseline.commit[:10]}, candidate {args.candidate} = "
          f"{candidate.commit[:10]}; runs under {out}")
    rounds = continuous.run_rounds(spec, baseline, candidate, args.rounds, out, parts)
    verdicts = paired_verdicts([(run_dir_to_run(b), run_dir_to_run(c)) for b, c in rounds],
                               margin)
    records.write_json_record(out / RESULT_FILE, {
        "spec": str(spec), "part": parts, "margin": margin,
        "revisions": {r.label: {"ref": r.ref, "commit": r.commit}
                      for r in (baseline, candidate)},
        "rounds": [{"baseline": b, "candidate": c} for b, c in rounds],
        "verdicts": verdicts})
    print(verdicts_text(verdicts))
    print(f"\nwritten: {out / RESULT_FILE}")
    return 1 if any(v["verdict"] == "regression" for v in verdicts.values()) else 0


def verdicts_text(verdicts: dict) -> str:
    """A line a configuration: its verdict, the ratio with its interval, the pairs judged."""
    lines = []
    for config, v in verdicts.items():
        ratio = "-" if v["ratio"] is None else \
            f"{v['ratio']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}]"
        lines.append(f"{config}: {v['verdict'].upper()}, candidate / baseline {ratio} over "
                     f"{v['pairs']} pairs" + (f" ({v['why']})" if v["why"] else ""))
    return "\n".join(lines)
