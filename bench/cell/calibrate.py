"""A short calibration of cell configurations on this machine: what the grid's estimate of a
part's duration rests on when no cell of the part's configuration has run yet here.

For each configuration, in one process, the same code a cell runs: load the data, build the
models and optimizers (`setup`), fetch the first batch and compile the step on it (`compile`),
then time steps in windows that each end in a host sync, until at least MEASURE_SECONDS and
MIN_WINDOWS windows are measured: the steady images/s. The window length adapts (one step on a
slow machine at a large batch, dozens on a fast one), so the calibration takes seconds anywhere.
Saving the samples and the generator is timed too. With `evaluate`, the evaluation's cost is
measured at two sample counts on the untrained generator (the instrument's cost does not depend
on what it is shown): seconds = fixed + per_sample x n.

A short measurement right after compiling is not a long run's steady state: the estimate that
uses it says so, and the grid reports the estimate against the actual duration.
"""

import dataclasses
import math
import tempfile
import time
from pathlib import Path

from bench import rundirs, schema

MEASURE_SECONDS = 2.0
MIN_WINDOWS = 3
WINDOW_SECONDS = 0.25  # a window at least this long, so that one host sync is a small part of it
MAX_WINDOW_STEPS = 512
EVAL_SIZES = (256, 1024)  # after a warm-up evaluation of the smallest size the metrics allow


class CalibrationWindows:
    """The calibration's windows (bench.cell.loop's plan): a one-step probe, left out as warm-up,
    then windows sized from it to at least WINDOW_SECONDS, enough of them for MIN_WINDOWS and
    MEASURE_SECONDS."""

    def __init__(self):
        self.steps = None  # steps a measured window
        self.left = None  # measured windows still to run

    def next_window(self, start: int, last_seconds: float | None):
        if self.steps is None:
            self.steps = 0
            return start, False  # the probe
        if self.left is None:
            per_step = max(last_seconds, 1e-4)
            self.steps = 1 if per_step >= WINDOW_SECONDS else min(
                MAX_WINDOW_STEPS, math.ceil(WINDOW_SECONDS / per_step))
            self.left = max(MIN_WINDOWS, math.ceil(MEASURE_SECONDS / (self.steps * per_step)))
        if self.left == 0:
            return None
        self.left -= 1
        return start + self.steps - 1, self.left == 0


def calibrate_config(cfg, cell_dir=None) -> dict:
    """Seconds of data loading, setup, compile (first batch included) and save, and the steady
    images/s of one configuration (bench.config.CellConfig): a cell of it trained by the same
    code as every cell (bench.cell.train), its record in `cell_dir` (default: a directory thrown
    away after)."""
    from bench.cell.train import run_cells

    probe = dataclasses.replace(cfg, steps=None, epochs=None, log_every=1, warmup_windows=1,
                                eval_every=0, final_eval_n=0, part=None)
    with tempfile.TemporaryDirectory() as tmp:
        cell_dir = Path(cell_dir or Path(tmp) / "cell")
        [summary] = run_cells([probe], [cell_dir], overwrite=True, plan=CalibrationWindows())
        if summary["status"] != schema.STATUS_OK:
            raise RuntimeError(f"the calibration cell ended {summary['status']}: "
                               f"{summary['reason']}")
        windows = [line for line in rundirs.read_lines(cell_dir, schema.STEPS_FILE)
                   if not line["excluded"]]
    phases = summary["phase_seconds"]
    return {"data_seconds": summary["data_seconds"], "setup_seconds": phases["setup"],
            "compile_seconds": phases["compile"], "save_seconds": phases["save"],
            "images_per_sec": summary["images_per_sec"]["overall"], "windows": len(windows),
            "measured_seconds": sum(w["window_seconds"] for w in windows),
            "steps_per_window": windows[0]["timed_steps"],
            "contention": summary.get("contention")}


def calibrate_evaluation(cfg) -> dict | None:
    """The evaluation's cost on this machine, as a cell evaluates (bench.cell.periodic), on an
    untrained generator: loading the instrument, then fixed + per-sample seconds from two sample
    counts. None where the instrument cannot run in this process."""
    from bench.cell import models
    from bench.cell.periodic import Evaluations
    from bench.cell.runtime import make_runtime
    from bench.config import MIN_EVAL_SAMPLES

    fw = make_runtime(cfg.framework)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        evals = Evaluations(cfg, fw, models.networks(cfg)[0], Path(tmp))
    if evals.pending:
        return None
    load_seconds = time.perf_counter() - t0

    def evaluate(n):
        t0 = time.perf_counter()
        evals.evaluate(n)
        return time.perf_counter() - t0

    evaluate(MIN_EVAL_SAMPLES)  # warm: the reference statistics are read (or built) once
    (n1, t1), (n2, t2) = [(n, evaluate(n)) for n in EVAL_SIZES]
    per_sample = max(0.0, (t2 - t1) / (n2 - n1))
    return {"load_seconds": load_seconds, "per_sample_seconds": per_sample,
            "fixed_seconds": max(0.0, t1 - per_sample * n1), "sizes": list(EVAL_SIZES)}


def calibrate(configs, evaluate=None, cells_dir=None) -> dict:
    """Each configuration's measurement, in order, and the evaluation's cost when `evaluate`
    (a configuration whose data set the instrument is for) is given. With `cells_dir`, the
    calibration cells' records are kept there (cells_dir/<n>, n counting from 0)."""
    out = {"configs": []}
    for i, cfg in enumerate(configs):
        out["configs"].append(calibrate_config(cfg, Path(cells_dir) / str(i) if cells_dir
                                               else None))
    if evaluate is not None:
        out["evaluation"] = calibrate_evaluation(evaluate)
    return out
