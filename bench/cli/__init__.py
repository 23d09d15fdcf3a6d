"""dcgan-bench: train, grid, evaluate and report the reference TensorFlow DCGAN.

One module per command, each with `add(subparsers)` and `run(args) -> exit code`. Commands import
TensorFlow only when they need it, and only after their arguments are validated, so a typo costs
milliseconds, and `table` and `report` run where TensorFlow is not installed.

Exit codes: 0 success; 1 a cell or grid did not finish ok; 2 bad input; 130 interrupted.
"""

import argparse
import contextlib
import os
import sys

from bench.cli import (
    claims,
    classifier,
    compare,
    continuous,
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
from bench.literal import printable

COMMANDS = {"train": train, "grid": grid, "table": table, "score": evaluate.Score,
            "eval": evaluate.Eval, "classifier": classifier, "report": report,
            "history": history, "compare": compare, "trend": trend, "nightly": nightly,
            "claims": claims, "continuous": continuous}


# One example a command, shown at the end of its --help.
EXAMPLES = {
    "train": "dcgan-bench train --steps 300 --final-eval-n 2000 --out runs/try/cell0",
    "grid": "dcgan-bench grid runs/grids/smoke.toml          # a first result in minutes\n"
            "  dcgan-bench grid runs/grids/cpu.toml --out runs/cpu/mine --resume",
    "table": "dcgan-bench table runs/smoke/latest            # 100 columns; --wide: all",
    "score": "dcgan-bench score samples.npz --data mnist-5k",
    "eval": "dcgan-bench eval runs/cpu/latest/quality_cpu_float32_xla-off_bs64_seed0 --n 10000",
    "classifier": "dcgan-bench classifier check --data mnist --data-dir ../shared/data/mnist",
    "report": "dcgan-bench report runs/smoke/latest --out reports/smoke",
    "history": "dcgan-bench history ingest runs/nightly/latest\n  dcgan-bench history list",
    "compare": "dcgan-bench compare runs/cpu/before runs/cpu/after --out reports/compare",
    "trend": "dcgan-bench trend --out reports/trend",
    "nightly": "dcgan-bench nightly runs/grids/nightly.toml",
    "claims": "dcgan-bench claims runs/claims/example.toml runs/collapse-cpu/latest",
    "continuous": "dcgan-bench continuous main HEAD runs/grids/nightly-throughput.toml "
                  "--rounds 6",
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; every option's default said, where it has one
    that its help does not already say."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if "default" in text or not action.option_strings or default is None or \
                default is argparse.SUPPRESS or isinstance(action, argparse._StoreTrueAction):
            return text
        if isinstance(default, bool):  # an on|off option
            return f"{text} (default: {'on' if default else 'off'})".lstrip()
        return f"{text} (default: %(default)s)".lstrip()


def build_parser() -> argparse.ArgumentParser:
    import bench

    parser = argparse.ArgumentParser(prog="dcgan-bench", description=__doc__,
                                     formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"dcgan-bench {bench.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add(sub)
    for name, command_parser in sub.choices.items():
        command_parser.formatter_class = HelpFormatter
        command_parser.epilog = f"example:\n  {EXAMPLES[name]}"
    return parser


def main(argv=None) -> int:
    # TensorFlow's C++ INFO lines drown the harness's own output; users can still set it lower.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        with quiet_closed_pipe():
            return COMMANDS[args.command].run(args)
    except BenchError as e:
        # a message may quote a file's content: shown as text, escapes and all
        print(printable(f"dcgan-bench {args.command}: error: {e}"), file=sys.stderr)
        return EXIT_BAD_INPUT


class _ClosedPipeQuiet:
    """stdout that, once its reader has gone (`| head`), drops what is printed after instead of
    raising: the command goes on to its end and exits with its own code (a verdict's, say)."""

    def __init__(self, stream):
        self.stream, self.closed_pipe = stream, False

    def write(self, text):
        if not self.closed_pipe:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._close()
        return len(text)

    def flush(self):
        if not self.closed_pipe:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._close()

    def _close(self):
        self.closed_pipe = True
        # Python flushes stdout again at exit: point its descriptor at /dev/null so that last
        # flush finds no closed pipe either (the recipe in Python's signal module docs)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.stream.fileno())
        os.close(devnull)

    def __getattr__(self, name):
        return getattr(self.stream, name)


@contextlib.contextmanager
def quiet_closed_pipe():
    """Run a command with stdout guarded by _ClosedPipeQuiet."""
    original = sys.stdout
    sys.stdout = _ClosedPipeQuiet(original)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = original
