"""dcgan-bench: train, grid, evaluate and report the reference TensorFlow DCGAN.

Exit codes: 0 success; 1 a cell or grid did not finish ok; 2 bad input; 130 interrupted.
"""

import argparse
import json
import os
import sys

from bench.errors import EXIT_BAD_INPUT, BenchError

ON_OFF = {"on": True, "off": False, "true": True, "false": False}


def _on_off(value: str) -> bool:
    try:
        return ON_OFF[value.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected on or off, found {value!r}") from None


def _add_train(sub):
    p = sub.add_parser("train", help="train one cell and write its run record")
    p.add_argument("--data", default="mnist-5k", help="mnist-5k (embedded), mnist, fashion-mnist")
    p.add_argument("--data-dir", default=None, help="directory with the four IDX .gz files")
    p.add_argument("--seed", type=int, default=0, help="seeds weights, noise, dropout, shuffle")
    p.add_argument("--batch-size", type=int, default=64, help="default 64")
    p.add_argument("--device", default="cpu", help="cpu, gpu or gpu:N")
    p.add_argument("--xla", type=_on_off, default=False, metavar="on|off")
    p.add_argument("--precision", default="float32",
                   help="float32, mixed_float16 (loss-scaled), mixed_bfloat16")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=None, help="training steps (default 500)")
    budget.add_argument("--epochs", type=int, default=None)
    p.add_argument("--log-every", type=int, default=50, help="steps per log window")
    p.add_argument("--warmup-windows", type=int, default=1,
                   help="log windows left out of throughput statistics (default 1)")
    p.add_argument("--deterministic", type=_on_off, default=False, metavar="on|off")
    p.add_argument("--eval-every", type=int, default=0, help="steps between evaluations; 0: none")
    p.add_argument("--eval-n", type=int, default=2000,
                   help="samples per periodic evaluation (default 2000, at least 128)")
    p.add_argument("--final-eval-n", type=int, default=10000, help="0: no final evaluation")
    p.add_argument("--out", required=True, help="the cell directory to create")
    p.add_argument("--overwrite", action="store_true", help="replace an existing cell directory")


def cmd_train(args) -> int:
    from bench.config import CellConfig
    from bench.train import run_cell

    cfg = CellConfig(
        data=args.data, data_dir=args.data_dir, seed=args.seed, batch_size=args.batch_size,
        device=args.device, xla=args.xla, precision=args.precision, steps=args.steps,
        epochs=args.epochs, log_every=args.log_every, warmup_windows=args.warmup_windows,
        deterministic=args.deterministic, eval_every=args.eval_every, eval_n=args.eval_n,
        final_eval_n=args.final_eval_n)
    summary = run_cell(cfg, args.out, overwrite=args.overwrite, on_window=_print_window)
    ips = summary.get("images_per_sec") or {}
    print(json.dumps({k: summary.get(k) for k in ("status", "reason", "steps", "compile_seconds",
                                                  "wall_seconds")} | {"images_per_sec": ips}))
    return 0 if summary["status"] == "ok" else 1


def _print_window(step, total, per_sec):
    if sys.stderr.isatty():
        print(f"\rstep {step}/{total}  {per_sec:,.0f} images/s", end="", file=sys.stderr, flush=True)
        if step == total:
            print(file=sys.stderr)


def _add_grid(sub):
    p = sub.add_parser("grid", help="run a grid spec: one process per cell")
    p.add_argument("spec", help="a grid spec, e.g. runs/grids/cpu.toml")
    p.add_argument("--out", default=None,
                   help="run directory (default runs/<spec file stem>/<date-time>, with "
                        "runs/<spec file stem>/latest pointing at it)")
    p.add_argument("--resume", action="store_true", help="keep ok cells, rerun the rest")
    p.add_argument("--require-gpu", action="store_true",
                   help="exit 2 before training anything when TensorFlow sees no GPU")


def cmd_grid(args) -> int:
    from pathlib import Path

    from bench.executor import run_grid
    from bench.grid import load_spec

    spec = load_spec(args.spec)
    if args.out:
        return run_grid(spec, args.out, resume=args.resume, require_gpu=args.require_gpu)
    if args.resume:
        raise BenchError("--resume needs --out: the run directory to finish")
    # DESIGN's layout: runs/<grid>/<run-id>/, and runs/<grid>/latest points at the newest run.
    import time

    grid_dir = Path("runs") / Path(args.spec).stem
    out = grid_dir / time.strftime("%Y%m%d-%H%M%S")
    code = run_grid(spec, out, require_gpu=args.require_gpu)
    if out.exists():
        _point_latest(grid_dir, out)
    print(f"run directory: {out}")
    return code


def _point_latest(grid_dir, out):
    link = grid_dir / "latest"
    tmp = grid_dir / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(out.name, tmp)
    os.replace(tmp, link)


def _add_table(sub):
    p = sub.add_parser("table", help="print run records as one table")
    p.add_argument("runs", nargs="+", help="run or cell directories")
    p.add_argument("--csv", action="store_true", help="CSV instead of an aligned table")


TABLE_COLUMNS = ("cell_id", "status", "images_per_sec_median", "images_per_sec_p10",
                 "images_per_sec_p90", "compile_seconds", "wall_seconds", "peak_memory_mib",
                 "final_fid", "final_classifier_score", "final_classes_covered", "reason")


