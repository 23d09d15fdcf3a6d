"""One training cell: the loop, honest timing, logging, and the cell's run record.

Timing rules (the numbers users compare):
- The first batch is fetched and timed alone as `first_batch_seconds` (it fills the shuffle
  buffer: the whole data set). The first call of the step on it (tracing, XLA compilation when
  on, and that one step) is timed alone as `compile_seconds`. Neither is in a throughput window.
- A log window ends on a host sync of the window's loss values, never per step, so the device
  queue is drained once a window. `window_seconds` spans the window's steps up to that sync;
  logging and evaluation between windows fall outside every window and inside `wall_seconds`.
- The first `warmup_windows` windows, and a final window shorter than half of `log_every` steps,
  are logged but left out of the images/sec statistics (bench.cell.timing).
- Peak memory is split into training and the whole process (bench.cell.devices.MemoryPeaks).
- The step is traced once; a retrace afterwards (a shape or dtype change) is a summary warning.

Failure is a result: non-finite losses end the cell as `diverged` at the first bad step; an
exception ends it as `failed` with its traceback saved. summary.json says `running` until the
cell ends, so a killed cell never leaves one that says `ok`.
"""

import sys
import time
import traceback
from pathlib import Path

import numpy as np

from bench import records, schema
from bench.cell import faults
from bench.cell.timing import Diverged
from bench.config import CellConfig
from bench.datasets import load_split
from bench.errors import BenchError


