"""`dcgan-bench train`: one training cell into a cell directory."""

import argparse
import json
import sys
from pathlib import Path

from bench import frameworks, protocols, schema
from bench.cli.options import on_off


def add(sub):
    p = sub.add_parser("train", help="train one cell and write its run record")
    p.add_argument("--framework", default=frameworks.REFERENCE,
                   help="; ".join(f"{f.name} ({f.label}: pip install -e '.[{f.extra}]')"
                                  for f in frameworks.FRAMEWORKS.values())
                   + f" (default {frameworks.REFERENCE}, the reference; the same model under "
                     "each)")
    # the name before 0.2 (issue 33 gave the framework and the launcher a word each): scripts
    # written for it still run
    p.add_argument("--backend", dest="framework", help=argparse.SUPPRESS)
    p.add_argument("--data", default="mnist-5k",
                   help="mnist-5k (embedded), mnist, fashion-mnist, stacked-mnist (three digits "
                        "an image, drawn from mnist-5k, or from MNIST given --data-dir)")
    p.add_argument("--data-dir", default=None, help="directory with the four IDX .gz files")
    p.add_argument("--seed", type=int, default=0, help="seeds weights, noise, dropout, shuffle")
    p.add_argument("--batch-size", type=int, default=None,
                   help="images a step, packs where packed (default: the model's: 64; 128 for "
                        "unrolled-dcgan)")
    p.add_argument("--device", default="cpu", help="cpu, gpu or gpu:N")
    p.add_argument("--xla", type=on_off, default=False, metavar="on|off",
                   help="compile the step with XLA (TensorFlow: jit_compile; JAX: jax.jit)")
    p.add_argument("--tf32", type=on_off, default=None, metavar="on|off",
                   help="TensorFloat-32 for float32 on GPUs that have it (default: TensorFlow's, "
                        "on; recorded as such)")
    p.add_argument("--precision", default="float32",
                   help="float32, mixed_float16 (loss-scaled), mixed_bfloat16")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=None, help="training steps (default 500)")
    budget.add_argument("--epochs", type=int, default=None,
                        help="full passes over the data set, instead of --steps")
    p.add_argument("--log-every", type=int, default=50, help="steps a log window")
    p.add_argument("--warmup-windows", type=int, default=1,
                   help="log windows left out of throughput statistics")
    p.add_argument("--deterministic", type=on_off, default=False, metavar="on|off",
                   help="TensorFlow's op determinism (slower; the CPU repeats without it)")
    p.add_argument("--eval-every", type=int, default=0, help="steps between evaluations; 0: none")
    p.add_argument("--eval-n", type=int, default=2000,
                   help="samples per periodic evaluation (default 2000, at least 128)")
    p.add_argument("--modes-every", type=int, default=0,
                   help="stacked-mnist: the modes and reverse KL alone (no FID) every N steps, "
                        "into modes.jsonl; 0: none")
    p.add_argument("--modes-n", type=int, default=2600, help="samples of each modes reading")
    p.add_argument("--final-eval-n", type=int, default=None,
                   help="samples of the final evaluation, 0: none; for stacked-mnist 26000, "
                        "as PacGAN (default: 10000)")
    p.add_argument("--model", default=protocols.DEFAULT_MODEL,
                   help=f"{', '.join(protocols.MODELS)}: the tutorial's DCGAN, PacGAN's Table 2 "
                        "or Table 3 pair, each with its protocol's settings unless given below "
                        "(the record says what ran)")
    p.add_argument("--packing-m", type=int, default=1,
                   help=f"PacGAN's packing: the discriminator reads m (1-{protocols.MAX_PACKING})"
                        " samples at once")
    p.add_argument("--d-width", type=float, default=None,
                   help="unrolled-dcgan's discriminator width: 0.25 (default), 0.5 or 1")
    p.add_argument("--schedule", default=None, choices=protocols.SCHEDULES,
                   help="simultaneous (the tutorial's) or alternating (PacGAN's)")
    p.add_argument("--g-steps", type=int, default=None,
                   help="generator updates per discriminator update, alternating")
    p.add_argument("--noise", default=None, choices=protocols.NOISES, help="z's distribution")
    p.add_argument("--noise-dim", type=int, default=None, help="z's size")
    p.add_argument("--learning-rate", type=float, default=None,
                   help="the generator's Adam learning rate (the tutorial's: 1e-4, both)")
    p.add_argument("--d-learning-rate", type=float, default=None,
                   help="the discriminator's (default: the model's; the tutorial: the same)")
    p.add_argument("--adam-beta1", type=float, default=None,
                   help="Adam's beta_1, both networks (the tutorial keeps Keras' 0.9)")
    p.add_argument("--adam-beta2", type=float, default=None, help="Adam's beta_2, both networks")
    p.add_argument("--program", default="step", choices=("step", "study"),
                   help="step: the tutorial's loop, a dispatch a step (the default: what "
                        "throughput benchmarks time); study: a log window of steps in one "
                        "dispatch, the data on the device (JAX, XLA on)")
    p.add_argument("--out", required=True, help="the cell directory to create")
    p.add_argument("--overwrite", action="store_true", help="replace an existing cell directory")


