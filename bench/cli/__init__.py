"""dcgan-bench: train, grid, evaluate and report the reference TensorFlow DCGAN.

One module per command, each with `add(subparsers)` and `run(args) -> exit code`. Commands import
TensorFlow only when they need it, and only after their arguments are validated, so a typo costs
milliseconds, and `table` and `report` run where TensorFlow is not installed.

Exit codes: 0 success; 1 a cell or grid did not finish ok; 2 bad input; 130 interrupted.
"""

import argparse
import os
import sys

from bench.cli import (
    claims,
    classifier,
    compare,
    evaluate,
    grid,
    history,
    nightly,
    report,
    table,
    train,
    trend,
)
from bench.errors import EXIT_BAD_INPUT, BenchError

COMMANDS = {"train": train, "grid": grid, "table": table, "score": evaluate.Score,
            "eval": evaluate.Eval, "classifier": classifier, "report": report,
            "history": history, "compare": compare, "trend": trend, "nightly": nightly,
            "claims": claims}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dcgan-bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add(sub)
    return parser


def main(argv=None) -> int:
    # TensorFlow's C++ INFO lines drown the harness's own output; users can still set it lower.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return COMMANDS[args.command].run(args)
    except BenchError as e:
        print(f"dcgan-bench {args.command}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
