"""The GPU check's Python; bench/jobs/gpu-check.sh is its shell (wheels, environment, time limits,
the grids). The shell calls `python -m bench.jobs.gpu_check COMMAND`:

  env              the Python and the versions of the packages the check cares about
  block DIR        DIR/sitecustomize.py: the dry run's block of what a JAX process keeps out
  audit MODE       JAX's devices, Keras, and what the JAX cell path imports (AUDIT-OK / AUDIT-FAIL)
  plan WORK MODE   the phases, each a grid spec in WORK/specs, listed in WORK/plan.tsv
  gate WORK        exit 1 if the gate ran and no cell of it ended ok (the rest is then skipped)
  summary WORK OUT MODE BUDGET ELAPSED   summary.txt and results.json (bench.jobs.gpu_check_summary)

Only `audit` imports JAX and Keras; the rest runs anywhere, TensorFlow or not. The plan's sizes come
from the DEVCHECK_* variables (see the script's header), so a dry run on a CPU is the same plan made
small.

What can mislead: the audit imports the modules of a JAX cell's path by name (importlib), bench.cli
(the grid's parent process) included, to measure what they drag in; it calls none of them, and the
layout test, which reads import statements, does not count these imports.
"""

import argparse
import glob
import importlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.frameworks import FRAMEWORKS, JAX

ROOT = Path(__file__).resolve().parents[2]
# Outside the framework table: the CUDA plugins JAX runs on, the wheels the check carries to a
# machine without an index, and what the package and its report stage use.
OTHER_PACKAGES = ("jax-cuda13-plugin", "jax-cuda13-pjrt", "jax-cuda12-plugin", "namex", "optree",
                  "mlxtend", "filelock", "numpy", "scipy", "pandas", "h5py", "ml-dtypes", "absl-py",
                  "rich", "tqdm", "scikit-learn", "matplotlib", "seaborn", "pillow", "tensorboard")
# What a JAX cell must not import beside what its framework keeps out: seaborn is the report's,
# seconds of import for a process that reads no record.
NOT_IN_A_CELL = (*JAX.keeps_out, "seaborn")
# Watched, not judged: heavy imports a cell would rather not pay for.
WATCHED = (*NOT_IN_A_CELL, "tensorboard", "torch", "matplotlib", "pandas", "sklearn", "tqdm", "mlxtend")
# The modules a JAX grid cell imports, its parent grid process's included, beside the JAX
# runtime's and the instrument's forward pass, which the framework table names.
CELL_PATH = ("bench.cli", "bench.grid.run", "bench.grid.local", "bench.grid.worker", "bench.grid.spec",
             "bench.cell.jax_packed", "bench.cell.jax_step", "bench.cell.loop", "bench.cell.models",
             "bench.cell.generate", "bench.cell.timing", "bench.cell.train", "bench.cell.flops",
             "bench.cell.gpuinfo", "bench.cell.devices", "bench.evaluate.classifier",
             "bench.evaluate.metrics", "bench.evaluate.score", "bench.datasets")
GRID = ROOT / "runs" / "grids" / "gpu-check-jax.toml"  # the same plan as one grid
NO_CAP = 100_000  # seconds: a phase cut by the budget alone


def framework_packages() -> tuple:
    """Every framework's package, the packages its records version, and what it keeps out."""
    names = (p for f in FRAMEWORKS.values() for p in (f.package, *f.versions, *f.keeps_out))
    return tuple(dict.fromkeys(names))


