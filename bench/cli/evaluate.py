"""`dcgan-bench score SAMPLES.npz` and `dcgan-bench eval CELL`: the instrument on image sets."""

import json
import textwrap
from pathlib import Path

from bench import records, rundirs, schema
from bench.errors import BenchError
from bench.literal import printable


class Score:
    @staticmethod
    def add(sub):
        p = sub.add_parser("score", help="evaluate any image set: an NPZ file or a folder of "
                                         "PNG/JPEG images")
        p.add_argument("samples",
                       help="an NPZ file (array `images`, or the one --key names; (N, 28, 28[, 1]) "
                            "uint8 0..255 or float [-1, 1]; (N, 28, 28, 3) for stacked-mnist), "
                            "or a folder of 28 x 28 PNG or JPEG files, read in name order")
        p.add_argument("--key", default=None,
                       help="the NPZ's array to score (default `images`, or its only array)")
        p.add_argument("--data", default="mnist-5k",
                       help="the reference data set and its instrument (default mnist-5k; "
                            "stacked-mnist adds modes of 1,000 and the reverse KL)")
        p.add_argument("--data-dir", default=None, help="directory with the four IDX .gz files")
        p.add_argument("--json", action="store_true",
                       help="the whole record as JSON (default: a one-screen summary)")

    @staticmethod
    def run(args) -> int:
        import sys

        from bench.datasets import channels
        from bench.evaluate.image_sets import read_image_set

        # read (and refused, if it must be) before the instrument and its framework load
        images, source = read_image_set(args.samples, args.key, channels(args.data),
                                        _reading_progress(sys.stderr))
        from bench.evaluate.score import score_image_set

        result = score_image_set(images, source, args.data, args.data_dir)
        print(json.dumps(records.jsonable(result), indent=2) if args.json
              else score_summary(result))
        return 0


# A folder this large gets a progress line while its files are read.
PROGRESS_FROM = 2_000


def _reading_progress(stream):
    """progress(done, total) for reading a folder: a line that redraws on a terminal, every
    tenth of the way in a log; nothing for a small set."""
    shown = [0]  # the tenths said so far

    def progress(done, total):
        if total < PROGRESS_FROM:
            return
        if stream.isatty():
            end = "\n" if done == total else ""
            if done == total or done % 500 == 0:
                print(f"\rreading images: {done:,} / {total:,}", end=end, file=stream, flush=True)
        elif (tenth := done * 10 // total) > shown[-1]:
            shown.append(tenth)
            print(f"reading images: {done:,} / {total:,}", file=stream, flush=True)

    return progress


def score_summary(result: dict) -> str:
    """What `score` prints by default: what was read, against what, and each metric by its
    label, on one screen (the whole record: --json)."""
    images = result["images"]
    what = (f"{images['count']:,} images of {images['path']} (array {images['key']!r})"
            if images["kind"] == "npz" else
            f"{images['count']:,} images of the folder {images['path']} ({images['first']} to "
            f"{images['last']})")
    said = (f"scored {what} against {result['reference_dataset']} "
            f"({result['reference_split']}, {result['reference_n']:,} images), instrument "
            f"{result['classifier_sha256'][:12]}")
    lines = [*textwrap.wrap(said, 100, break_long_words=False, break_on_hyphens=False), ""]
    shown = [m for m in schema.METRICS if result.get(m.key) is not None
             and m.key not in (schema.KID_BLOCKS, schema.KID_BLOCK_SIZE_REAL,
                               schema.KID_BLOCK_SIZE_FAKE, schema.RANK_DEFICIENT)]
    labels = {m.key: "n (samples)" if m.key == schema.N else m.label for m in shown}
    width = max(map(len, labels.values()))
    for m in shown:
        value = result[m.key]
        text = f"{value:,}" if isinstance(value, int) else \
            f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"  {labels[m.key]:<{width}}  {text}")
    lines += ["", "--json for the whole record (class histogram, thresholds, provenance)"]
    return printable("\n".join(lines))


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
