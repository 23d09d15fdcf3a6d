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

import math
import tempfile
import time
from pathlib import Path

MEASURE_SECONDS = 2.0
MIN_WINDOWS = 3
WINDOW_SECONDS = 0.25  # a window at least this long, so that one host sync is a small part of it
MAX_WINDOW_STEPS = 512
EVAL_SIZES = (256, 1024)  # after a warm-up evaluation of the smallest size the metrics allow


def calibrate_config(cfg) -> dict:
    """Seconds of data loading, setup, compile and save, and the steady images/s of one
    configuration (bench.config.CellConfig)."""
    import keras

    from bench.cell.devices import apply_tf32, resolve_device
    from bench.cell.frameworks import build_tensorflow_cell as build
    from bench.cell.generate import save_generator, write_samples_png
    from bench.cell.pipeline import training_dataset
    from bench.datasets import load_split

    t0 = time.perf_counter()
    tf_device = resolve_device(cfg.device)
    apply_tf32(cfg.tf32)
    split = load_split(cfg.data, "train", cfg.data_dir)
    data_seconds = time.perf_counter() - t0
    try:
        import tensorflow as tf

        with tf.device(tf_device):
            t0 = time.perf_counter()
            generator, step_fn = build(cfg, tf_device)
            setup_seconds = time.perf_counter() - t0
            batches = iter(training_dataset(split.images, cfg.batch_size, cfg.seed))
            t0 = time.perf_counter()
            step_fn(next(batches)).numpy()
            compile_seconds = time.perf_counter() - t0
            windows = _timed_windows(step_fn, batches, cfg.batch_size)
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                write_samples_png(generator, Path(tmp) / "samples.png")
                save_generator(generator, Path(tmp) / "generator.weights.h5")
                save_seconds = time.perf_counter() - t0
            del batches
    finally:
        keras.mixed_precision.set_global_policy("float32")
    images = sum(i for i, _ in windows)
    seconds = sum(s for _, s in windows)
    return {"data_seconds": data_seconds, "setup_seconds": setup_seconds,
            "compile_seconds": compile_seconds, "save_seconds": save_seconds,
            "images_per_sec": images / seconds, "windows": len(windows),
            "measured_seconds": seconds, "steps_per_window": windows[0][0] // cfg.batch_size}


def _timed_windows(step_fn, batches, batch_size: int) -> list[tuple[int, float]]:
    """(images, seconds) of measured windows, after a probe that sizes them."""
    steps, windows = 1, []
    probing = True
    while True:
        t0 = time.perf_counter()
        out = None
        for _ in range(steps):
            out = step_fn(next(batches))
        out.numpy()  # the host sync that ends the window: every step before it has run
        seconds = time.perf_counter() - t0
        if probing:
            probing = False
            if seconds < WINDOW_SECONDS:
                steps = min(MAX_WINDOW_STEPS,
                            math.ceil(steps * WINDOW_SECONDS / max(seconds, 1e-4)))
            continue
        windows.append((steps * batch_size, seconds))
        if len(windows) >= MIN_WINDOWS and sum(s for _, s in windows) >= MEASURE_SECONDS:
            return windows


def calibrate_evaluation(cfg, generator) -> dict:
    """The evaluation's cost on this machine: loading the instrument, then fixed + per-sample
    seconds from two sample counts."""
    from bench.cell.generate import generator_to_images
    from bench.config import MIN_EVAL_SAMPLES
    from bench.evaluate.classifier import load_classifier
    from bench.evaluate.score import evaluate_images
    from bench.evaluate.tfgan import eval_functions

    t0 = time.perf_counter()
    classifier = load_classifier(cfg.data)
    eval_functions()
    load_seconds = time.perf_counter() - t0

    def evaluate(n):
        t0 = time.perf_counter()
        evaluate_images(generator_to_images(generator, n), cfg.data, data_dir=cfg.data_dir,
                        classifier=classifier)
        return time.perf_counter() - t0

    evaluate(MIN_EVAL_SAMPLES)  # warm: the reference statistics are read (or built) once
    (n1, t1), (n2, t2) = [(n, evaluate(n)) for n in EVAL_SIZES]
    per_sample = max(0.0, (t2 - t1) / (n2 - n1))
    return {"load_seconds": load_seconds, "per_sample_seconds": per_sample,
            "fixed_seconds": max(0.0, t1 - per_sample * n1), "sizes": list(EVAL_SIZES)}


def calibrate(configs, evaluate=None) -> dict:
    """Each configuration's measurement, in order, and the evaluation's cost when `evaluate`
    (a configuration whose data set the instrument is for) is given."""
    out = {"configs": []}
    for cfg in configs:
        out["configs"].append(calibrate_config(cfg))
    if evaluate is not None:
        from bench.cell import models

        out["evaluation"] = calibrate_evaluation(evaluate, models.make_generator())
    return out