def env_lines(version=importlib.metadata.version) -> list[str]:
    """The Python and each package's version, or "(absent)"."""
    lines = [f"python {sys.version.split()[0]} {sys.executable}"]
    for name in (*framework_packages(), *OTHER_PACKAGES):
        try:
            lines.append(f"  {name} {version(name)}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(f"  {name} (absent)")
    return lines


def blocker_source(packages: tuple) -> str:
    """A sitecustomize.py that makes `packages` unimportable in every process started with its
    folder on PYTHONPATH: the dry run imitates a GPU machine that has none of them."""
    return f'''"""The GPU check's dry run: {", ".join(packages)} blocked (bench.jobs.gpu_check)."""
import importlib.abc
import sys

BLOCKED = {packages!r}


class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(name + " is blocked: the GPU check's dry run imitates a machine without it")


sys.meta_path.insert(0, _Block())
'''


def audited_modules() -> tuple:
    named = (JAX.runtime, JAX.inference)
    return tuple(dict.fromkeys((*CELL_PATH, *(n.split(":")[0] for n in named if n))))


def audit_verdict(loaded) -> str:
    """The audit's last word on the modules `loaded` (sys.modules): AUDIT-OK, or AUDIT-FAIL and
    the packages a JAX cell must not import."""
    bad = [m for m in NOT_IN_A_CELL if m in loaded]
    return "AUDIT-FAIL: imports " + ", ".join(bad) if bad else \
        "AUDIT-OK: none of " + ", ".join(NOT_IN_A_CELL)


def audit(mode: str) -> int:
    """Prints what JAX sees, then imports the JAX cell path and says what came with it."""
    t0 = time.time()
    os.environ["KERAS_BACKEND"] = JAX.keras_backend
    for f in FRAMEWORKS.values():
        if f is not JAX:
            try:
                importable = importlib.util.find_spec(f.package) is not None
            except ImportError as e:  # the dry run's block
                importable = f"no ({e})"
            print(f"{f.package} importable:", importable)
    import jax

    print(JAX.package, jax.__version__, "default backend:", jax.default_backend())
    print("jax.devices():", jax.devices())
    for d in jax.devices():
        print("  device", d.id, d.platform, repr(d.device_kind))
    if mode == "gpu" and jax.default_backend() != "gpu":
        print("GPU-FAIL: JAX sees no GPU")
    import keras

    print("keras", keras.__version__, "backend", keras.backend.backend())
    # by name, as data: what each module drags in is the measurement
    modules = {name: importlib.import_module(name) for name in audited_modules()}
    print("metrics engine here:", modules["bench.evaluate.metrics"].engine())
    split = modules["bench.datasets"].load_split("mnist-5k", "train", None)
    print("mnist-5k:", split.images.shape, split.source)
    spec = modules["bench.grid.spec"].load_spec(GRID)
    print(f"{GRID.relative_to(ROOT)}:", len(spec.cells), "cells in parts",
          sorted({c.part for c in spec.cells}))
    print("imported by the JAX cell path:", {m: m in sys.modules for m in WATCHED})
    print(audit_verdict(sys.modules))
    print(f"audit took {time.time() - t0:.1f}s")
    return 0


@dataclass(frozen=True)
class Settings:
    """The plan's sizes, from the DEVCHECK_* variables (the defaults: the 6-minute GPU check)."""

    ks: tuple = (8, 32)
    study_ks: tuple = (1, 8, 32)  # the study program (a window a dispatch): K seeds, both packings
    batches: tuple = (64, 256)
    precisions: tuple = ("float32", "mixed_bfloat16")
    steps: int = 1000  # gate and batches
    log_every: int = 100
    packed_steps: int = 400
    packed_log_every: int = 50
    final_n: int = 10000  # the gate's final evaluation
    packed_final_n: int = 1000  # each packed seed's


def _knob(variable: str, default, raw: str):
    if isinstance(default, tuple) and isinstance(default[0], str):
        return tuple(raw.split())
    try:
        return tuple(int(w) for w in raw.split()) if isinstance(default, tuple) else int(raw)
    except ValueError:
        raise BenchError(f"expected whole numbers, found {raw!r}", field=variable) from None


def settings_from(environ) -> Settings:
    """Settings from DEVCHECK_<FIELD> variables (KS, BATCHES, PRECISIONS: space-separated)."""
    found = {}
    for name, default in vars(Settings()).items():
        variable = f"DEVCHECK_{name.upper()}"
        if environ.get(variable):  # set and not empty, as the shell's ${VAR:-default}
            found[name] = _knob(variable, default, environ[variable])
    for name in ("batches", "precisions"):  # the gate's are the first of each
        if not found.get(name, True):
            raise BenchError("expected at least one, found none", field=f"DEVCHECK_{name.upper()}")
    return Settings(**found)


@dataclass(frozen=True)
class Phase:
    name: str
    min_s: int  # skipped when less is left of the budget
    cap_s: int  # cut at this (times DEVCHECK_CAP_SCALE), never past the budget
    spec: str  # the grid spec's TOML


def spec_text(title, device, steps, log_every, final_n, parts, k=1, packing="",
              program="step") -> str:
    """A grid spec: JAX cells of `parts` (name, seeds, batch sizes, precisions), XLA on, under
    the step or the study program."""
    lines = [f'name = "devcheck {title}: the DCGAN under {JAX.label}, {device}"', 'data = "mnist-5k"',
             "[budget]", f"steps = {steps}", f"log_every = {log_every}", "warmup_windows = 1"]
    if k > 1:
        lines += [f"seeds_per_process = {k}", f'packing = "{packing}"']
    lines += ["[eval]", f"final_n = {final_n}"]
    for name, seeds, batches, precisions in parts:
        lines += ["[[parts]]", f'name = "{name}"', "[parts.axes]", f"seeds = {json.dumps(list(seeds))}",
                  f"batch_sizes = {json.dumps(list(batches))}", f'devices = ["{device}"]', "xla = [true]",
                  f"precision = {json.dumps(list(precisions))}", f'frameworks = ["{JAX.name}"]']
        lines += [f'programs = ["{program}"]'] if program != "step" else []
    return "\n".join(lines) + "\n"


def plan(s: Settings, device: str) -> list[Phase]:
    """The phases in order: the gate (the first batch size and precision, evaluated), the other
    batch sizes and precisions in one grid, the study program (a window's steps a dispatch, the
    data on the device) for each of study_ks seeds by vmap and by loop, then K packed seeds of
    the step program by vmap and by loop, the loop at the largest K last (it compiles K copies of
    the step) with what is left of the budget."""
    b0, *other_batches = s.batches
    p0, *other_precisions = s.precisions
    phases = [Phase("gate", 45, 150, spec_text("gate", device, s.steps, s.log_every, s.final_n,
                                               [("gate", (0,), (b0,), (p0,))]))]
    parts = [("batches", (0,), other_batches, (p0,))] if other_batches else []
    parts += [("batches_lowp", (0,), s.batches, other_precisions)] if other_precisions else []
    if parts:  # the gate's configuration not again
        phases.append(Phase("batches", 60, 300, spec_text("batches", device, s.steps, s.log_every, 0, parts)))

    def packed(k, packing, min_s, cap_s, program="step"):
        name = (f"packed{k}_{packing}" if program == "step" else
                f"study{k}" + (f"_{packing}" if k > 1 else ""))
        return Phase(name, min_s, cap_s, spec_text(name, device, s.packed_steps, s.packed_log_every,
                                                   s.packed_final_n, [(name, range(k), (b0,), (p0,))],
                                                   k, packing, program))

    phases += [packed(k, packing, 40, 60 + 4 * k, "study") for k in s.study_ks
               for packing in (("vmap", "loop") if k > 1 else ("auto",))]
    # packing = "auto" times both packings first and keeps the faster: does it pick the phase
    # above that measured fastest?
    kstudy = max(s.study_ks, default=0)
    if kstudy > 1:
        phases.append(packed(kstudy, "auto", 40, 90 + 4 * kstudy, "study"))
    kmax = max(s.ks, default=0)
    phases += [packed(k, packing, 40, 60 + 4 * k) for packing in ("vmap", "loop") for k in s.ks
               if k > 1 and not (packing == "loop" and k == kmax)]
    if kmax > 1:
        phases.append(packed(kmax, "loop", 60, NO_CAP))
    return phases


def write_plan(work: Path, phases: list[Phase]) -> Path:
    """Each phase's spec in work/specs; work/plan.tsv lists name, min_s, cap_s, spec path."""
    (work / "specs").mkdir(parents=True, exist_ok=True)
    rows = []
    for p in phases:
        path = work / "specs" / f"{p.name}.toml"
        path.write_text(p.spec)
        rows.append(f"{p.name}\t{p.min_s}\t{p.cap_s}\t{path}\n")
    (work / "plan.tsv").write_text("".join(rows))
    return work / "plan.tsv"


def gate_failed(phases: list[list[str]], statuses: list) -> bool:
    """Whether the gate's grid ran (an exit code, cut or not; a skipped or unasked gate fails
    nothing) and none of its cells ended ok."""
    ran = any(p[0] == "gate" and p[1].isdigit() for p in phases)
    return ran and "ok" not in statuses


def _tail(path: str, n: int) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])