def run(args) -> int:
    from bench.config import CellConfig

    # Validated before TensorFlow loads: a bad option is reported in milliseconds.
    cfg = CellConfig(
        data=args.data, data_dir=args.data_dir, seed=args.seed, batch_size=args.batch_size,
        device=args.device, xla=args.xla, tf32=args.tf32, framework=args.framework,
        precision=args.precision, steps=args.steps,
        epochs=args.epochs, log_every=args.log_every, warmup_windows=args.warmup_windows,
        deterministic=args.deterministic, eval_every=args.eval_every, eval_n=args.eval_n,
        final_eval_n=args.final_eval_n, modes_every=args.modes_every, modes_n=args.modes_n,
        model=args.model, packing_m=args.packing_m, program=args.program,
        d_width=args.d_width, schedule=args.schedule, g_steps=args.g_steps, noise=args.noise,
        noise_dim=args.noise_dim, learning_rate=args.learning_rate,
        d_learning_rate=args.d_learning_rate, adam_beta1=args.adam_beta1,
        adam_beta2=args.adam_beta2)
    from bench.datasets import availability_problems, size_problems
    from bench.errors import BenchError

    problems = availability_problems(cfg.data, cfg.data_dir) + size_problems(cfg.data,
                                                                           [cfg.batch_size])
    if problems:  # said before the framework's start-up, not after it
        raise BenchError("; ".join(problems))
    from bench.cell.train import refuse_occupied

    refuse_occupied(Path(args.out), args.overwrite)
    from bench.imports import start_framework

    start_framework(cfg.framework)  # before anything imports keras in this process
    from bench.cell.train import run_cell

    if cfg.final_eval_n:  # said before it starts: on a short run it can take most of the time
        print(f"after training: a final evaluation of {cfg.final_eval_n:,} samples "
              "(--final-eval-n N to change it, 0 to skip it)", file=sys.stderr, flush=True)
    summary = run_cell(cfg, args.out, overwrite=args.overwrite, on_window=_print_window)
    for warning in summary.get("warnings") or []:
        print(f"warning: {warning}", file=sys.stderr)
    ips = summary.get("images_per_sec") or {}
    print(json.dumps({k: summary.get(k) for k in ("status", "reason", "steps", "compile_seconds",
                                                  "wall_seconds")} | {"images_per_sec": ips}))
    return 0 if summary["status"] == schema.STATUS_OK else 1


def _print_window(step, total, per_sec):
    if sys.stderr.isatty():
        print(f"\rstep {step}/{total}  {per_sec:,.0f} images/s", end="", file=sys.stderr, flush=True)
        if step == total:
            print(file=sys.stderr)
