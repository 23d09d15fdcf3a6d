"""`dcgan-bench continuous BASELINE CANDIDATE SPEC`: two git revisions of this repository trained
round after round on one machine, alternately, and judged in pairs (bench.analysis.paired).

Each revision gets, once, a git worktree at its commit and a virtual environment beside it, kept
in the cache (`$DCGAN_BENCH_CACHE/continuous/<commit>/`, else `~/.cache/dcgan-bench/...`): the
environment holds no copies, only two path files, the revision's source and this interpreter's
site-packages, so it runs offline with the dependencies installed here, and the revision's own
code. A round runs the spec's throughput part (all of it where it has none) once a side, in
ABBA order (baseline first in even rounds, candidate first in odd ones), each run a grid run of
its own under `<out>/round<NN>/<side>/`. Whatever drifts on the machine meanwhile hits both sides
of a round; the pairs cancel it.
"""

import os
import subprocess
import sys
import sysconfig
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from bench import records
from bench.errors import BenchError
from bench.grid.calibration import ESTIMATE_ENV
from bench.grid.estimate import duration_text

CACHE_ENV = "DCGAN_BENCH_CACHE"
RESULT_FILE = "continuous.json"
# A revision's own grid function run by its own interpreter: another revision's code can only run
# in a process of its own, and there it is called as a function, not through the command line.
# Exit as `grid` does: 0 all ok, 1 a cell not ok, 2 bad input.
RUN_GRID = """
import sys
from pathlib import Path
from bench.errors import BenchError
from bench.grid.run import run_grid
from bench.grid.spec import load_spec
spec_path, out, parts = sys.argv[1:4]
try:
    spec = load_spec(spec_path)
    if parts:
        spec = spec.select_parts(parts.split(","))
    sys.exit(run_grid(spec, Path(out)).exit_code)
except BenchError as e:
    print(e, file=sys.stderr)
    sys.exit(2)
"""
THROUGHPUT_PART = "throughput"


@dataclass(frozen=True)
class Revision:
    label: str  # baseline | candidate
    ref: str  # as the user named it
    commit: str
    src: Path
    python: Path


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "dcgan-bench") / "continuous"


def _git(repo: Path, *args) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}", path=repo)
    return proc.stdout.strip()


def check_rounds(rounds: int, option: str):
    """BenchError unless `rounds` can give a verdict."""
    from bench.analysis.paired import MIN_PAIRS

    if rounds < MIN_PAIRS:
        raise BenchError(f"{option}: expected {MIN_PAIRS} or more (a round is one pair, and "
                         f"{MIN_PAIRS} pairs are the fewest judged), found {rounds}")


def clean_head(repo: Path) -> str:
    """HEAD's commit, where the harness's source in the working tree is what HEAD holds: the A/B
    builds commits, so uncommitted changes would be measured by one run and not the other."""
    if _git(repo, "status", "--porcelain", "--", "bench", "pyproject.toml"):
        raise BenchError("--ab: the working tree has uncommitted changes to the harness (bench/, "
                         "pyproject.toml), and the A/B runs commits: commit them, or run without "
                         "--ab", path=repo)
    return _git(repo, "rev-parse", "HEAD")


def prepare(repo: Path, ref: str, label: str, cache: Path | None = None) -> Revision:
    """The revision's worktree and environment, made once and kept in the cache."""
    commit = _git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}")
    root = (cache or cache_root()) / commit
    src, env = root / "src", root / "env"
    if not (src / "bench" / "__init__.py").is_file():
        root.mkdir(parents=True, exist_ok=True)
        _git(repo, "worktree", "add", "--detach", "--force", str(src), commit)
    python = env / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
        site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                    "print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
        # the revision's source before this interpreter's packages (a .pth's lines are added in
        # the order of the files' names)
        (site / "00_dcgan_bench_revision.pth").write_text(f"{src}\n")
        here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        (site / "zz_dcgan_bench_packages.pth").write_text("".join(f"{p}\n" for p in sorted(here)))
    return Revision(label, ref, commit, src, python)


