"""Training cells and their run records: one cell, or K seeds of one configuration packed in one
program, each with its own cell directory and complete record, trained by the one loop
(bench.cell.loop) under the configuration's framework's runtime (bench.cell.runtime).

Failure is a result: non-finite losses end the cell as `diverged` at the first bad step; an
exception ends it as `failed` with its traceback saved. Seeds packed in one program train as one,
so they end as one. summary.json says `running` until the cell ends, so a killed cell never
leaves one that says `ok`. Bad input (absent device, missing data, occupied directory) is a
BenchError before anything is written.
"""

import sys
import time
import traceback
from pathlib import Path

from bench import records, schema
from bench.cell.timing import Diverged
from bench.config import CellConfig
from bench.datasets import load_split
from bench.errors import BenchError


def refuse_occupied(out_dir: Path, overwrite: bool):
    """BenchError for a cell directory that holds something, unless `overwrite`: asked by the
    command line before the framework starts, and again here before anything is written."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BenchError("exists and is not a directory; choose a new --out", path=out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise BenchError("output directory exists and is not empty; choose a new --out "
                         "(or --overwrite to replace it)", path=out_dir)


def prepare_cell_dir(out_dir: Path, overwrite: bool):
    """Create the cell directory; an existing record is never overwritten unless asked."""
    refuse_occupied(out_dir, overwrite)
    if out_dir.exists() and any(out_dir.iterdir()):
        import shutil

        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def run_cell(cfg: CellConfig, out_dir, *, overwrite=False, on_window=None,
             extra_summary=None) -> dict:
    """Train one cell into out_dir; its summary. on_window(step, total_steps, images_per_sec)
    is called after each log window."""
    return run_cells([cfg], [out_dir], overwrite=overwrite, on_window=on_window,
                     extra_summary=extra_summary)[0]


def run_cells(cfgs: list, out_dirs: list, *, overwrite=False, on_window=None,
              extra_summary=None, plan=None) -> list[dict]:
    """Train the seeds `cfgs` of one configuration as one program (one seed: a cell) into
    `out_dirs`; their summaries. `plan`: the log windows (default: every `log_every` steps and
    at the last, bench.cell.loop.FixedWindows; the calibration sizes its own)."""
    from bench.cell import loop
    from bench.cell.envinfo import environment
    from bench.cell.gpuinfo import preflight_warnings
    from bench.cell.runtime import make_runtime
    from bench.peak import utilisation_fields

    cfg, out_dirs = cfgs[0], [Path(d) for d in out_dirs]
    fw = make_runtime(cfg.framework)
    device = fw.device(cfg)
    t0 = time.perf_counter()
    split = load_split(cfg.data, "train", cfg.data_dir)
    data_seconds = time.perf_counter() - t0
    if cfg.batch_size > len(split.images):
        raise BenchError(f"expected at most {len(split.images)} (the size of {cfg.data}), found "
                         f"{cfg.batch_size}", field="batch_size")
    total = cfg.total_steps(len(split.images)) if plan is None else None
    plan = plan or loop.FixedWindows(total, cfg.log_every)
    # the program says how it packed them when it is built (bench.cell.loop adds `packing`)
    packed = {"seeds_per_process": len(cfgs), "cells": [d.name for d in out_dirs]} \
        if len(cfgs) > 1 else None
    summaries, peaks = [], []
    for c, out_dir in zip(cfgs, out_dirs):
        prepare_cell_dir(out_dir, overwrite)
        records.write_json_record(out_dir / schema.CONFIG_FILE, {
            **c.to_dict(), "total_steps": total, "data_source": split.source, "data_size": len(split.images)})
        env = environment(fw, device, c)
        records.write_json_record(out_dir / schema.ENV_FILE, env)
        peaks.append(env["peak"])
        summary = {"status": schema.STATUS_RUNNING, "reason": None, "steps_planned": total,
                   "data_seconds": data_seconds, "preflight": preflight_warnings(env["gpu"] or {}),
                   **({"packed": packed} if packed else {}), **(extra_summary or {})}
        records.write_json_record(out_dir / schema.SUMMARY_FILE, summary)
        summaries.append(summary)
    for warning in summaries[0]["preflight"]:  # said before training, and kept in the summary
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    memory = None
    try:
        # inside the cells' error handling: a framework's context starts here, and a GPU set-up
        # it refuses must end the cells as failed, not leave their summaries saying running
        memory = device.memory()
        results = loop.train(fw, cfgs, split, device, out_dirs, memory, plan, on_window)
        for summary, result, peak in zip(summaries, results, peaks):
            summary.update(result, status=schema.STATUS_OK)
            summary.update(utilisation_fields(summary, peak))
    except Diverged as e:
        together = " (one of the seeds packed in one program: they train as one)" if packed else ""
        for summary in summaries:
            summary.update(status=schema.STATUS_DIVERGED, reason=f"{e}{together}",
                           diverged_at_step=e.step)
    except Exception as e:  # noqa: BLE001 - any failure inside a cell is that cell's result
        for out_dir, summary in zip(out_dirs, summaries):
            records.write_text_atomic(out_dir / schema.TRACEBACK_FILE, traceback.format_exc())
            summary.update(status=schema.STATUS_FAILED, reason=f"{type(e).__name__}: {e}")
    finally:
        fw.reset()
    wall = time.perf_counter() - started
    memory_fields = memory.finish() if memory is not None else {}
    for out_dir, summary in zip(out_dirs, summaries):
        summary["wall_seconds"] = wall
        if "phase_seconds" in summary:
            phases = summary["phase_seconds"]
            phases["unaccounted"] = wall - sum(phases.values())
        summary.update(memory_fields)
        records.write_json_record(out_dir / schema.SUMMARY_FILE, summary)
    return summaries