def cmd_table(args) -> int:
    import pandas as pd

    from bench.results import load_results

    df = load_results(args.runs)
    if args.csv:
        print(df.to_csv(index=False), end="")
        return 0
    df["peak_memory_mib"] = pd.to_numeric(df["peak_memory_bytes"], errors="coerce") / 2**20
    shown = df[[c for c in TABLE_COLUMNS if c in df.columns]]
    with pd.option_context("display.max_rows", None, "display.width", 200,
                           "display.max_colwidth", 60, "display.float_format", "{:,.2f}".format):
        print(shown.to_string(index=False))
    return 0


def _add_score(sub):
    p = sub.add_parser("score", help="evaluate any image set (NPZ with key 'images')")
    p.add_argument("samples", help="NPZ: images (N, 28, 28[, 1]), uint8 0..255 or float [-1, 1]")
    p.add_argument("--data", default="mnist-5k",
                   help="the reference data set and its instrument (default mnist-5k)")
    p.add_argument("--data-dir", default=None)


def cmd_score(args) -> int:
    from bench.evaluate import score_npz

    print(json.dumps(score_npz(args.samples, args.data, args.data_dir), indent=2))
    return 0


def _add_eval(sub):
    p = sub.add_parser("eval", help="re-evaluate a finished cell from its saved generator")
    p.add_argument("cell", help="a cell directory with generator.weights.h5")
    p.add_argument("--n", type=int, default=10000, help="generated samples (default 10000)")
    p.add_argument("--out", default=None, help="also write the result to this JSON file")


def cmd_eval(args) -> int:
    from pathlib import Path

    from bench import records, schema
    from bench.evaluate import evaluate_images
    from bench.generate import generator_to_images, load_generator

    cell = Path(args.cell)
    if not (cell / schema.CONFIG_FILE).is_file():
        raise BenchError(f"not a cell directory (no {schema.CONFIG_FILE}); pass one cell, e.g. "
                         "runs/cpu/latest/cpu_float32_xla-off_bs64_seed0", path=cell)
    weights = cell / schema.GENERATOR_FILE
    if not weights.is_file():
        raise BenchError("no saved generator: only a finished cell can be re-evaluated",
                         path=weights)
    config = records.read_json_record(cell / schema.CONFIG_FILE)
    images = generator_to_images(load_generator(weights), args.n)
    result = {"cell": str(cell), **evaluate_images(images, config["data"],
                                                   data_dir=config.get("data_dir"))}
    if args.out:
        records.write_json_record(args.out, result)
    print(json.dumps(records.jsonable(result), indent=2))
    return 0


def _add_classifier(sub):
    p = sub.add_parser("classifier", help="train or check the MNIST/Fashion-MNIST instrument")
    verbs = p.add_subparsers(dest="verb", required=True)
    t = verbs.add_parser("train", help="train the instrument reproducibly (weights + model card)")
    t.add_argument("--data", required=True, help="mnist or fashion-mnist")
    t.add_argument("--data-dir", default=None)
    t.add_argument("--out", required=True, help="directory for <data>.weights.h5 and its card")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epochs", type=int, default=12)
    c = verbs.add_parser("check", help="accuracy of the shipped instrument on the data at hand")
    c.add_argument("--data", default="mnist-5k")
    c.add_argument("--data-dir", default=None)


def cmd_classifier(args) -> int:
    if args.verb == "train":
        from bench.classifier_train import train_classifier

        command = "dcgan-bench " + " ".join(sys.argv[1:]) if sys.argv[1:] else None
        train_classifier(args.data, args.data_dir, args.out, seed=args.seed, epochs=args.epochs,
                         command=command)
        return 0
    from bench.classifier import check_accuracy, load_classifier

    clf = load_classifier(args.data)
    accuracy = check_accuracy(args.data, args.data_dir, classifier=clf)
    print(json.dumps({"data": args.data, "accuracy": accuracy,
                      # mnist-5k's digits are MNIST training digits: the instrument has seen them
                      "held_out": args.data != "mnist-5k",
                      "card_test_accuracy": clf.card.get("test_accuracy"),
                      "classifier_sha256": clf.sha256}))
    return 0


def _add_report(sub):
    p = sub.add_parser("report", help="render an HTML + Markdown report of run directories")
    p.add_argument("runs", nargs="+", help="run or cell directories")
    p.add_argument("--out", required=True, help="report directory, e.g. reports/NAME")


def cmd_report(args) -> int:
    from bench.report import render_report

    index = render_report(args.runs, args.out)
    print(f"report: {index}")
    return 0


COMMANDS = {"train": (_add_train, cmd_train), "grid": (_add_grid, cmd_grid),
            "table": (_add_table, cmd_table), "score": (_add_score, cmd_score),
            "eval": (_add_eval, cmd_eval), "classifier": (_add_classifier, cmd_classifier),
            "report": (_add_report, cmd_report)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dcgan-bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv=None) -> int:
    # TensorFlow's C++ INFO lines drown the harness's own output; users can still set it lower.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][1](args)
    except BenchError as e:
        print(f"dcgan-bench {args.command}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
