"""The step program against the study program, K seeds packed by loop and by vmap: images/s per
seed and for the process. A benchmark script, not a test (issue 44):

    python tests/benchmarks/study_programs.py [--ks 1,2,4,8] [--programs step,study]
        [--packings loop,vmap] [--batch-size 64] [--window 5] [--windows 2] [--model M]
        [--max-seconds 600] [--out reports/study_programs.json]

Each (K, program, packing) trains in its own process (Keras picks its backend once a process,
and each gets a fresh heap): the runtime's own programs and batches (bench.cell.runtime, the
loop's calls), K seeds of one configuration under JAX with XLA on. The compile step and one
warm-up window are left out; then `--windows` windows of `--window` steps, each ended by one
host sync, as the loop times them. K = 1 has no packing: it runs once, as `loop`. A
configuration whose warm-up window alone takes longer than `--max-seconds` / (windows + 1) is
stopped there and reported with the rate of its warm-up window, marked `warmup_only`.

`--kernels` instead counts, for the step program, the kernels one dispatch of the packed step
runs: the instructions of the entry computation of its optimized HLO as XLA dumps it
(`--xla_dump_to`), bookkeeping (parameters, constants, tuples, bitcasts) left out. On a GPU each
is a kernel launch or a library call; the count says how the launches grow with K.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def one(k: int, program: str, packing: str, batch_size: int, window: int, windows: int,
        model: str, max_seconds: float) -> dict:
    """Train and time one configuration in this process."""
    os.environ["KERAS_BACKEND"] = "jax"
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from bench.cell.runtime import make_runtime
    from bench.config import CellConfig
    from bench.datasets import load_split

    cfgs = [CellConfig(framework="jax", xla=True, program=program, model=model,
                       batch_size=batch_size, log_every=window, seeds_per_process=k,
                       packing=packing if k > 1 else "auto", seed=seed) for seed in range(k)]
    split = load_split(cfgs[0].data, "train", None)
    runtime = make_runtime("jax")
    device = runtime.device(cfgs[0])
    with device.placement():
        steps = [runtime.build(c, device).step for c in cfgs]
        prog = runtime.program(steps, cfgs[0], device, split)
        feeds = [runtime.batches(split, c) for c in cfgs]
        t0 = time.perf_counter()
        np.asarray(prog([next(f) for f in feeds]))
        compile_seconds = time.perf_counter() - t0
        if windows == 0:  # --kernels: the compiled program is all that was wanted
            return {"k": k, "compile_seconds": compile_seconds}

        def timed_window() -> float:
            start = time.perf_counter()
            if prog.steps_per_dispatch > 1:
                out = prog.run_window([[next(f) for f in feeds] for _ in range(window)])
                np.asarray(out)
            else:
                rows = [prog([next(f) for f in feeds]) for _ in range(window)]
                np.asarray(rows[-1])  # one host sync a window: the last step waits on the rest
            return time.perf_counter() - start

        warmup = timed_window()
        warmup_only = warmup * (windows + 1) > max_seconds
        seconds = [warmup] if warmup_only else [timed_window() for _ in range(windows)]
    images = window * batch_size * cfgs[0].packing_m
    per_seed = images * len(seconds) / sum(seconds)
    return {"k": k, "program": program, "packing": packing if k > 1 else None,
            "batch_size": batch_size, "model": model, "compile_seconds": compile_seconds,
            "window_seconds": seconds, "warmup_only": warmup_only,
            "images_per_sec_per_seed": per_seed, "images_per_sec_process": per_seed * k,
            "steps_per_dispatch": prog.steps_per_dispatch}


def kernels(k: int, packing: str, batch_size: int, model: str) -> dict:
    """Compile the K-seed step program in a child process that dumps its optimized HLO; count."""
    import tempfile

    with tempfile.TemporaryDirectory() as dump:
        env = {**os.environ, "XLA_FLAGS": f"--xla_dump_to={dump} --xla_dump_hlo_as_text"}
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(k), "step", packing, "--batch-size",
             str(batch_size), "--window", "1", "--windows", "0", "--model", model],
            capture_output=True, text=True, cwd=ROOT, env=env)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        # the training step's module (bench.cell.jax_step.traced jits a function `counted`)
        texts = [f.read_text() for f in Path(dump).glob("*jit_counted*after_optimizations.txt")]
    sys.path.insert(0, str(ROOT))
    from bench.cell.jax_packed import entry_kernels

    by_opcode = entry_kernels(max(texts, key=len))
    return {"k": k, "packing": packing if k > 1 else None, "kernels": sum(by_opcode.values()),
            "by_opcode": by_opcode}


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def table(rows: list[dict]) -> str:
    base = {r["program"]: r["images_per_sec_per_seed"] for r in rows if r["k"] == 1}
    lines = ["| K | program | packing | images/s a seed | images/s the process | process / one "
             "seed's rate (same program) | compile s |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = r["images_per_sec_process"] / base[r["program"]] if r["program"] in base else None
        lines.append(f"| {r['k']} | {r['program']} | {r['packing'] or '-'} | "
                     f"{_rate(r['images_per_sec_per_seed'])} | {_rate(r['images_per_sec_process'])}"
                     f"{' (warm-up only)' if r['warmup_only'] else ''} | "
                     f"{f'{ratio:.2f}' if ratio else '-'} | {r['compile_seconds']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ks", default="1,2,4,8")
    p.add_argument("--programs", default="step,study")
    p.add_argument("--packings", default="loop,vmap")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--windows", type=int, default=2)
    p.add_argument("--model", default="dcgan-tutorial")
    p.add_argument("--max-seconds", type=float, default=600.0)
    p.add_argument("--out", default="reports/study_programs.json")
    p.add_argument("--kernels", action="store_true",
                   help="count the packed step's kernels in its optimized HLO instead of timing")
    p.add_argument("--one", nargs=3, metavar=("K", "PROGRAM", "PACKING"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    settings = (args.batch_size, args.window, args.windows, args.model, args.max_seconds)
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1], args.one[2], *settings)))
        return 0
    if args.kernels:
        rows = [kernels(int(k), packing, args.batch_size, args.model)
                for k in args.ks.split(",")
                for packing in (args.packings.split(",") if int(k) > 1 else ["loop"])]
        for r in rows:
            print(f"K={r['k']:<3} {r['packing'] or '-':5} kernels {r['kernels']:5}  "
                  f"{json.dumps(r['by_opcode'], sort_keys=True)}", flush=True)
        return 0
    rows = []
    for k in (int(x) for x in args.ks.split(",")):
        for program in args.programs.split(","):
            for packing in args.packings.split(",") if k > 1 else ["loop"]:
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", str(k), program, packing,
                     "--batch-size", str(args.batch_size), "--window", str(args.window),
                     "--windows", str(args.windows), "--model", args.model,
                     "--max-seconds", str(args.max_seconds)],
                    capture_output=True, text=True, cwd=ROOT)
                if proc.returncode != 0:
                    print(f"K={k} {program} {packing}: failed\n{proc.stderr[-2000:]}",
                          file=sys.stderr)
                    return 1
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
