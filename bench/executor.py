"""Running a grid: one process per cell, CPU cells one at a time, GPU cells one per GPU.

The manifest and each cell's record are written as the grid goes, and results.csv after every
cell, so an interrupted grid (Ctrl-C, SIGTERM, a killed machine) loses no finished cell;
`--resume` keeps cells whose summary is `ok` and reruns the rest from a clean directory.
"""

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench import records, schema
from bench.devices import PINNED_ENV
from bench.errors import BenchError
from bench.worker import LAUNCHED_ENV

LOG_DIR = "logs"
EXIT_INTERRUPTED = 130


def count_gpus() -> int:
    """GPUs TensorFlow sees, asked in a child process so the grid never initialises CUDA itself."""
    code = "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise BenchError(f"could not ask TensorFlow for GPUs: {out.stderr.strip()[-500:]}")
    return int(out.stdout.strip().splitlines()[-1])


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
    from bench.envinfo import harness_commit

    records.write_json_record(out_dir / schema.MANIFEST_FILE, {
        "name": spec.name, "spec": spec.raw, "spec_path": spec.path,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "harness": harness_commit(),
        "cells": [{"id": c.id, "config": c.config.to_dict()} for c in spec.cells],
    })


def write_results_csv(out_dir: Path):
    from bench.results import load_results

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


class CellProcess:
    """A running cell: its process, its directory, and the GPU it holds (if any)."""

    def __init__(self, cell, cell_dir: Path, log_path: Path, gpu: int | None):
        self.cell, self.cell_dir, self.gpu = cell, cell_dir, gpu
        if cell_dir.exists():
            shutil.rmtree(cell_dir)  # a rerun starts clean: no stale steps from a killed attempt
        env = {**os.environ, LAUNCHED_ENV: repr(time.time())}
        if gpu is not None:
            env.update(CUDA_VISIBLE_DEVICES=str(gpu), **{PINNED_ENV: "1"})
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log_path, "w")
        self.started = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.worker", str(cell_dir),
             json.dumps(cell.config.to_dict())],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def finish(self) -> str:
        """Close the log; a process that died without a final summary is recorded as failed."""
        code = self.proc.wait()
        self.log.close()
        status = cell_status(self.cell_dir)
        if status in (None, schema.STATUS_RUNNING):
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            tail = Path(self.log.name).read_text(errors="replace")[-2000:]
            summary = {"status": schema.STATUS_FAILED,
                       "reason": f"cell process ended with {how} before finishing its record",
                       "log_tail": tail}
            records.write_json_record(self.cell_dir / schema.SUMMARY_FILE, summary)
            status = schema.STATUS_FAILED
        return status

    def terminate(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class _Terminated(Exception):
    pass


def _raise_terminated(signum, frame):
    raise _Terminated(signum)


def run_grid(spec, out_dir, *, resume=False, require_gpu=False, progress=None) -> int:
    """Run every cell of the spec into out_dir; 0 if every cell is ok, 1 otherwise, 130 if stopped."""
    from bench.progress import GridProgress

    out_dir = Path(out_dir)
    prepare_run_dir(spec, out_dir, resume)
    needs_gpu = require_gpu or any(c.config.device != "cpu" for c in spec.cells)
    gpus = count_gpus() if needs_gpu else 0
    if require_gpu and gpus == 0:
        raise BenchError("this job needs a GPU, and TensorFlow sees none (is the NVIDIA driver "
                         "installed? is CUDA_VISIBLE_DEVICES set?); nothing was run")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_manifest(spec, out_dir)
    bar = progress or GridProgress(spec.cells, out_dir)
    todo = []
    for cell in spec.cells:
        cell_dir = out_dir / cell.id
        if resume and cell_status(cell_dir) == schema.STATUS_OK:
            bar.cell_done(cell, schema.STATUS_OK, resumed=True)
        elif cell.config.device != "cpu" and gpus == 0:
            record_skipped(cell, cell_dir, "no GPU visible to TensorFlow on this machine")
            bar.cell_done(cell, schema.STATUS_SKIPPED)
        elif cell.config.device.startswith("gpu:") and int(cell.config.device[4:]) >= gpus:
            record_skipped(cell, cell_dir, f"{cell.config.device} asked for; {gpus} GPU(s) visible")
            bar.cell_done(cell, schema.STATUS_SKIPPED)
        else:
            todo.append(cell)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        _schedule(todo, out_dir, gpus, bar)
    except (KeyboardInterrupt, _Terminated):
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


def _schedule(todo, out_dir: Path, gpus: int, bar):
    """CPU cells one at a time (TensorFlow uses every core); GPU cells one per GPU at once."""
    pending = list(todo)
    running: list[CellProcess] = []
    try:
        while pending or running:
            busy = {p.gpu for p in running}
            cpu_busy = any(p.gpu is None for p in running)
            for cell in list(pending):
                gpu = _free_slot(cell.config.device, busy, cpu_busy, gpus)
                if gpu is False:
                    continue
                pending.remove(cell)
                running.append(CellProcess(cell, out_dir / cell.id,
                                           out_dir / LOG_DIR / f"{cell.id}.log", gpu))
                bar.cell_started(cell)
                busy.add(gpu)
                cpu_busy = cpu_busy or gpu is None
            for p in list(running):
                if p.proc.poll() is not None:
                    running.remove(p)
                    bar.cell_done(p.cell, p.finish())
                    write_results_csv(out_dir)
            bar.poll(running)
            time.sleep(0.2)
    finally:
        for p in running:
            p.terminate()


def _free_slot(device: str, busy: set, cpu_busy: bool, gpus: int):
    """The GPU index to run on, None for the CPU, or False when the cell must wait."""
    if device == "cpu":
        return False if cpu_busy or busy - {None} else None
    if cpu_busy:
        return False
    wanted = range(gpus) if device == "gpu" else [int(device[4:])]
    return next((g for g in wanted if g not in busy), False)