def run_rounds(spec: Path, baseline: Revision, candidate: Revision, rounds: int, out: Path,
               parts: str | None, say=print, env: dict | None = None,
               on_round=None) -> list[tuple[Path, Path]]:
    """`rounds` rounds of the spec, one grid run a side a round, in ABBA order; each round's
    (baseline run directory, candidate run directory). `on_round(r)` is called before round r
    (tests change the machine there)."""
    # no calibration a grid: the rounds are judged in pairs, and the ETA is the rounds' own
    env = {**(os.environ if env is None else env), ESTIMATE_ENV: "off"}
    done, began = [], time.monotonic()
    for r in range(rounds):
        if on_round:
            on_round(r)
        order = (baseline, candidate) if r % 2 == 0 else (candidate, baseline)
        runs = {}
        for side in order:
            run_dir = out / f"round{r:02d}" / side.label
            args = [str(side.python), "-c", RUN_GRID, str(spec.resolve()),
                    str(run_dir.resolve()), parts or ""]
            started = time.monotonic()
            proc = subprocess.run(args, cwd=side.src, env=env, capture_output=True, text=True)
            sides_done = 2 * r + len(runs) + 1
            left = (time.monotonic() - began) / sides_done * (2 * rounds - sides_done)
            say(f"round {r + 1}/{rounds}: {side.label} ({side.commit[:10]}) "
                f"{'ok' if proc.returncode == 0 else f'exit {proc.returncode}'} in "
                f"{time.monotonic() - started:.0f} s; ETA ~{duration_text(left)} (rate so far)")
            if proc.returncode not in (0, 1):  # 1: a cell did not end ok; its record says why
                raise BenchError(f"the {side.label}'s grid failed (exit {proc.returncode}): "
                                 f"{(proc.stderr or proc.stdout).strip()[-500:]}", path=run_dir)
            runs[side.label] = run_dir
        done.append((runs[baseline.label], runs[candidate.label]))
    return done


def throughput_parts(spec: Path) -> str | None:
    """The part a round runs: the spec's `throughput` part, or None (all of it) where it has none."""
    from bench.grid.spec import load_spec

    cells = load_spec(spec).cells
    return THROUGHPUT_PART if any(c.part == THROUGHPUT_PART for c in cells) else None


def run_continuous(repo: Path, baseline_ref: str, candidate_ref: str, spec: Path, rounds: int,
                   out: Path, margin: float, say=print, cache: Path | None = None,
                   on_round=None) -> dict:
    """The whole A/B: both revisions prepared, `rounds` rounds run, the pairs judged; the record
    (also written to <out>/continuous.json) with each configuration's paired verdict.
    `on_round(r)`: as run_rounds'."""
    from bench.analysis.paired import paired_verdicts
    from bench.analysis.runs import run_dir_to_run

    parts = throughput_parts(spec)
    baseline = prepare(repo, baseline_ref, "baseline", cache)
    candidate = prepare(repo, candidate_ref, "candidate", cache)
    say(f"{rounds} rounds of {spec} ({parts or 'every'} part): baseline {baseline_ref} = "
        f"{baseline.commit[:10]}, candidate {candidate_ref} = {candidate.commit[:10]}; runs "
        f"under {out}")
    done = run_rounds(spec, baseline, candidate, rounds, out, parts, say, on_round=on_round)
    record = {"spec": str(spec), "part": parts, "margin": margin, "out": str(out),
              "revisions": {r.label: {"ref": r.ref, "commit": r.commit}
                            for r in (baseline, candidate)},
              "rounds": [{"baseline": b, "candidate": c} for b, c in done],
              "verdicts": paired_verdicts([(run_dir_to_run(b), run_dir_to_run(c))
                                           for b, c in done], margin)}
    records.write_json_record(out / RESULT_FILE, record)
    return record


def verdicts_text(verdicts: dict) -> str:
    """A line a configuration: its verdict, the ratio with its interval, the pairs judged."""
    lines = []
    for config, v in verdicts.items():
        ratio = "-" if v["ratio"] is None else \
            f"{v['ratio']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}]"
        lines += textwrap.wrap(f"{config}: {v['verdict'].upper()}, candidate / baseline {ratio} "
                               f"over {v['pairs']} pairs" + (f" ({v['why']})" if v["why"] else ""),
                               100, subsequent_indent="  ", break_long_words=False,
                               break_on_hyphens=False)
    return "\n".join(lines)
