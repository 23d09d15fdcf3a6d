"""TensorFlow against JAX on this machine, interleaved, and seeds packed in one program against K.

    python tests/benchmarks/backends_interleaved.py --out /tmp/backends [--rounds 3]
        [--steps 120] [--packed 1,2,4] [--packed-steps 60]

Part 1: the same cell (mnist-5k, batch 64, float32) under TensorFlow with XLA off and on and
under JAX with jax.jit, one after another, `rounds` times: each round runs every configuration
once, so a machine that slows down during the measurement slows each the same. Each cell's
images/s is its median over its measured windows (the first window, which holds the compile, is
a warm-up and left out, as in every cell); printed per round and as the median over rounds, with
the JAX / TensorFlow ratio per round.

Part 2: K seeds of batch 64 float32 under JAX packed in one program (`seeds_per_process = K`,
each `packing`), for each K in --packed: each seed's images/s (over the time the seeds shared)
and the process's (K times it), against K = 1.

Every cell is a real `dcgan-bench` cell in its own process; the records stay under --out. Run it
on an idle machine. Writes measure.json.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

from bench import records, schema

CONFIGS = {"tensorflow, XLA off": ["--framework", "tensorflow", "--xla", "off"],
           "tensorflow, XLA on": ["--framework", "tensorflow", "--xla", "on"],
           "jax, jit": ["--framework", "jax", "--xla", "on"]}


def train_cell(out: Path, args: list[str], steps: int) -> dict:
    if not (out / schema.SUMMARY_FILE).is_file():
        cmd = [sys.executable, "-m", "bench", "train", "--batch-size", "64", "--steps",
               str(steps), "--log-every", str(steps // 6), "--final-eval-n", "0", "--out",
               str(out), "--overwrite", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{out}: {proc.stderr[-2000:]}")
    return records.read_json_record(out / schema.SUMMARY_FILE)


def packed_cells(out: Path, k: int, packing: str, steps: int) -> list[dict]:
    spec = out / "spec.toml"
    if not (out / schema.RESULTS_FILE).is_file():
        out.mkdir(parents=True, exist_ok=True)
        budget = f'seeds_per_process = {k}\npacking = "{packing}"' if k > 1 else ""
        spec.write_text(f"""name = "packed {k} {packing}"
data = "mnist-5k"
[budget]
steps = {steps}
log_every = {steps // 6}
{budget}
[eval]
final_n = 0
[axes]
seeds = {list(range(k))}
batch_sizes = [64]
devices = ["cpu"]
xla = [true]
precision = ["float32"]
backend = ["jax"]
""")
        proc = subprocess.run([sys.executable, "-m", "bench", "grid", str(spec), "--out",
                               str(out / "run")], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{out}: {proc.stderr[-2000:]}")
        (out / schema.RESULTS_FILE).write_text("done\n")
    run = out / "run"
    return [records.read_json_record(d / schema.SUMMARY_FILE)
            for d in sorted(run.iterdir()) if (d / schema.SUMMARY_FILE).is_file()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=120)
    p.add_argument("--packed", default="1,2,4")
    p.add_argument("--packings", default="loop,vmap")
    p.add_argument("--packed-steps", type=int, default=60)
    args = p.parse_args(argv)
    out = Path(args.out)
    rates = {name: [] for name in CONFIGS}
    for r in range(args.rounds):
        line = []
        for name, cli in CONFIGS.items():
            summary = train_cell(out / f"round{r}" / name.replace(", ", "_").replace(" ", "-"),
                                 cli, args.steps)
            rates[name].append(summary["images_per_sec"]["median"])
            line.append(f"{name} {rates[name][-1]:.0f}")
        ratio = rates["jax, jit"][-1] / max(rates["tensorflow, XLA off"][-1],
                                             rates["tensorflow, XLA on"][-1])
        print(f"round {r}: " + ", ".join(line) + f" images/s; JAX / best TensorFlow {ratio:.2f}",
              flush=True)
    medians = {name: float(np.median(v)) for name, v in rates.items()}
    print("median over rounds: " + ", ".join(f"{n} {v:.0f}" for n, v in medians.items()))
    packed = []
    for packing in args.packings.split(","):
        for k in map(int, args.packed.split(",")):
            if k == 1 and packing != args.packings.split(",")[0]:
                continue  # K = 1 trains alone: no packing to choose
            summaries = packed_cells(out / f"packed{k}_{packing}", k, packing, args.packed_steps)
            per_seed = float(np.median([s["images_per_sec"]["median"] for s in summaries]))
            packed.append({"k": k, "packing": packing if k > 1 else "alone",
                           "per_seed": per_seed, "per_process": per_seed * k,
                           "compile_seconds": float(np.median([s["compile_seconds"]
                                                               for s in summaries]))})
            print(f"K = {k} ({packed[-1]['packing']}): {per_seed:.1f} images/s a seed, "
                  f"{per_seed * k:.1f} the process; compile {packed[-1]['compile_seconds']:.0f} s",
                  flush=True)
    records.write_json_record(out / "measure.json", {"interleaved": rates, "medians": medians,
                                                     "packed": packed, "args": vars(args)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