def gate(work: Path) -> int:
    from bench.jobs.gpu_check_summary import read_phases

    summaries = sorted(glob.glob(str(work / "runs" / "gate" / "gate_*" / "summary.json")))
    statuses = [json.loads(Path(p).read_text()).get("status") for p in summaries]
    if not gate_failed(read_phases(work), statuses):
        return 0
    print("GATE FAILED: the first JAX cell did not end ok; its log and traceback:")
    for log in sorted(glob.glob(str(work / "runs" / "gate" / "logs" / "*.log"))):
        print(f"== {log}\n{_tail(log, 60)}")
    for tb in sorted(glob.glob(str(work / "runs" / "gate" / "gate_*" / "traceback.txt"))):
        print(f"== {tb}\n{_tail(tb, 40)}")
    return 1


def kernels(work: Path, mode: str) -> int:
    """The profile of a packed step: for one seed and each K of the plan (DEVCHECK_KS) by vmap
    and by loop, the kernels one dispatch runs (bench.cell.jax_packed.entry_kernels of its
    optimized HLO on this device), at the gate's batch, one JSON line each into
    work/kernels.jsonl as it is counted (the shell's timeout may cut the last cases; the lines
    before stay)."""
    import numpy as np

    os.environ["KERAS_BACKEND"] = JAX.keras_backend
    from bench.cell.jax_packed import PackedSteps, entry_kernels
    from bench.cell.runtime import make_runtime
    from bench.config import CellConfig

    s = settings_from(os.environ)
    batch = s.batches[0]
    runtime = make_runtime(JAX.name)
    cases = [(1, "loop")] + [(k, packing) for k in s.ks for packing in ("vmap", "loop")]
    with (work / "kernels.jsonl").open("a") as out:
        for k, packing in cases:
            cfgs = [CellConfig(framework=JAX.name, device="gpu" if mode == "gpu" else "cpu",
                               batch_size=batch, seed=seed) for seed in range(k)]
            device = runtime.device(cfgs[0])
            t0 = time.time()
            with device.placement():
                program = PackedSteps([runtime.build(c, device).step for c in cfgs], True, packing)
                images = [np.zeros((batch, 28, 28, 1), np.float32)] * k
                by_opcode = entry_kernels(program.optimized_hlo(images))
            line = {"k": k, "packing": packing, "batch": batch, "kernels": sum(by_opcode.values()),
                    "by_opcode": by_opcode, "seconds": round(time.time() - t0, 1)}
            out.write(json.dumps(line) + "\n")
            out.flush()
            print(json.dumps(line), flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.jobs.gpu_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env")
    sub.add_parser("block").add_argument("dir", type=Path)
    sub.add_parser("audit").add_argument("mode")
    for name, args in (("plan", ("work", "mode")), ("gate", ("work",)), ("kernels", ("work", "mode")),
                       ("summary", ("work", "out", "mode", "budget", "elapsed"))):
        p = sub.add_parser(name)
        for arg in args:
            p.add_argument(arg, type={"work": Path, "out": Path, "budget": int, "elapsed": int}.get(arg, str))
    a = parser.parse_args(argv)
    if a.command == "env":
        print("\n".join(env_lines()))
    elif a.command == "block":
        a.dir.mkdir(parents=True, exist_ok=True)
        (a.dir / "sitecustomize.py").write_text(blocker_source(JAX.keeps_out))
    elif a.command == "audit":
        return audit(a.mode)
    elif a.command == "plan":
        try:
            phases = plan(settings_from(os.environ), "gpu" if a.mode == "gpu" else "cpu")
        except BenchError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        write_plan(a.work, phases)
        print("plan: " + ", ".join(f"{p.name} (needs {p.min_s}s, cap "
                                  + ("the budget" if p.cap_s == NO_CAP else f"{p.cap_s}s") + ")"
                                  for p in phases))
    elif a.command == "gate":
        return gate(a.work)
    elif a.command == "kernels":
        return kernels(a.work, a.mode)
    elif a.command == "summary":
        from bench.jobs.gpu_check_summary import write_summary

        print(write_summary(a.work, a.out, a.mode, a.budget, a.elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
