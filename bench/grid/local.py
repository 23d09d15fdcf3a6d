"""The local launcher: one process per cell, CPU cells one at a time, GPU cells one per GPU.

Seeds packed in one program (a JAX part's `seeds_per_process = K`, bench.cell.jax_packed) share
one process: up to K cells of one configuration, differing only in seed, start and end together,
and each still gets its own directory and record.

TensorFlow's device placement, XLA and determinism settings are process-wide, and an
out-of-memory error or a crash must not take the grid down: each cell gets a fresh interpreter
(bench.grid.worker) that writes its record straight into the run directory. A process that dies
without finishing its record is recorded as `failed` with the tail of its log. A cell's process
dies with the grid process, whatever kills it (die_with_the_grid).
"""

import ctypes
import functools
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.cell import faults
from bench.cell.devices import PINNED_ENV
from bench.errors import BenchError
from bench.grid.cellrecord import add_to_summary, finished_status, log_path, set_aside
from bench.grid.worker import LAUNCHED_ENV

PR_SET_PDEATHSIG = 1  # prctl(2)


def die_with_the_grid(grid_pid: int):
    """Run in a cell's process before it starts: the kernel kills it when the grid process dies,
    by kill -9 too, so no cell outlives its grid to run beside a resumed one and write into the
    directory the resumed cell is given. Linux only; elsewhere a cell outlives a killed grid."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != grid_pid:  # the grid died before the line above: nobody to run for
        os._exit(1)


def visible_gpu_ids() -> list[str] | None:
    """The entries of this process's CUDA_VISIBLE_DEVICES (indices, GPU-... UUIDs, MIG-... ids),
    or None when it is not set (every GPU visible)."""
    value = os.environ.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return None
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def child_gpu(slot: int) -> str:
    """What a cell on GPU slot `slot` (TensorFlow's index in this process) is given as its
    CUDA_VISIBLE_DEVICES: the parent's own entry for that slot, so a user's
    CUDA_VISIBLE_DEVICES=4,5 puts the cells on physical GPUs 4 and 5 (and UUIDs and MIG ids pass
    through), never on GPUs 0 and 1 that someone else may be using."""
    ids = visible_gpu_ids()
    if ids is None:
        return str(slot)
    if slot >= len(ids):
        raise BenchError(f"GPU slot {slot} asked for, but CUDA_VISIBLE_DEVICES lists {len(ids)} "
                         f"device(s): {','.join(ids)}")
    return ids[slot]


def gpus_here() -> int:
    """GPUs the first framework installed here sees (bench.frameworks' order: TensorFlow, else
    JAX on the GPU machines that have only JAX), that framework started as a cell would start it.
    Run in a child process (`count_gpus`): it initialises CUDA."""
    import importlib.util

    from bench import frameworks
    from bench.cell.runtime import make_runtime
    from bench.imports import start_framework

    for facts in frameworks.FRAMEWORKS.values():
        if importlib.util.find_spec(facts.package) is not None:
            start_framework(facts.name)
            return make_runtime(facts.name).gpus_visible()
    raise BenchError("no framework is installed here: pip install -e "
                     f"'.[{frameworks.framework(frameworks.REFERENCE).extra}]'")


def count_gpus() -> int:
    """GPUs the installed framework sees (`gpus_here`), asked in a child process so the grid
    never initialises CUDA itself. (The test-only fault `gpus=N` answers N without asking:
    bench.cell.faults.)"""
    fake = faults.fake_gpu_count()
    if fake is not None:
        return fake
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", "from bench.grid.local import gpus_here; "
                          "print(gpus_here())"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise BenchError(f"could not ask the installed framework for GPUs: "
                         f"{out.stderr.strip()[-500:]}")
    return int(out.stdout.strip().splitlines()[-1])


def process_groups(cells) -> list[list]:
    """The cells in the groups that share a process, in the grid's order: one cell alone, or
    up to `seeds_per_process` cells of one part and configuration that differ only in seed."""
    groups, open_groups = [], {}
    for cell in cells:
        k = cell.config.seeds_per_process
        if k <= 1:
            groups.append([cell])
            continue
        key = (cell.part, json.dumps({**cell.config.to_dict(), "seed": None}, sort_keys=True))
        group = open_groups.get(key)
        if group is None or len(group) >= k:
            group = open_groups[key] = []
            groups.append(group)
        group.append(cell)
    return groups


class CellProcess:
    """A running cell process: its cells (one, or seeds packed in one program), their
    directories, and the GPU it holds (if any)."""

    def __init__(self, cells, run_dir: Path, gpu: int | None):
        self.cells, self.gpu = cells, gpu
        self.cell, self.cell_dir = cells[0], run_dir / cells[0].id  # what the progress bar shows
        self.concurrent = 1  # the most cells running on this host at once during its life
        for cell in cells:  # a rerun starts clean: an earlier attempt is kept apart
            set_aside(run_dir / cell.id)
        env = {**os.environ, LAUNCHED_ENV: repr(time.time())}
        if gpu is not None:
            env.update(CUDA_VISIBLE_DEVICES=child_gpu(gpu), **{PINNED_ENV: "1"})
        self.cuda_visible_devices = env.get("CUDA_VISIBLE_DEVICES")
        self.run_dir = run_dir
        log = log_path(run_dir, cells[0].id)  # a packed group's one log, named for its first seed
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log, "w")
        self.started = time.time()
        args = [a for c in cells for a in (str(run_dir / c.id), json.dumps(c.config.to_dict()))]
        # the parent-death signal fires when the thread that started the child ends: this is
        # the thread that waits for every cell of the grid (LocalProcesses.run)
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.grid.worker", *args],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=functools.partial(die_with_the_grid,
                                                                  os.getpid()))

    def finish_cell(self, cell) -> str:
        """One of its cells' status once the process has ended; a cell without a final summary
        is recorded as failed. Where it ran and beside how many other cells goes into its
        summary."""
        code = self.proc.wait()
        self.log.close()
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        cell_dir = self.run_dir / cell.id
        status = finished_status(cell_dir, how, Path(self.log.name), code)
        add_to_summary(cell_dir, concurrent_cells=self.concurrent, placement={
            "launcher": "local", "host": platform.node(),
            "cuda_visible_devices": self.cuda_visible_devices, "log": Path(self.log.name).name})
        return status

    def terminate(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class LocalProcesses:
    """Runs cells as local processes (a bench.grid.launchers.Launcher); `run` returns when every
    cell has finished."""

    def __init__(self):
        self._gpus = None

    def gpus(self) -> int:
        """GPUs TensorFlow sees on this machine, asked once."""
        if self._gpus is None:
            self._gpus = count_gpus()
        return self._gpus

    def refusal(self, cells) -> None:
        return None  # every cell, seeds packed in one program included

    def parallel(self, cells) -> int:
        """CPU cells one at a time; GPU cells one per GPU."""
        gpu_cells = [c for c in cells if c.config.device != "cpu"]
        return max(1, min(self.gpus(), len(gpu_cells))) if gpu_cells else 1

    def run(self, cells, run_dir: Path, bar, finished):
        """Run `cells` into run_dir; finished(cell, record) is called as each cell's process
        ends, `record` completing its record. CPU cells one at a time (TensorFlow uses every
        core); GPU cells one per GPU."""
        pending = process_groups(cells)
        running: list[CellProcess] = []
        try:
            while pending or running:
                busy = {p.gpu for p in running}
                cpu_busy = any(p.gpu is None for p in running)
                for group in list(pending):
                    gpu = self._free_slot(group[0].config.device, busy, cpu_busy)
                    if gpu is False:
                        continue
                    pending.remove(group)
                    running.append(CellProcess(group, run_dir, gpu))
                    for cell in group:
                        bar.cell_started(cell)
                    busy.add(gpu)
                    cpu_busy = cpu_busy or gpu is None
                for p in running:  # neighbours change a host-bound cell's images/s
                    p.concurrent = max(p.concurrent, sum(len(q.cells) for q in running))
                for p in list(running):
                    if p.proc.poll() is not None:
                        running.remove(p)
                        for cell in p.cells:
                            finished(cell, functools.partial(p.finish_cell, cell))
                bar.poll(running)
                time.sleep(0.2)
        finally:
            for p in running:
                p.terminate()

    def _free_slot(self, device: str, busy: set, cpu_busy: bool):
        """The GPU index to run on, None for the CPU, or False when the cell must wait."""
        if device == "cpu":
            return False if cpu_busy or busy - {None} else None
        if cpu_busy:
            return False
        wanted = range(self.gpus()) if device == "gpu" else [int(device[4:])]
        return next((g for g in wanted if g not in busy), False)