def prepare_cell_dir(out_dir: Path, overwrite: bool):
    """Create the cell directory; an existing record is never overwritten unless asked."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise BenchError("output directory exists and is not empty; choose a new --out "
                             "(or --overwrite to replace it)", path=out_dir)
        import shutil

        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def run_cell(cfg: CellConfig, out_dir, *, overwrite=False, on_window=None,
             extra_summary=None) -> dict:
    """Train one cell and write its record into out_dir; returns the summary.

    Bad input (absent device, missing data, occupied directory) raises BenchError before anything
    is written. on_window(step, total_steps, images_per_sec) is called after each log window.
    The cell trains under its configuration's framework (bench.cell.frameworks: TensorFlow, or
    JAX with no TensorFlow on its path).
    """
    from bench.cell.frameworks import framework

    out_dir = Path(out_dir)
    fw = framework(cfg)
    device = fw.resolve_device(cfg)
    split = load_split(cfg.data, "train", cfg.data_dir)
    total = cfg.total_steps(len(split.images))
    if cfg.batch_size > len(split.images):
        raise BenchError(f"expected at most {len(split.images)} (the size of {cfg.data}), found "
                         f"{cfg.batch_size}", field="batch_size")
    prepare_cell_dir(out_dir, overwrite)

    from bench.cell.gpuinfo import preflight_warnings

    records.write_json_record(out_dir / schema.CONFIG_FILE,
                              {**cfg.to_dict(), "total_steps": total, **fw.device_record(device),
                               "data_source": split.source, "data_size": len(split.images)})
    env = fw.environment(device, cfg)
    records.write_json_record(out_dir / schema.ENV_FILE, env)
    gpu_warnings = preflight_warnings(env["gpu"] or {})
    for warning in gpu_warnings:  # said before training, and kept in the summary
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    summary = {"status": schema.STATUS_RUNNING, "reason": None, "steps_planned": total,
               "preflight": gpu_warnings, **(extra_summary or {})}
    records.write_json_record(out_dir / schema.SUMMARY_FILE, summary)
    started = time.perf_counter()
    memory = None
    try:
        # inside the cell's error handling: TensorFlow's context starts here, and a GPU set-up
        # it refuses must end the cell as failed, not leave its summary saying running
        memory = fw.memory(device)
        summary.update(_train(cfg, fw, split, total, device, out_dir, on_window, memory))
        summary["status"] = schema.STATUS_OK
    except Diverged as e:
        summary.update(status=schema.STATUS_DIVERGED, reason=str(e), diverged_at_step=e.step)
    except Exception as e:  # noqa: BLE001 - any failure inside a cell is that cell's result
        records.write_text_atomic(out_dir / schema.TRACEBACK_FILE, traceback.format_exc())
        summary.update(status=schema.STATUS_FAILED, reason=f"{type(e).__name__}: {e}")
    finally:
        fw.reset()
    summary["wall_seconds"] = time.perf_counter() - started
    if "phase_seconds" in summary:
        phases = summary["phase_seconds"]
        phases["unaccounted"] = summary["wall_seconds"] - sum(phases.values())
    if memory is not None:
        summary.update(memory.finish())
    records.write_json_record(out_dir / schema.SUMMARY_FILE, summary)
    return summary


def run_steps(cfg, step_fn, batches, log, steps: range, *, evals=None, on_window=None,
              nan_step=None, overlap=False):
    """The measured loop: steps `steps`, a log window every `log_every` steps and at the last.

    Periodic evaluations run between windows, outside any timed window. Benchmarks call this
    same function, so what they time is what a cell runs.

    `overlap` (asynchronous devices: GPUs): at a window's end the next step is dispatched before
    the window's host sync, so the device has work queued while the host reads the window's
    values and logs them. Without it, each sync drains the queue and the device idles while the
    next step is dispatched, a bubble of about one step's host time per window: 5-20% low at
    small batches with 5-step windows. On the CPU steps run as they are dispatched, and a step
    dispatched ahead would run inside the window it does not belong to, so the CPU does not.
    """
    if not steps:
        return
    last = steps[-1]

    def dispatch(step):
        faults.check_crash(step, cfg.seed)
        batch = next(batches)
        if step == nan_step:
            batch = batch * float("nan")  # a real batch made all NaN (TensorFlow or NumPy)
        return step_fn(batch)

    ahead = None  # the step dispatched ahead of its window
    for step in steps:
        if step != ahead:
            log.append(dispatch(step))
        if step % cfg.log_every == 0 or step == last:
            evaluate = bool(evals and cfg.eval_every and step % cfg.eval_every == 0
                            and step != last)
            ahead = step + 1 if overlap and step != last and not evaluate else None
            # raises Diverged on non-finite losses
            seconds, per_sec = log.end_window(step, final=step == last,
                                              ahead=dispatch(ahead) if ahead else None)
            if on_window:
                on_window(step, last, per_sec)
            if evaluate:
                evals.periodic(step)
            if ahead is None:
                log.start_window()


def _train(cfg, fw, split, total, device, out_dir, on_window, memory) -> dict:
    from bench.cell.generate import save_generator, write_samples_png
    from bench.cell.timing import WindowLog

    phases = {}  # where wall time went, so a slow cell can be explained from its record
    clock = time.perf_counter()

    def phase(name):
        nonlocal clock
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - clock
        clock = now

    generator, step_fn = fw.build(cfg, device)
    log = WindowLog(out_dir, cfg, step_fn, tensorboard=fw.tensorboard)
    evals = fw.evaluations(cfg, generator, out_dir, memory, step_fn)
    phase("setup")
    memory.training_started()
    with fw.placement(device):
        batches = fw.batches(split, cfg)
        t0 = time.perf_counter()
        first_batch = next(batches)  # fills the shuffle buffer: the whole data set
        first_batch_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = step_fn(first_batch)
        log.add_first(np.asarray(first))  # the host sync that ends the compile measurement
        compile_seconds = time.perf_counter() - t0
        memory.first_step_ended()
        traces_after_compile = step_fn.tracing_count
        phase("compile")
        log.start_window()
        run_steps(cfg, step_fn, batches, log, range(2, total + 1), evals=evals,
                  on_window=on_window, nan_step=faults.nan_batch_step(),
                  overlap=fw.asynchronous(device))
        memory.training_ended()
        fw.trained(step_fn)  # the models hold the trained state from here on
        phase("train")
        write_samples_png(generator, out_dir / schema.SAMPLES_FILE)
        save_generator(generator, out_dir / schema.GENERATOR_FILE)
        phase("save")
        final = evals.final(total)
        phase("final_eval")
        del batches  # stops the input pipeline's background threads, inside a measured phase
        phase("teardown")
    phases["periodic_eval"] = evals.periodic_seconds
    phases["train"] -= evals.periodic_seconds
    retraces = step_fn.tracing_count - traces_after_compile
    result = {
        "steps": total,
        "first_batch_seconds": first_batch_seconds,
        "compile_seconds": compile_seconds,
        "images_per_sec": log.throughput(),
        "retraces": retraces,
        "warnings": log.warnings + ([f"step retraced {retraces} time(s) during measured windows: "
                                     "throughput includes tracing"] if retraces else []),
        "final": final,
        **evals.best(),
        "phase_seconds": phases,
        **step_fn.loss_scales(),
        **(evals.summary_fields() if hasattr(evals, "summary_fields") else {}),
    }
    from bench.cell.flops import flops_summary

    result.update(flops_summary(cfg.batch_size, result["images_per_sec"]))
    return result
