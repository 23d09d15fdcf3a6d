"""Running a grid: the run directory's bookkeeping, whatever backend runs the cells.

The manifest and each cell's record are written as the grid goes, and results.csv after every
cell, so an interrupted grid (Ctrl-C, SIGTERM, a killed machine) loses no finished cell;
`--resume` keeps cells whose summary is `ok` and reruns the rest from a clean directory. A
backend (bench.grid.local: one local process per cell) only runs cells and says when each has
finished; everything written around them is here, so a second backend writes the same run
directory.
"""

import contextlib
import datetime
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from bench import records, schema
from bench.errors import BenchError

EXIT_INTERRUPTED = 130
LATEST_LINK = "latest"


def default_run_dir(spec_path, runs_root="runs") -> Path:
    """runs/<spec file stem>/<date-time>: one directory per run of a spec."""
    return Path(runs_root) / Path(spec_path).stem / time.strftime("%Y%m%d-%H%M%S")


def point_latest(run_dir: Path):
    """Make <grid dir>/latest point at run_dir, replacing the old link atomically."""
    link = run_dir.parent / LATEST_LINK
    tmp = run_dir.parent / f".{LATEST_LINK}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(run_dir.name, tmp)
    os.replace(tmp, link)


def prepare_run_dir(spec, out_dir: Path, resume: bool):
    if out_dir.exists() and any(out_dir.iterdir()):
        if not resume:
            raise BenchError("run directory exists and is not empty; pass --resume to finish "
                             "it, or choose a new --out", path=out_dir)
        manifest_path = out_dir / schema.MANIFEST_FILE
        if not manifest_path.is_file():
            raise BenchError(f"--resume: no {schema.MANIFEST_FILE} here, so this is not a grid "
                             "run directory", path=out_dir)
        if records.read_json_record(manifest_path).get("spec") != spec.raw:
            raise BenchError("--resume: the grid spec differs from the one this run started "
                             "with; use a new --out for a changed spec", path=out_dir)
    elif resume:
        raise BenchError("--resume: nothing to resume here", path=out_dir)


def write_manifest(spec, out_dir: Path):
    from bench.cell.envinfo import harness_commit

    records.write_json_record(out_dir / schema.MANIFEST_FILE, {
        "name": spec.name, "spec": spec.raw, "spec_path": spec.path,
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "harness": harness_commit(),
        "cells": [{"id": c.id, "config": c.config.to_dict()} for c in spec.cells],
    })


def write_results_csv(out_dir: Path):
    from bench.analysis.results import load_results

    records.write_text_atomic(out_dir / schema.RESULTS_FILE,
                              load_results([out_dir]).to_csv(index=False))


def record_skipped(cell, cell_dir: Path, reason: str):
    if cell_dir.exists():
        shutil.rmtree(cell_dir)
    records.write_json_record(cell_dir / schema.CONFIG_FILE, cell.config.to_dict())
    records.write_json_record(cell_dir / schema.SUMMARY_FILE,
                              {"status": schema.STATUS_SKIPPED, "reason": reason})


def cell_status(cell_dir: Path):
    try:
        return records.read_json_record(cell_dir / schema.SUMMARY_FILE).get("status")
    except BenchError:
        return None


def skip_reason(cell, gpus: int):
    """Why a cell cannot run on this machine, or None when it can."""
    device = cell.config.device
    if device != "cpu" and gpus == 0:
        return "no GPU visible to TensorFlow on this machine"
    if device.startswith("gpu:") and int(device[4:]) >= gpus:
        return f"{device} asked for; {gpus} GPU(s) visible"
    return None


class _Terminated(Exception):
    pass


def _raise_terminated(signum, frame):
    raise _Terminated(signum)


@contextlib.contextmanager
def interrupts_held(act_after=True):
    """Hold Ctrl-C and SIGTERM while the block writes records; then act on the first of them
    (act_after), or drop them.

    A finished cell's bookkeeping (its record, results.csv) must not stop half-way: an
    interrupt landing in a first import of numpy once left it half-loaded, so no results.csv
    could be written, and a cell record half-unpacked with its summary already `ok` would be
    kept by --resume with files missing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    held = []
    previous = {s: signal.signal(s, lambda signum, frame: held.append(signum))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if held and act_after:
        signal.raise_signal(held[0])  # now delivered to the handler the block held it from


def run_grid(spec, out_dir, *, resume=False, require_gpu=False, progress=None,
             backend=None) -> int:
    """Run every cell of the spec into out_dir; 0 if every cell is ok, 1 otherwise, 130 if stopped.

    `backend`: a launcher with gpus() and run(cells, run_dir, bar, finished); default the local
    one (bench.grid.local), or bench.grid.ray_backend.RayCells for a cluster. The backend calls
    finished(cell, record) as each cell ends, `record` writing the cell's record into run_dir and
    returning its status; run_grid calls it with interrupts held.
    """
    from bench.grid.local import LocalProcesses, count_gpus
    from bench.grid.progress import GridProgress

    out_dir = Path(out_dir)
    prepare_run_dir(spec, out_dir, resume)
    needs_gpu = require_gpu or any(c.config.device != "cpu" for c in spec.cells)
    if backend is not None:
        gpus = backend.gpus() if needs_gpu else 0
    else:
        gpus = count_gpus() if needs_gpu else 0
        backend = LocalProcesses(gpus)
    if require_gpu and gpus == 0:
        raise BenchError("this job needs a GPU, and TensorFlow sees none (is the NVIDIA driver "
                         "installed? is CUDA_VISIBLE_DEVICES set?); nothing was run")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_manifest(spec, out_dir)
    bar = progress or GridProgress(spec.cells, out_dir)
    todo = []
    for cell in spec.cells:
        cell_dir = out_dir / cell.id
        reason = skip_reason(cell, gpus)
        if resume and cell_status(cell_dir) == schema.STATUS_OK:
            bar.cell_done(cell, schema.STATUS_OK, resumed=True)
        elif reason:
            record_skipped(cell, cell_dir, reason)
            bar.cell_done(cell, schema.STATUS_SKIPPED)
        else:
            todo.append(cell)

    def finished(cell, record):
        with interrupts_held():
            status = record()
            bar.cell_done(cell, status)
            write_results_csv(out_dir)

    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        backend.run(todo, out_dir, bar, finished)
    except (KeyboardInterrupt, _Terminated):
        with interrupts_held(act_after=False):  # a second Ctrl-C must not lose results.csv
            bar.close()
            write_results_csv(out_dir)
        print(f"interrupted: finished cells are kept; rerun with --resume to finish "
              f"{out_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    bar.close()
    write_results_csv(out_dir)
    statuses = [cell_status(out_dir / c.id) for c in spec.cells]
    return 0 if all(s == schema.STATUS_OK for s in statuses) else 1
