"""Running a grid: the run directory's bookkeeping, whatever launcher runs the cells.

The manifest and each cell's record are written as the grid goes, and results.csv after every
cell, so an interrupted grid (Ctrl-C, SIGTERM, a killed machine) loses no finished cell;
`--resume` keeps cells whose summary is `ok` and reruns the rest from a clean directory. A
launcher (bench.grid.launchers) only runs cells and says when each has finished; everything written
around them is here and in bench.grid.cellrecord, so every launcher writes the same run directory.
"""

import contextlib
import datetime
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench import records, rundirs, schema
from bench.errors import BenchError
from bench.grid import lock
from bench.grid.cellrecord import (
    record_interrupted,
    record_skipped,
    set_aside,
    skip_reason,
    write_results_csv,
)
from bench.grid.emulation import emulation_skip_reason, emulation_warnings
from bench.grid.estimate import PartEstimate
from bench.machine import host_machine, with_fingerprint

ESTIMATES_FILE = "estimates.json"

EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class GridRun:
    """What a grid run left: its run directory and the grid's exit code (0 every cell ok, 1 a
    cell not ok, 130 interrupted)."""

    run_dir: Path
    exit_code: int


def default_run_dir(spec_path, runs_root=schema.RUNS_ROOT) -> Path:
    """runs/<spec file stem>/<date-time>: one directory per run of a spec."""
    return Path(runs_root) / Path(spec_path).stem / time.strftime("%Y%m%d-%H%M%S")


def latest_blocked(grid_dir: Path) -> str | None:
    """Why <grid dir>/latest cannot be pointed at a new run (something that is not a link is
    there: a copy that followed the link, say), or None."""
    link = grid_dir / schema.LATEST_LINK
    if link.is_symlink() or not link.exists():
        return None
    return (f"{link} is a {'directory' if link.is_dir() else 'file'}, not the link the grid "
            "keeps to the newest run, and is left as it is: `latest` is not updated (move it "
            "away to have it back)")


def point_latest(run_dir: Path) -> str | None:
    """Make <grid dir>/latest point at run_dir, replacing the old link atomically; why it could
    not (latest_blocked, or the file system's error), or None. Never raises: a finished run is
    not lost over its shortcut."""
    blocked = latest_blocked(run_dir.parent)
    if blocked:
        return blocked
    link = run_dir.parent / schema.LATEST_LINK
    tmp = run_dir.parent / f".{schema.LATEST_LINK}.tmp"
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(run_dir.name, tmp)
        os.replace(tmp, link)
    except OSError as e:
        return f"{link} not updated: {e}"
    return None


def _holds_records(out_dir: Path) -> bool:
    """Whether the directory holds anything but a grid's lock files."""
    return out_dir.exists() and any(p.name not in lock.FILES for p in out_dir.iterdir())


def prepare_run_dir(spec, out_dir: Path, resume: bool):
    if _holds_records(out_dir):
        if not resume:
            raise BenchError("run directory exists and is not empty; pass --resume to finish "
                             "it, or choose a new --out", path=out_dir)
        manifest_path = out_dir / schema.MANIFEST_FILE
        if not manifest_path.is_file():
            raise BenchError(f"--resume: no {schema.MANIFEST_FILE} here, so this is not a grid "
                             "run directory", path=out_dir)
        if rundirs.read_manifest(out_dir).get("spec") != spec.raw:
            raise BenchError("--resume: the grid spec differs from the one this run started "
                             "with; use a new --out for a changed spec", path=out_dir)
    elif resume:
        raise BenchError("--resume: nothing to resume here", path=out_dir)


def write_manifest(spec, out_dir: Path, resume: bool = False):
    """The run's manifest. A resumed run keeps the time it first started (the history orders
    nights by it) and adds this start to `resumed`."""
    from bench.cell.envinfo import harness_commit

    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    first, resumed = now, []
    if resume and (out_dir / schema.MANIFEST_FILE).is_file():
        earlier = rundirs.read_manifest(out_dir)
        if isinstance(earlier.get("started"), str):
            first, resumed = earlier["started"], [*(earlier.get("resumed") or []), now]
    records.write_json_record(out_dir / schema.MANIFEST_FILE, {
        "name": spec.name, "spec": spec.raw, "spec_path": spec.path,
        "started": first, **({"resumed": resumed} if resumed else {}),
        "harness": harness_commit(),
        "parts": [p for p in spec.parts if p is not None],  # those run (grid --parts)
        "cells": [{"id": c.id, "config": c.config.to_dict()} for c in spec.cells],
    })


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


def run_grid(spec, out_dir=None, *, resume=False, require_gpu=False, progress=None,
             launcher=None) -> GridRun:
    """Run every cell of the spec into out_dir (default: a new runs/<spec stem>/<date-time>, with
    runs/<spec stem>/latest pointed at it) with `launcher` (bench.grid.launchers; default the
    local one). BenchError, before anything runs, for a spec that cannot run here."""
    if out_dir is None:
        if resume:
            raise BenchError("--resume needs --out: the run directory to finish")
        out_dir = default_run_dir(spec.path)
        blocked = latest_blocked(out_dir.parent)
        if blocked:  # said before the cells run, and again at the end
            print(f"warning: {blocked}", file=sys.stderr)
        try:
            return _run(spec, out_dir, False, require_gpu, progress, launcher)
        finally:
            if out_dir.exists() and (why := point_latest(out_dir)):
                print(f"warning: {why}", file=sys.stderr)
    return _run(spec, Path(out_dir), resume, require_gpu, progress, launcher)


