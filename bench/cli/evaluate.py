"""`dcgan-bench score SAMPLES.npz` and `dcgan-bench eval CELL`: the instrument on image sets."""

import json
from pathlib import Path

from bench import records, rundirs, schema
from bench.errors import BenchError


class Score:
    @staticmethod
    def add(sub):
        p = sub.add_parser("score", help="evaluate any image set (NPZ with key 'images')")
        p.add_argument("samples",
                       help="NPZ: images (N, 28, 28[, 1]), uint8 0..255 or float [-1, 1]; "
                            "(N, 28, 28, 3) for stacked-mnist")
        p.add_argument("--data", default="mnist-5k",
                       help="the reference data set and its instrument (default mnist-5k; "
                            "stacked-mnist adds modes of 1,000 and the reverse KL)")
        p.add_argument("--data-dir", default=None, help="directory with the four IDX .gz files")

    @staticmethod
    def run(args) -> int:
        from bench.evaluate.score import score_npz

        print(json.dumps(score_npz(args.samples, args.data, args.data_dir), indent=2))
        return 0


class Eval:
    @staticmethod
    def add(sub):
        p = sub.add_parser("eval", help="re-evaluate a finished cell from its saved generator")
        p.add_argument("cell", help="a cell directory with generator.weights.h5")
        p.add_argument("--n", type=int, default=10000, help="generated samples (default 10000)")
        p.add_argument("--out", default=None, help="also write the result to this JSON file")
        p.add_argument("--complete", action="store_true",
                       help="write the result as the cell's final evaluation into its "
                            "summary.json: a cell whose final evaluation is pending (its "
                            "instrument was missing) or failed")

    @staticmethod
    def run(args) -> int:
        from bench.config import MIN_EVAL_SAMPLES

        cell = Path(args.cell)
        if args.n < MIN_EVAL_SAMPLES:
            raise BenchError(f"--n: expected {MIN_EVAL_SAMPLES} samples or more (the metrics' "
                             f"feature dimension), found {args.n}")
        if not (cell / schema.CONFIG_FILE).is_file():
            raise BenchError(f"not a cell directory (no {schema.CONFIG_FILE}); pass one cell, "
                             "e.g. runs/cpu/latest/cpu_float32_xla-off_bs64_seed0", path=cell)
        weights = cell / schema.GENERATOR_FILE
        if not weights.is_file():
            raise BenchError("no saved generator: only a finished cell can be re-evaluated",
                             path=weights)
        config = rundirs.read_record(cell, schema.CONFIG_FILE)
        if args.complete:
            summary = rundirs.read_record(cell, schema.SUMMARY_FILE)
            if summary.get("status") != schema.STATUS_OK:
                raise BenchError(f"--complete: the cell is {summary.get('status')}, not ok: "
                                 "nothing to complete", path=cell)
            args.n = config.get("final_eval_n") or args.n
        from bench.cell.generate import SamplePlan, generator_to_images, load_generator
        from bench.config import config_from_record
        from bench.evaluate.score import evaluate_images

        cfg = config_from_record(config)
        generator = load_generator(weights, cfg)
        images = generator_to_images(generator, args.n, plan=SamplePlan.from_config(cfg))
        result = {"cell": str(cell), **evaluate_images(images, config["data"],
                                                       data_dir=config.get("data_dir"))}
        if args.out:
            records.write_json_record(args.out, result)
        if args.complete:
            _complete(cell, summary, result)
        print(json.dumps(records.jsonable(result), indent=2))
        return 0


def _complete(cell: Path, summary: dict, result: dict):
    """The cell's pending final evaluation, filled in (the steps it evaluates are the cell's)."""
    import datetime

    summary.pop("schema_version", None)
    final = {k: v for k, v in result.items() if k != "cell"}
    summary["final"] = {"step": summary.get("steps"), **final}
    summary["final_eval"] = ("completed by dcgan-bench eval --complete, "
                             f"{datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    records.write_json_record(cell / schema.SUMMARY_FILE, summary)