def _run(spec, out_dir: Path, resume, require_gpu, progress, launcher) -> GridRun:
    """The grid, holding its run directory (bench.grid.lock) from its first write to its last."""
    lock.check_out_dir(out_dir)
    if not (out_dir / lock.LOCK_FILE).exists():  # not a grid's: no lock file in a stranger's
        prepare_run_dir(spec, out_dir, resume)      # directory (a grid's says who holds it)
    created = not out_dir.exists()
    try:
        with lock.RunDirLock(out_dir) as held:
            prepare_run_dir(spec, out_dir, resume)  # again, now that no other grid can change it
            if held.took_over:
                print(f"took over the run directory's lock from {held.took_over}, which is no "
                      "longer running", file=sys.stderr)
            return _run_locked(spec, out_dir, resume, require_gpu, progress, launcher)
    finally:
        if created and out_dir.is_dir() and not _holds_records(out_dir):
            for name in lock.FILES:  # a run refused before it wrote anything leaves nothing
                (out_dir / name).unlink(missing_ok=True)
            out_dir.rmdir()


def _run_locked(spec, out_dir: Path, resume, require_gpu, progress, launcher) -> GridRun:
    from bench.grid.progress import GridProgress

    if launcher is None:
        from bench.grid.launchers import make_launcher

        launcher = make_launcher()
    refusal = launcher.refusal(spec.cells)
    if refusal:
        raise BenchError(refusal + "; nothing was run")
    needs_gpu = require_gpu or any(c.config.device != "cpu" for c in spec.cells)
    gpus = launcher.gpus() if needs_gpu else 0
    if require_gpu and gpus == 0:
        raise BenchError("this job needs a GPU, and TensorFlow (or JAX, where TensorFlow is "
                         "absent) sees none (is the NVIDIA driver installed? is "
                         "CUDA_VISIBLE_DEVICES set?); nothing was run")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_manifest(spec, out_dir, resume)
    bar = progress or GridProgress(spec.cells, out_dir)
    machine = host_machine()
    todo = []
    for cell in spec.cells:
        cell_dir = out_dir / cell.id
        reason = skip_reason(cell, gpus) or emulation_skip_reason(cell, machine)
        if resume and rundirs.cell_status(cell_dir) == schema.STATUS_OK:
            bar.cell_done(cell, schema.STATUS_OK, resumed=True)
        elif reason:
            record_skipped(cell, cell_dir, reason)
            bar.cell_done(cell, schema.STATUS_SKIPPED)
        else:
            set_aside(cell_dir)  # an earlier attempt (--resume): kept apart, never deleted
            todo.append(cell)
    for warning in emulation_warnings(todo, machine):
        bar.say(warning)
    # each part's estimate against what it took, as the grid goes (bench.grid.estimate)
    estimates, machine_fingerprint = [], with_fingerprint(machine)["fingerprint"]

    def finished(cell, record):
        with interrupts_held():
            status = record()
            bar.cell_done(cell, status)
            write_results_csv(out_dir)

    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        for part in spec.parts:
            cells = [c for c in todo if c.part == part]
            if cells:
                clock = time.time()  # the part's time includes measuring its estimate's rates
                plan = _estimate(out_dir, part, cells, launcher, bar)
                bar.part_started(part, cells, plan, calibration_seconds=time.time() - clock)
                launcher.run(cells, out_dir, bar, finished)
                bar.part_finished(part, time.time() - clock)
                if isinstance(plan, PartEstimate):
                    estimates.append(plan.to_record())
                    records.write_json_record(out_dir / ESTIMATES_FILE,
                                              {"machine": machine_fingerprint, "parts": estimates})
    except (KeyboardInterrupt, _Terminated) as stop:
        with interrupts_held(act_after=False):  # a second Ctrl-C must not lose results.csv
            how = "SIGTERM" if isinstance(stop, _Terminated) else "Ctrl-C (SIGINT)"
            for cell in todo:
                record_interrupted(out_dir / cell.id, f"its grid was stopped by {how}")
            bar.close(interrupted=True)
            write_results_csv(out_dir)
        print(f"interrupted: finished cells are kept; rerun with --resume to finish "
              f"{out_dir}", file=sys.stderr)
        return GridRun(out_dir, EXIT_INTERRUPTED)
    finally:
        signal.signal(signal.SIGTERM, previous)
    bar.close()
    write_results_csv(out_dir)
    statuses = [rundirs.cell_status(out_dir / c.id) for c in spec.cells]
    return GridRun(out_dir, 0 if all(s == schema.STATUS_OK for s in statuses) else 1)


def _estimate(out_dir: Path, part, cells, launcher, bar):
    """The part's estimate (bench.grid.estimate.PartEstimate), or a sentence saying why there
    is none."""
    from bench.grid.calibration import NoEstimate, plan_part

    parallel = launcher.parallel(cells)
    if parallel is None:
        return "no estimate: the cluster decides how many cells run at once"
    try:
        return plan_part(out_dir, part, cells, bar.durations, parallel)
    except NoEstimate as e:
        return f"no estimate: {e}"
